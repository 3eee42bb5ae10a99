"""assess(policy, facts, as_of=…) → Assessment: is a refund due, how much, from which
payments, to where, and why.

Every line of the order is judged on its own: exclusions first, then the first rule whose
conditions, window and quota hold. Amounts are exact integer fractions of the currency's
minor unit until the one rounding step per line (half-up); the line's refund is then split
back over the payments that funded it, in proportion, losing no cent.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

from refunddesk.policy.assessment import (
    AllocationEntry,
    Assessment,
    AssessmentError,
    LineResult,
    Step,
)
from refunddesk.policy.calendar import (
    add_months,
    calendar_year_bounds,
    same_calendar_month,
    window_end,
)
from refunddesk.policy.consumption import consumed_amount
from refunddesk.policy.facts import FactsError, LineFacts, OrderFacts, payments_mismatch
from refunddesk.policy.facts_reading import read_facts
from refunddesk.policy.money import allocate, round_half_up
from refunddesk.policy.prepared import Checks, PreparedRule, prepared
from refunddesk.policy.schema import Policy

HANDLING_ORDER = {"approve": 0, "review": 1, "suggest": 2}


# One payment's share of one line: (index into facts.payments, its funding, the amount). A
# plain tuple: several are made for every assessment.
_Funded = tuple[int, str, int]
# NamedTuple's own constructor is a Python function; tuple's is not. Results are made for
# every line of every assessment, so they are made with tuple's.
_new_tuple = tuple.__new__


def assess(policy: Policy, facts: dict[str, Any] | OrderFacts, *, as_of: datetime,
           lines: Iterable[str] | None = None) -> Assessment:
    if as_of.tzinfo is None:
        raise AssessmentError("as_of needs a time zone")
    try:
        order = facts if isinstance(facts, OrderFacts) else read_facts(facts)
    except FactsError as error:
        raise AssessmentError(str(error)) from None
    run = _Run(policy, order, as_of)
    if lines is None:
        results = [run.line(line) for line in order.lines]
    else:
        wanted = _requested_lines(order, lines)
        results = [run.line(line) for line in order.lines if line.id in wanted]
    return run.finish(results)


def _requested_lines(order: OrderFacts, lines: Iterable[str]) -> set[str]:
    known = [line.id for line in order.lines]
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

    __slots__ = ("allocation", "as_of", "asked_at", "cap_granted", "currency", "funded",
                 "granted", "order", "policy", "prepared", "steps", "tz")

    def __init__(self, policy: Policy, order: OrderFacts, as_of: datetime):
        self.policy = policy
        self.prepared = compiled = prepared(policy)
        self.order = order
        self.asked_at = as_of  # as the caller gave it, for the assessment
        # In UTC, like the facts (read or built from the database): datetimes that share
        # their tzinfo compare and subtract without asking either for its offset, which
        # is most of what comparing moments costs.
        self.as_of = as_of if as_of.tzinfo is UTC else as_of.astimezone(UTC)
        self.tz = compiled.tz
        self.currency = order.currency
        self.steps: list[Step] = [("order", (order.id, as_of, compiled.ref))]
        self.granted: dict[tuple[str, str], int] = {}
        self.cap_granted: dict[str, int] = {}
        self.funded = self._spread_payments()
        self.allocation: dict[int, int] = {}

    def _spread_payments(self) -> dict[str, list[_Funded]]:
        """Each payment spread over the order's lines in proportion to what they cost.

        Payments are taken in order, each split by largest remainder in proportion to what
        the lines still have unfunded. The first split is proportional to the lines' cost,
        the later ones stay within a cent of it, and every line ends up funded by exactly
        what it cost: a line can never be credited with more than it was paid.
        """
        lines = self.order.lines
        payments = self.order.payments
        remaining = []
        spread: list[list[_Funded]] = []  # by the line's position
        owed = paid = 0
        for line in lines:
            remaining.append(line.amount_paid)
            spread.append([])
            owed += line.amount_paid
        for payment in payments:
            paid += payment.amount
        if paid != owed:
            raise AssessmentError(f"payments: {payments_mismatch(paid, owed, self.currency)}")
        last = len(payments) - 1
        for index, payment in enumerate(payments):
            funding = payment.funding
            if index == last:  # the last payment funds exactly what is left of every line
                for position, share in enumerate(remaining):
                    if share:
                        spread[position].append((index, funding, share))
            else:
                for position, share in enumerate(allocate(payment.amount, remaining)):
                    if share:
                        spread[position].append((index, funding, share))
                        remaining[position] -= share
        return {line.id: funded for line, funded in zip(lines, spread, strict=True)}

    # -- one line -------------------------------------------------------------------------

    def line(self, line: LineFacts) -> LineResult:
        for reason, checks in self.prepared.exclusions:
            if not checks or self.unmet(checks, line) is None:
                self.steps.append(("line.excluded", (line.id, reason)))
                return LineResult.refused(line.id, reason)
        for rule in self.prepared.rules:
            condition = self.unmet(rule.checks, line) if rule.checks else None
            if condition is not None:
                self.steps.append(("rule.condition", (line.id, rule.id, condition,
                                                      rule.condition_values[condition])))
            elif ((rule.window is None or self.in_window(rule, line))
                  and (rule.quota is None or self.has_quota(rule, line))):
                return self.apply(rule, line)
        self.steps.append(("line.excluded", (line.id, "no_rule")))
        return LineResult.refused(line.id, "no_rule")

    def unmet(self, checks: Checks, line: LineFacts) -> str | None:
        """The first condition of `checks` (a rule's or an exclusion's, compiled) the line
        does not meet, or None when all hold."""
        for name, value in checks:
            if name == "kind":
                if self.order.kind not in value:
                    return name
            elif name == "channel":
                if self.order.channel not in value:
                    return name
            elif name == "billing":
                if line.billing not in value:
                    return name
            elif name == "category":
                if line.category not in value:
                    return name
            elif name == "product":
                if line.product not in value:
                    return name
            elif name == "flags_any":
                if line.flags.isdisjoint(value):
                    return name
            elif name == "flags_none":
                if not line.flags.isdisjoint(value):
                    return name
            elif name == "invoiced":
                if self.order.invoiced != value:
                    return name
            elif name == "started":
                if self.has_started(line) != value:
                    return name
            elif self.is_first_purchase(line) != value:  # first_purchase
                return name
        return None

    def has_started(self, line: LineFacts) -> bool:
        return line.start is not None and self.as_of >= line.start

    def is_first_purchase(self, line: LineFacts) -> bool:
        return not any(o.product == line.product and o.placed_at < self.order.placed_at
                       and o.id != self.order.id for o in self.order.orders)

    def in_window(self, rule: PreparedRule, line: LineFacts) -> bool:
        window = rule.window
        if window is None:
            return True
        start = self.order.placed_at if window.start == "placed_at" else line.start
        if start is None:
            self.steps.append(("rule.no_start", (line.id, rule.id)))
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
            self.steps.append(("rule.month_passed", (line.id, rule.id, start)))
            return False
        if not inside:
            self.steps.append(("rule.window_closed", (line.id, rule.id, window.start,
                                                      str(length), end)))
        return inside

    def has_quota(self, rule: PreparedRule, line: LineFacts) -> bool:
        quota = rule.quota
        if quota is None:
            return True
        counted = set(quota.rules or [rule.id])
        scope = line.product if quota.per == "product" else "*"
        # Refunds recorded after the moment of the request do not count against it (a
        # request re-assessed as of an earlier time sees the history of that time).
        earlier = [r for r in self.order.refunds if r.rule in counted and r.at <= self.as_of
                   and (quota.per == "account" or r.product == line.product)]
        if quota.period == "calendar_year":
            start, _ = calendar_year_bounds(self.as_of, self.tz)
            in_period = [r for r in earlier if start <= r.at]
        elif quota.period == "rolling_months":
            since = add_months(self.as_of.astimezone(self.tz), -(quota.months or 0))
            in_period = [r for r in earlier if since < r.at]
        else:
            in_period = earlier
        # Lines granted earlier in this same request count too ("1 次 1 台").
        granted = sum(self.granted.get((rule_id, scope), 0) for rule_id in counted)
        used = len(in_period) + granted
        lifetime = len(earlier) + granted
        lifetime_max = quota.lifetime_max
        if lifetime_max is not None and lifetime >= lifetime_max:
            self.steps.append(("rule.quota_lifetime_used", (line.id, rule.id, lifetime,
                                                            lifetime_max, quota.per)))
            return False
        if used >= quota.count:
            self.steps.append(("rule.quota_used", (line.id, rule.id, used, quota.count,
                                                   quota.per, quota.period,
                                                   quota.months or 0)))
            return False
        self.granted[(rule.id, scope)] = self.granted.get((rule.id, scope), 0) + 1
        return True

    def apply(self, rule: PreparedRule, line: LineFacts) -> LineResult:
        steps = self.steps
        line_id = line.id
        steps.append(("rule.applies", (line_id, rule.id)))
        refundable = rule.funding
        shares = []
        eligible = kept = 0
        for funded in self.funded[line_id]:
            if funded[1] in refundable:
                shares.append(funded)
                eligible += funded[2]
            else:
                kept += funded[2]
        steps.append(("line.eligible", (line_id, eligible, kept, rule.funding_text)))
        consumed_n, consumed_d = 0, 1
        fee_n, fee_d = 0, 1
        if line.start is None or self.as_of < line.start:  # not started (has_started)
            steps.append(("line.not_started", (line_id,)))
        else:
            consumed_n, consumed_d, cap = consumed_amount(
                rule, line, eligible, self.as_of, self.tz, self.currency, steps)
            if cap is not None and cap < eligible:
                steps.append(("line.lower_price", (line_id, cap)))
                eligible = cap
            if rule.fee is not None:
                fee_n, fee_d = self.fee(rule, line, eligible)
        # Exact: eligible − consumed − fee over a common denominator, rounded once.
        denominator = consumed_d * fee_d
        exact = eligible * denominator - consumed_n * fee_d - fee_n * consumed_d
        # round_half_up, inlined (a call per line costs more than the sum); nothing below
        # zero comes back.
        refund = (2 * exact + denominator) // (2 * denominator) if exact > 0 else 0
        if exact <= 0:
            code = "line.refund_floored"
        elif exact == refund * denominator:
            code = "line.refund"
        else:
            code = "line.refund_rounded"
        steps.append((code, (line_id, eligible, (consumed_n, consumed_d), (fee_n, fee_d),
                             (exact, denominator), refund)))
        # What the JSON shows per line adds up to the cent: eligible = refund + consumed +
        # fee. The fee is its own rounding, never more than the refund leaves; consumed is
        # the rest.
        fee = min(round_half_up(fee_n, fee_d), eligible - refund) if fee_n else 0
        shown_consumed = eligible - refund - fee
        uncapped = refund
        if rule.cap is not None:
            refund = self.capped(rule, line, refund)
        allocation = self.allocation
        if len(shares) == 1:
            payment = shares[0][0]
            allocation[payment] = allocation.get(payment, 0) + refund
        elif shares:
            for share, amount in zip(shares, allocate(refund, [f[2] for f in shares]),
                                     strict=True):
                allocation[share[0]] = allocation.get(share[0], 0) + amount
        is_whole = shown_consumed == 0 and fee == 0 and refund == uncapped
        return _new_tuple(LineResult, (line_id, rule.id, rule.handling, refund, eligible,
                                       shown_consumed, fee, None, is_whole,
                                       list(rule.documents)))

    def capped(self, rule: PreparedRule, line: LineFacts, refund: int) -> int:
        """The refund limited by the rule's amount cap over its period (earlier refunds under
        the counted rules, in this currency, plus what this request already granted)."""
        cap = rule.cap
        assert cap is not None
        limit = cap.amount.get(self.currency)
        if limit is None:
            return refund
        counted = set(cap.rules or [rule.id])
        if cap.period == "calendar_year":
            start, _ = calendar_year_bounds(self.as_of, self.tz)
            earlier = [r for r in self.order.refunds if start <= r.at <= self.as_of]
        else:
            since = add_months(self.as_of.astimezone(self.tz), -(cap.months or 0))
            earlier = [r for r in self.order.refunds if since < r.at <= self.as_of]
        used = sum(r.amount or 0 for r in earlier
                   if r.rule in counted and r.currency == self.currency)
        used += sum(self.cap_granted.get(rule_id, 0) for rule_id in counted)
        allowed = min(refund, max(0, limit - used))
        self.cap_granted[rule.id] = self.cap_granted.get(rule.id, 0) + allowed
        if allowed < refund:
            self.steps.append(("line.capped", (
                line.id, allowed, limit, used,
                "calendar_year" if cap.period == "calendar_year" else f"{cap.months}mo")))
        return allowed

    def fee(self, rule: PreparedRule, line: LineFacts, eligible: int) -> tuple[int, int]:
        fee = rule.fee
        if fee is None:
            return 0, 1
        base = eligible if fee.base == "eligible" else line.amount_paid
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
        self.steps.append(("line.fee", (line.id, _percent(percent), base,
                                        (numerator, denominator))))
        return numerator, denominator

    # -- the whole request ----------------------------------------------------------------

    def finish(self, results: list[LineResult]) -> Assessment:
        total = 0
        granted = []
        handling = "approve"
        is_whole = True
        documents: list[str] = []
        for result in results:
            total += result.refund
            is_whole = is_whole and result.is_whole
            if result.excluded is None:
                granted.append(result)
                if HANDLING_ORDER[result.handling] > HANDLING_ORDER[handling]:
                    handling = result.handling
                documents.extend(result.documents)
        if total == 0:
            outcome, handling = "none", "reject"
        elif is_whole:
            outcome = "full"
        else:
            outcome = "partial"
        entries = self.allocate(total)
        documents = list(dict.fromkeys(documents)) if total else []
        threshold = (self.prepared.four_eyes_above or {}).get(self.currency)
        needs_four_eyes = threshold is not None and total > threshold
        self.steps.append(("total", (total,)))
        if needs_four_eyes:
            # Never approved at once: a second staff member confirms large refunds.
            self.steps.append(("four_eyes", (threshold or 0,)))
            if handling == "approve":
                handling = "review"
        self.steps.append((f"handling.{handling}", ()))
        # policy, as_of, outcome, rule, handling, currency, total, lines, allocation,
        # documents_required, needs_four_eyes, steps
        return Assessment(self.policy, self.asked_at, outcome,
                          granted[0].rule if granted else None, handling, self.currency, total,
                          results, entries, documents, needs_four_eyes, self.steps)

    def allocate(self, total: int) -> list[AllocationEntry]:
        entries = []
        for index in sorted(self.allocation):
            amount = self.allocation[index]
            if not amount:
                continue
            payment = self.order.payments[index]
            route, fallback = self.prepared.route(payment.method, payment.funding,
                                                  self.order.invoiced)
            entries.append(_new_tuple(AllocationEntry, (payment.id, payment.method,
                                                        payment.funding, route, amount,
                                                        fallback)))
            self.steps.append(("allocation", (payment.id, payment.method, route, amount)))
        return entries


def _term_matches(months: int | None, line: LineFacts) -> bool:
    return months is not None and line.term_months == months


def _percent(value: Fraction) -> str:
    text = format(Decimal(value.numerator) / Decimal(value.denominator), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text
