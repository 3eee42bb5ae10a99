"""What a draft policy would have decided: every case of a period assessed again under it,
beside what was decided then.

Each case is assessed from the facts it was assessed with: its order as the billing mirror
holds it, the lines it asked for, at the moment it was submitted, with the refunds the
account had been granted by then (cases opened before it; a case opened in the same
submission a moment earlier counts, as it did). Simulating the version a case was assessed
with gives the case's own figures back, which the tests hold to.

Nothing is written: the simulator reads cases and orders and returns figures."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta, tzinfo

from django.db.models import Exists, OuterRef, Prefetch, QuerySet

from refunddesk.billing.facts import facts_of_orders, orders_of_accounts
from refunddesk.cases.assessing import granted_lines, history_entry
from refunddesk.cases.models import CaseLine, Channel, RefundCase
from refunddesk.policy.assessment import Assessment, AssessmentError
from refunddesk.policy.engine import assess
from refunddesk.policy.facts import RefundHistory
from refunddesk.policy.schema import Policy, PolicyError

# Cases read and assessed together: their orders and the history of their accounts in a
# few queries.
CHUNK = 500


@dataclass(frozen=True)
class Figures:
    """What one assessment gave a case: enough to tell whether a draft changes it."""

    outcome: str
    rule: str
    total: int
    lines: tuple[tuple[str, str, int], ...]  # (line id, rule, refund), in the case's order

    @classmethod
    def of_assessment(cls, assessment: Assessment) -> Figures:
        return cls(assessment.outcome, assessment.rule or "", assessment.total,
                   tuple((line.id, line.rule or "", line.refund) for line in assessment.lines))


@dataclass(frozen=True)
class Change:
    """A case the draft decides differently (or cannot assess: `error`)."""

    case_id: int
    tracking_number: str
    currency: str
    before: Figures
    after: Figures | None
    assessment: Assessment | None = None
    error: str = ""


@dataclass
class Simulation:
    policy_ref: str
    start: date
    end: date
    cases: int = 0
    changes: list[Change] = field(default_factory=list)
    # currency → [before, after], in minor units
    totals: dict[str, list[int]] = field(default_factory=dict)
    # (currency, rule) → [before, after], per line
    rules: dict[tuple[str, str], list[int]] = field(default_factory=dict)

    @property
    def changed(self) -> int:
        return len(self.changes)

    def count(self, before: Figures, after: Figures | None, currency: str) -> None:
        self.cases += 1
        total = self.totals.setdefault(currency, [0, 0])
        total[0] += before.total
        for _line, rule, refund in before.lines:
            self.rules.setdefault((currency, rule), [0, 0])[0] += refund
        if after is not None:
            total[1] += after.total
            for _line, rule, refund in after.lines:
                self.rules.setdefault((currency, rule), [0, 0])[1] += refund


def cases_to_simulate(policy_id: str, start: date, end: date, tz: tzinfo, *,
                      product: str = "") -> QuerySet[RefundCase]:
    """The cases submitted from `start` to `end` (both included, days in `tz`) that were
    assessed under some version of the policy, oldest first. A mass compensation's cases
    (channel bulk) name the policy only for their payouts: no policy assessed them."""
    cases = RefundCase.objects.exclude(channel=Channel.BULK).filter(
        policy_ref__startswith=f"{policy_id}@",
        submitted_at__gte=datetime.combine(start, time.min, tz),
        submitted_at__lt=datetime.combine(end + timedelta(days=1), time.min, tz))
    if product:
        cases = cases.filter(Exists(CaseLine.objects.filter(
            case=OuterRef("pk"), order_line__product__code=product)))
    return cases.order_by("pk")


def simulate(draft: Policy, *, start: date, end: date, tz: tzinfo, product: str = "",
             progress: Callable[[int, int], None] | None = None) -> Simulation:
    """Assess every case of the period again under `draft`; `progress(done, total)` is
    called after each chunk."""
    if end < start:
        raise ValueError("the period ends before it starts")
    result = Simulation(draft.ref, start, end)
    ids = list(cases_to_simulate(draft.id, start, end, tz, product=product)
               .values_list("pk", flat=True))
    for offset in range(0, len(ids), CHUNK):
        _simulate_chunk(draft, ids[offset:offset + CHUNK], result)
        if progress is not None:
            progress(min(offset + CHUNK, len(ids)), len(ids))
    return result


def _simulate_chunk(draft: Policy, ids: Sequence[int], result: Simulation) -> None:
    lines = Prefetch("lines", CaseLine.objects.select_related("order_line").order_by("pk"))
    cases = list(RefundCase.objects.filter(pk__in=ids).order_by("pk")
                 .only("pk", "tracking_number", "account_id", "order_id", "currency",
                       "submitted_at", "assessment", "assessed_total_minor")
                 .prefetch_related(lines))
    # The orders' facts straight from rows: no model instance per order, line or payment.
    orders = facts_of_orders({case.order_id for case in cases})
    accounts = {case.account_id for case in cases}
    history = _history_by_account(accounts)
    other_orders = orders_of_accounts(accounts)
    for case in cases:
        before = _figures_of_case(case)
        after: Figures | None = None
        assessment = None
        error = ""
        try:
            facts = replace(
                orders[case.order_id],
                refunds=[refund for case_id, refund in history.get(case.account_id, ())
                         if case_id < case.pk],
                orders=other_orders[case.account_id].without(case.order_id))
            assessment = assess(draft, facts, as_of=case.submitted_at,
                                lines=[line_id for line_id, _rule, _refund in before.lines])
            after = Figures.of_assessment(assessment)
        except (AssessmentError, PolicyError) as failure:
            error = str(failure)
        result.count(before, after, case.currency)
        if after != before:
            result.changes.append(Change(case.pk, case.tracking_number, case.currency,
                                         before, after, assessment, error))


def _figures_of_case(case: RefundCase) -> Figures:
    return Figures(case.assessment.get("outcome", ""), case.assessment.get("rule") or "",
                   case.assessed_total_minor,
                   tuple((line.order_line.line_id, line.rule, line.assessed_minor)
                         for line in case.lines.all()))


def _history_by_account(account_ids: Iterable[int]
                        ) -> dict[int, list[tuple[int, RefundHistory]]]:
    """The refunds granted to each account, with the case that got them."""
    history: dict[int, list[tuple[int, RefundHistory]]] = {}
    for case_id, account_id, *entry in granted_lines(account_ids):
        history.setdefault(account_id, []).append((case_id, history_entry(*entry)))
    return history
