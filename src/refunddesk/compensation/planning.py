"""The dry run: every line a run would compensate, with what it gets, and every line the
selection matched that gets nothing, with why — worked out from the billing mirror, the
cases and the other runs in a handful of queries whatever the number of lines.

The dry run of a run is stored as its items (actions.dry_run); the run then compensates
exactly those, so the run's cases, lines and totals per currency are the dry run's. What
may still differ is said when the run meets it, never hidden: a line another run
compensated since (for an overlapping outage), or an order whose payments were refunded
meanwhile, is skipped with its reason.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Q, QuerySet, Sum
from django.utils import timezone

from refunddesk.billing.models import OrderLine, Payment
from refunddesk.cases.assessing import GRANTED_STATES
from refunddesk.cases.models import CaseLine
from refunddesk.compensation import remedies
from refunddesk.compensation.explaining import LineFacts, both
from refunddesk.compensation.models import CompensationItem, ItemState
from refunddesk.compensation.remedies import LineInput, Outcome, Remedy, Window, evaluate
from refunddesk.compensation.selection import Selection, candidates
from refunddesk.compensation.states import HOLDING_STATES
from refunddesk.payouts.models import Payout, still_owed
from refunddesk.policies.store import current_policy
from refunddesk.policy.money import format_amount
from refunddesk.policy.schema import PolicyError

# How many lines of each kind the dry run shows with their sentences.
SAMPLE = 10

COLUMNS = ("pk", "order_id", "order__account_id", "order__currency", "order__external_id",
           "line_id", "sku", "billing", "amount_paid_minor", "service_start", "service_end",
           "flags", "product__policy_id", "product__name_zh", "product__name_en", "order__channel")


@dataclass
class PlannedLine:
    line_id: int  # the OrderLine's primary key
    order_id: int
    account_id: int
    policy_id: str
    facts: LineFacts
    outcome: Outcome
    is_capped: bool = False
    reason_ref: str = ""

    @property
    def is_included(self) -> bool:
        return self.outcome.is_included

    @property
    def currency(self) -> str:
        return self.facts.currency

    def sentences(self, remedy: Remedy) -> dict[str, str]:
        return both(self.facts, self.outcome, remedy, is_capped=self.is_capped,
                    reason_ref=self.reason_ref)


@dataclass
class Plan:
    remedy: Remedy
    lines: list[PlannedLine] = field(default_factory=list)

    @property
    def included(self) -> list[PlannedLine]:
        return [line for line in self.lines if line.is_included]

    def figures(self) -> dict[str, Any]:
        """What the dry run says in numbers: customers, cases, lines, totals per currency
        (never summed across them), lines extended, and the lines left out by reason."""
        return figures_of(
            [(line.account_id, line.order_id, line.policy_id, line.currency,
              line.outcome.amount, line.outcome.extended_to is not None, line.is_capped)
             for line in self.included],
            Counter(line.outcome.excluded for line in self.lines if not line.is_included))

    def samples(self, count: int = SAMPLE) -> list[dict[str, Any]]:
        """The first lines included and the first left out, each with its sentence in
        both languages."""
        chosen = self.included[:count] + [line for line in self.lines
                                          if not line.is_included][:count]
        return [sample(line.facts, line.is_included, line.sentences(self.remedy))
                for line in chosen]


def sample(facts: LineFacts, is_included: bool, sentences: dict[str, str]) -> dict[str, Any]:
    return {"order": facts.order, "line": facts.line, "included": is_included,
            "zh_hans": sentences["zh-hans"], "en": sentences["en"]}


def figures_of(included: Iterable[tuple[int, int, str, str, int, bool, bool]],
               excluded: Counter[str]) -> dict[str, Any]:
    """Figures from the included lines, each (account, order, policy, currency, amount,
    is_extended, is_capped), and the count of lines left out by reason."""
    customers, cases, lines, extended, capped = set(), set(), 0, 0, 0
    totals: dict[str, int] = defaultdict(int)
    for account, order, policy, currency, amount, is_extended, is_capped in included:
        customers.add(account)
        cases.add((account, order, policy))
        lines += 1
        totals[currency] += amount
        extended += is_extended
        capped += is_capped
    return {"customers": len(customers), "cases": len(cases), "lines": lines,
            "totals": {currency: format_amount(minor, currency)
                       for currency, minor in sorted(totals.items()) if minor},
            "extended": extended, "capped": capped,
            "excluded": dict(sorted(excluded.items()))}


def plan(selection: Selection, window: Window, remedy: Remedy, *, now: datetime,
         run_id: int | None = None) -> Plan:
    """The dry run of a selection, window and remedy at `now`; `run_id` is the run it is
    for (its own lines never count as compensated elsewhere)."""
    found = candidates(selection, window)
    rows = [dict(zip(COLUMNS, row, strict=True)) for row in
            found.order_by("order__account_id", "order_id", "position", "pk")
            .values_list(*COLUMNS)]
    rows = [row for row in rows if selection.matches(row["sku"], row["flags"])]
    ended = _ended_by_refunds(found)
    elsewhere = _compensated_elsewhere(found, window, run_id)
    policies = _usable_policies({row["product__policy_id"] for row in rows})
    result = Plan(remedy)
    for row in rows:
        end = row["service_end"]
        refund_end = ended.get(row["pk"])
        effective = min(end, refund_end) if end and refund_end else (refund_end or end)
        outcome = evaluate(LineInput(row["billing"], row["order__currency"],
                                     row["amount_paid_minor"], row["service_start"], end,
                                     effective), window, remedy, now=now)
        reason_ref = ""
        if outcome.is_included and row["pk"] in elsewhere:
            outcome = Outcome(outcome.affected, excluded=remedies.ALREADY_COMPENSATED)
            reason_ref = str(elsewhere[row["pk"]])
        elif (outcome.is_included and remedy.kind == remedies.REFUND_TIME
              and row["order__channel"] in remedies.STORE_CHANNELS):
            outcome = Outcome(outcome.affected, excluded=remedies.STORE_PURCHASE)
        elif outcome.is_included and row["product__policy_id"] not in policies:
            outcome = Outcome(outcome.affected, excluded=remedies.NO_POLICY)
        result.lines.append(PlannedLine(
            row["pk"], row["order_id"], row["order__account_id"], row["product__policy_id"],
            LineFacts(row["order__external_id"], row["line_id"], row["sku"],
                      row["product__name_zh"], row["product__name_en"],
                      row["order__currency"], row["amount_paid_minor"],
                      row["service_start"], end),
            outcome, reason_ref=reason_ref))
    if remedy.is_money:
        _cap_to_what_is_left(result, found)
    return result


def _ended_by_refunds(found: QuerySet[OrderLine]) -> dict[int, datetime]:
    """The earliest end an approved refund set for each line's service."""
    ends: dict[int, datetime] = {}
    for line_id, at in (CaseLine.objects.filter(order_line__in=found.values("pk"),
                                                case__state__in=GRANTED_STATES,
                                                service_ends_at__isnull=False)
                        .values_list("order_line_id", "service_ends_at")):
        if at is None:
            continue  # left out by the query; its type cannot say so
        if line_id not in ends or at < ends[line_id]:
            ends[line_id] = at
    return ends


def compensated_elsewhere(lines: Q, window: Window, run_id: int | None) -> QuerySet[Any]:
    """Items of other runs for an overlapping outage that compensated these lines, or are
    promised to (an approved run's lines still to do)."""
    items = (CompensationItem.objects.filter(lines)
             .filter(run__outage_start__lt=window.end, run__outage_end__gt=window.start)
             .filter(Q(state=ItemState.DONE)
                     | Q(state=ItemState.PENDING, run__state__in=HOLDING_STATES)))
    if run_id is not None:
        items = items.exclude(run_id=run_id)
    return items


def _compensated_elsewhere(found: QuerySet[OrderLine], window: Window,
                           run_id: int | None) -> dict[int, int]:
    return dict(compensated_elsewhere(Q(order_line__in=found.values("pk")), window, run_id)
                .order_by("run_id").values_list("order_line_id", "run_id"))


def _usable_policies(policy_ids: Iterable[str]) -> set[str]:
    usable = set()
    for policy_id in policy_ids:
        if not policy_id:
            continue
        try:
            current_policy(policy_id, at=timezone.now())
        except PolicyError:
            continue
        usable.add(policy_id)
    return usable


def left_to_refund(order_ids: QuerySet[Any] | Iterable[int]) -> dict[int, int | None]:
    """What each order's payments have left to refund (None: the order has no payment),
    counted as payouts/planned.py counts it: every payout that moved or may move money,
    a failed one too until finance replaced it."""
    paid = dict(Payment.objects.filter(order_id__in=order_ids).values("order_id")
                .annotate(total=Sum("amount_minor")).values_list("order_id", "total"))
    out = dict(Payout.objects.filter(payment__order_id__in=order_ids)
               .filter(still_owed())
               .values("payment__order_id").annotate(total=Sum("amount_minor"))
               .values_list("payment__order_id", "total"))
    return {order_id: total - out.get(order_id, 0) for order_id, total in paid.items()}


def _cap_to_what_is_left(result: Plan, found: QuerySet[OrderLine]) -> None:
    left = left_to_refund(found.values("order_id"))
    by_order: dict[int, list[PlannedLine]] = defaultdict(list)
    for line in result.included:
        by_order[line.order_id].append(line)
    for order_id, lines in by_order.items():
        room = left.get(order_id)
        if room is None:
            for line in lines:
                line.outcome = Outcome(line.outcome.affected, excluded=remedies.NO_PAYMENT)
            continue
        for line, amount in zip(lines, remedies.cap([line.outcome.amount for line in lines],
                                                    room), strict=True):
            if amount == line.outcome.amount:
                continue
            if amount == 0:
                line.outcome = Outcome(line.outcome.affected, excluded=remedies.NOTHING_LEFT)
            else:
                line.outcome = Outcome(line.outcome.affected, amount=amount)
                line.is_capped = True
