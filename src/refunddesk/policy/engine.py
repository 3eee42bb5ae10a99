"""assess(policy, facts, as_of=…) → Assessment: is a refund due, how much, from which
payments, to where, and why.

Every line of the order is judged on its own: exclusions first, then the first rule whose
conditions, window and quota hold. Amounts are exact integer fractions of the currency's
minor unit until the one rounding step per line (half-up); the line's refund is then split
back over the payments that funded it, in proportion, losing no cent.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from refunddesk.policy.assessment import AllocationEntry, Assessment, LineResult, Step
from refunddesk.policy.calendar import (
    add_months,
    calendar_year_bounds,
    same_calendar_month,
    window_end,
)
from refunddesk.policy.consumption import Consumed, consumed_amount
from refunddesk.policy.facts import FactsError, LineFacts, OrderFacts, read_facts
from refunddesk.policy.money import allocate, format_amount, round_half_up
from refunddesk.policy.schema import Conditions, Policy, Rule

HANDLING_ORDER = {"approve": 0, "review": 1, "suggest": 2}


class AssessmentError(ValueError):
    """The request cannot be assessed as asked (unknown line, naive time, bad facts)."""


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


@dataclass(slots=True)
class _Funded:
    """One payment's share of one line."""

    payment: int  # index into facts.payments
    funding: str
    amount: int


def assess(policy: Policy, facts: dict[str, Any] | OrderFacts, *, as_of: datetime,
           lines: Iterable[str] | None = None) -> Assessment:
    if as_of.tzinfo is None:
        raise AssessmentError("as_of needs a time zone")
    try:
        order = facts if isinstance(facts, OrderFacts) else read_facts(facts)
    except FactsError as error:
        raise AssessmentError(str(error)) from None
    wanted = _requested_lines(order, lines)
    run = _Run(policy, order, as_of)
    results = [run.line(line) for line in order.lines if line.id in wanted]
    return run.finish(results)


def _requested_lines(order: OrderFacts, lines: Iterable[str] | None) -> set[str]:
    known = [line.id for line in order.lines]
    if lines is None:
        return set(known)
    wanted = set(lines)
    unknown = sorted(wanted - set(known))
    if unknown:
        raise AssessmentError(f"lines: no line {', '.join(unknown)} in order {order.id} "
                              f"(it has {', '.join(known)})")
    if not wanted:
        raise AssessmentError("lines: choose at least one line")
    return wanted


class _Run:
    """The state of one assessment: facts, the clock, steps, and quota already granted."""

    def __init__(self, policy: Policy, order: OrderFacts, as_of: datetime):
        self.policy = policy
        self.order = order
        self.as_of = as_of
        self.tz = _zone(policy.time_zone)
        self.currency = order.currency
        self.steps: list[Step] = [Step("order", {
            "order": order.id, "as_of": self.when(as_of), "policy": policy.ref})]
        self.granted: dict[tuple[str, str], int] = {}
        self.funded = self._spread_payments()
        self.allocation: dict[int, int] = {}

    def money(self, minor: int) -> str:
        return f"{format_amount(minor, self.currency)} {self.currency}"

    def when(self, moment: datetime) -> str:
        return moment.astimezone(self.tz).strftime("%Y-%m-%d %H:%M:%S %z")

    def _spread_payments(self) -> dict[str, list[_Funded]]:
        # Each payment is spread over all the order's lines in proportion to what each line
        # cost, largest remainder first, so every cent of every payment sits on one line.
        weights = [line.amount_paid for line in self.order.lines]
        funded: dict[str, list[_Funded]] = {line.id: [] for line in self.order.lines}
        for index, payment in enumerate(self.order.payments):
            if not any(weights):
                break
            shares = allocate(payment.amount, weights)
            for line, share in zip(self.order.lines, shares, strict=True):
                if share:
                    funded[line.id].append(_Funded(index, payment.funding, share))
        return funded

    # -- one line -------------------------------------------------------------------------

    def line(self, line: LineFacts) -> LineResult:
        for exclusion in self.policy.exclusions:
            if self.holds(exclusion.when, line):
                self.steps.append(Step("line.excluded", {"line": line.id,
                                                         "reason": exclusion.reason}))
                return LineResult.refused(line.id, exclusion.reason)
        for rule in self.policy.rules:
            if self.holds(rule.when, line) and self.in_window(rule, line) and self.has_quota(
                    rule, line):
                return self.apply(rule, line)
        self.steps.append(Step("line.excluded", {"line": line.id, "reason": "no_rule"}))
        return LineResult.refused(line.id, "no_rule")

    def holds(self, when: Conditions, line: LineFacts) -> bool:
        order = self.order
        if when.kind is not None and order.kind not in when.kind:
            return False
        if when.channel is not None and order.channel not in when.channel:
            return False
        if when.billing is not None and line.billing not in when.billing:
            return False
        if when.category is not None and line.category not in when.category:
            return False
        if when.product is not None and line.product not in when.product:
            return False
        if when.flags_any is not None and not line.flags.intersection(when.flags_any):
            return False
        if when.flags_none is not None and line.flags.intersection(when.flags_none):
            return False
        if when.invoiced is not None and order.invoiced != when.invoiced:
            return False
        if when.started is not None and self.has_started(line) != when.started:
            return False
        return when.first_purchase is None or self.is_first_purchase(line) == when.first_purchase

    def has_started(self, line: LineFacts) -> bool:
        return line.start is not None and self.as_of >= line.start

    def is_first_purchase(self, line: LineFacts) -> bool:
        return not any(o.product == line.product and o.placed_at < self.order.placed_at
                       and o.id != self.order.id for o in self.order.orders)

    def in_window(self, rule: Rule, line: LineFacts) -> bool:
        window = rule.window
        if window is None:
            return True
        start = self.order.placed_at if window.start == "placed_at" else line.start
        if start is None:
            self.steps.append(Step("rule.no_start", {"line": line.id, "rule": rule.id}))
            return False
        length = window.length
        if length.is_exact:
            if window.calendar_days:
                end = window_end(start, days=length.count, calendar_days=True, tz=self.tz)
            else:
                end = start + timedelta(seconds=length.seconds)
        else:
            end = window_end(start, months=length.months, tz=self.tz)
        inclusive = window.end == "inclusive" and not window.calendar_days
        # A request before the window opens (a service not yet started) is inside it: the
        # window limits how late a customer may ask, not how early.
        inside = self.as_of <= end if inclusive else self.as_of < end
        if inside and window.same_calendar_month and not same_calendar_month(
                start, self.as_of, self.tz):
            self.steps.append(Step("rule.month_passed", {"line": line.id, "rule": rule.id,
                                                         "start": self.when(start)}))
            return False
        if not inside:
            self.steps.append(Step("rule.window_closed", {
                "line": line.id, "rule": rule.id, "from": window.start,
                "length": str(length), "end": self.when(end)}))
        return inside

    def has_quota(self, rule: Rule, line: LineFacts) -> bool:
        quota = rule.quota
        if quota is None:
            return True
        counted = set(quota.rules or [rule.id])
        scope = line.product if quota.per == "product" else "*"
        earlier = [r for r in self.order.refunds if r.rule in counted
                   and (quota.per == "account" or r.product == line.product)]
        if quota.period == "calendar_year":
            start, end = calendar_year_bounds(self.as_of, self.tz)
            in_period = [r for r in earlier if start <= r.at < end]
        elif quota.period == "rolling_months":
            since = add_months(self.as_of, -(quota.months or 0))
            in_period = [r for r in earlier if since < r.at <= self.as_of]
        else:
            in_period = earlier
        granted = self.granted.get((rule.id, scope), 0)
        used = len(in_period) + granted
        lifetime = len(earlier) + granted
        if used >= quota.count or (quota.lifetime_max is not None
                                   and lifetime >= quota.lifetime_max):
            self.steps.append(Step("rule.quota_used", {
                "line": line.id, "rule": rule.id, "used": used, "count": quota.count,
                "per": quota.per, "period": quota.period, "months": quota.months or 0,
                "lifetime": lifetime, "lifetime_max": quota.lifetime_max or 0}))
            return False
        self.granted[(rule.id, scope)] = granted + 1
        return True

    def apply(self, rule: Rule, line: LineFacts) -> LineResult:
        self.steps.append(Step("rule.applies", {"line": line.id, "rule": rule.id}))
        shares = [f for f in self.funded[line.id] if f.funding in rule.funding]
        eligible = sum(f.amount for f in shares)
        kept = sum(f.amount for f in self.funded[line.id]) - eligible
        self.steps.append(Step("line.eligible", {
            "line": line.id, "eligible": self.money(eligible), "kept": self.money(kept),
            "funding": ", ".join(rule.funding)}))
        started = self.has_started(line)
        consumed = Consumed.nothing()
        fee_n, fee_d = 0, 1
        if not started:
            self.steps.append(Step("line.not_started", {"line": line.id}))
        else:
            consumed = consumed_amount(rule, line, eligible, self.as_of, self.tz, self.steps,
                                       self.money)
            if consumed.cap is not None:
                eligible = min(eligible, consumed.cap)
            fee_n, fee_d = self.fee(rule, line, eligible)
        # Exact: eligible − consumed − fee, over a common denominator; rounded once.
        denominator = consumed.denominator * fee_d
        exact = (eligible * denominator - consumed.numerator * fee_d
                 - fee_n * consumed.denominator)
        refund = max(0, round_half_up(exact, denominator))
        fee = round_half_up(fee_n, fee_d)
        shown_consumed = (eligible - fee - refund if refund
                          else round_half_up(consumed.numerator, consumed.denominator))
        self.steps.append(Step("line.refund" if exact > 0 else "line.refund_floored", {
            "line": line.id, "eligible": self.money(eligible),
            "consumed": self.money(shown_consumed), "fee": self.money(fee),
            "refund": self.money(refund)}))
        for share, amount in zip(shares, allocate(refund, [f.amount for f in shares]) if shares
                                 else [], strict=True):
            self.allocation[share.payment] = self.allocation.get(share.payment, 0) + amount
        return LineResult(line.id, rule.id, rule.outcome, refund, eligible, shown_consumed,
                          fee, None, shown_consumed == 0 and fee == 0, rule.documents)

    def fee(self, rule: Rule, line: LineFacts, eligible: int) -> tuple[int, int]:
        fee = rule.fee
        if fee is None:
            return 0, 1
        base = eligible if fee.base == "refundable" else line.amount_paid
        percent = fee.percent
        for band in fee.bands:
            if band.term is not None and not _term_matches(band.term.months if not
                                                           band.term.is_exact else None, line):
                continue
            if band.used_up_to is not None and line.start is not None:
                limit = (line.start + timedelta(seconds=band.used_up_to.seconds)
                         if band.used_up_to.is_exact
                         else add_months(line.start.astimezone(self.tz),
                                         band.used_up_to.months))
                if self.as_of > limit:
                    continue
            percent = band.percent
            break
        if percent is None or percent == 0:
            return 0, 1
        numerator, denominator = base * percent.numerator, percent.denominator * 100
        self.steps.append(Step("line.fee", {
            "line": line.id, "percent": _percent(percent), "base": self.money(base),
            "fee": self.money(round_half_up(numerator, denominator))}))
        return numerator, denominator

    # -- the whole request ----------------------------------------------------------------

    def finish(self, results: list[LineResult]) -> Assessment:
        total = sum(r.refund for r in results)
        granted = [r for r in results if r.excluded is None]
        handling = max((r.handling for r in granted), key=HANDLING_ORDER.__getitem__,
                       default="approve")
        if total == 0:
            outcome, handling = "none", ("reject" if not granted else handling)
        elif all(r.is_whole for r in results):
            outcome = "full"
        else:
            outcome = "partial"
        entries = self.allocate(total)
        documents = list(dict.fromkeys(d for r in granted for d in r.documents))
        threshold = (self.policy.four_eyes_above or {}).get(self.currency)
        self.steps.append(Step("total", {"total": self.money(total)}))
        self.steps.append(Step(f"handling.{handling}", {}))
        return Assessment(
            policy=self.policy, as_of=self.as_of, outcome=outcome,
            rule=granted[0].rule if granted else None, handling=handling,
            currency=self.currency, total=total, lines=results, allocation=entries,
            documents_required=documents,
            needs_four_eyes=threshold is not None and total > threshold,
            steps=self.steps,
        )

    def allocate(self, total: int) -> list[AllocationEntry]:
        destination = self.policy.destination
        cash_route = destination.cash
        if self.order.invoiced and destination.invoiced is not None:
            cash_route = destination.invoiced
        entries = []
        for index in sorted(self.allocation):
            amount = self.allocation[index]
            if not amount:
                continue
            payment = self.order.payments[index]
            fallback = destination.fallback if cash_route == "original" else None
            route: str
            if payment.funding == "cash":
                route = cash_route
                if route == "original" and payment.method in destination.unavailable_methods:
                    route, fallback = destination.fallback or "balance", None
            else:
                route, fallback = payment.funding, None  # balance, gift, voucher: in kind
            entries.append(AllocationEntry(payment.id, payment.method, payment.funding, route,
                                           amount, fallback))
            self.steps.append(Step("allocation", {
                "payment": payment.id, "method": payment.method,
                "destination": route, "amount": self.money(amount)}))
        return entries


def _term_matches(months: int | None, line: LineFacts) -> bool:
    return months is not None and line.term_months == months


def _percent(value: Fraction) -> str:
    text = format(Decimal(value.numerator) / Decimal(value.denominator), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text
