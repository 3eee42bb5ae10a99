"""How much of a line the customer has consumed, as an exact fraction of minor units."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from refunddesk.policy.assessment import AssessmentError, Step
from refunddesk.policy.calendar import add_months
from refunddesk.policy.durations import SECONDS, Duration
from refunddesk.policy.facts import LineFacts
from refunddesk.policy.prepared import PreparedConsumption, PreparedRule

MICROSECONDS = {"second": 10**6, "hour": 3600 * 10**6, "day": 86400 * 10**6}
ONE_MICROSECOND = timedelta(microseconds=1)
HOURS_PER_MONTH = 720  # the hourly price of a monthly plan when none is given: 30 × 24 h


# What a line has consumed: (numerator, denominator, cap), the exact amount in minor units
# and the most the line can return when the base is a lower price (else None). A plain
# tuple: one is made for every line of every assessment.
Consumed = tuple[int, int, int | None]
NOTHING: Consumed = (0, 1, None)


def consumed_amount(rule: PreparedRule, line: LineFacts, eligible: int, as_of: datetime,
                    tz: ZoneInfo, currency: str, steps: list[Step]) -> Consumed:
    settings = rule.consumption
    method = settings.method
    if method == "none":
        return NOTHING
    if settings.base == "amount_paid":  # the common case, without a call
        base, cap = line.amount_paid, None
    else:
        base, cap = _base(settings, line, eligible)
    if method == "usage":
        return _usage(settings, line, as_of, currency, steps)
    assert line.start is not None  # a started line has a start
    if method == "months_and_hours":
        return _months_and_hours(settings, line, base, as_of, tz, currency, steps, cap)
    if line.end is None:
        steps.append(("line.no_period", (line.id,)))
        return base, 1, cap
    unit_us = MICROSECONDS[settings.unit]
    if settings.rounding == "exact":  # _used_units' common case, without a call
        used = max(-(-((as_of - line.start) // ONE_MICROSECOND) // unit_us), settings.minimum)
        total_us = (line.end - line.start) // ONE_MICROSECOND
    else:
        used, total_us = _used_units(settings, line.start, line.end, as_of, tz)
    numerator, denominator = base * used * unit_us, total_us
    factor_text = ""
    penalty = rule.penalty
    if penalty is not None and _used_under(penalty.while_used_under, line.start, as_of, tz):
        numerator *= penalty.factor.numerator
        denominator *= penalty.factor.denominator
        factor_text = str(float(penalty.factor)).removesuffix(".0")
    whole_units, rest = divmod(total_us, unit_us)
    total_units = str(whole_units) if not rest else "≈" + _number(total_us / unit_us)
    steps.append(("consumed.time_ratio_penalty" if factor_text else "consumed.time_ratio",
                  (line.id, used, total_units, settings.unit, base, factor_text,
                   str(penalty.while_used_under) if penalty else "",
                   (numerator, denominator))))
    return numerator, denominator, cap


def _base(settings: PreparedConsumption, line: LineFacts, eligible: int) -> tuple[int, int | None]:
    if settings.base == "eligible":
        return eligible, None
    if settings.base == "lower_of_paid_and_current_price":
        base = line.amount_paid if line.current_price is None else min(line.amount_paid,
                                                                      line.current_price)
        return base, base
    return line.amount_paid, None


def _used_units(settings: PreparedConsumption, start: datetime, end: datetime, as_of: datetime,
                tz: ZoneInfo) -> tuple[int, int]:
    """(units used, total length in microseconds) under the rule's rounding."""
    unit_us = MICROSECONDS[settings.unit]
    if settings.rounding == "clock":
        first = _floor(start, settings.unit, tz)
        last = _floor(as_of, settings.unit, tz)
        finish = _floor(end, settings.unit, tz)
        if finish < end:
            finish = _floor(end + timedelta(microseconds=unit_us), settings.unit, tz)
        used = (last - first) // ONE_MICROSECOND // unit_us
        return max(used, settings.minimum), (finish - first) // ONE_MICROSECOND
    elapsed = (as_of - start) // ONE_MICROSECOND
    used = -(-elapsed // unit_us)  # rounded up: a started day counts as a day
    return max(used, settings.minimum), (end - start) // ONE_MICROSECOND


def _floor(moment: datetime, unit: str, tz: ZoneInfo) -> datetime:
    local = moment.astimezone(tz)
    if unit == "day":
        return local.replace(hour=0, minute=0, second=0, microsecond=0)
    if unit == "hour":
        return local.replace(minute=0, second=0, microsecond=0)
    return local.replace(microsecond=0)


def _used_under(limit: Duration, start: datetime, as_of: datetime, tz: ZoneInfo) -> bool:
    if limit.is_exact:
        unit_us = SECONDS[limit.unit] * 10**6
        used = -(-((as_of - start) // ONE_MICROSECOND) // unit_us)
        return used < limit.count
    return as_of < add_months(start.astimezone(tz), limit.months)


def _usage(settings: PreparedConsumption, line: LineFacts, as_of: datetime, currency: str,
           steps: list[Step]) -> Consumed:
    currency_prices = settings.unit_price or {}
    quantity_n, quantity_d = 0, 1
    for record in line.usage:
        if record.metric == settings.metric and record.period_start < as_of:
            n, d = record.quantity.as_integer_ratio()
            quantity_n, quantity_d = quantity_n * d + n * quantity_d, quantity_d * d
    price = _price_for(currency_prices, currency)
    numerator, denominator = quantity_n * price, quantity_d
    steps.append(("consumed.usage", (line.id, settings.metric or "",
                                     _number(quantity_n / quantity_d), price,
                                     (numerator, denominator))))
    return numerator, denominator, None


def _price_for(prices: dict[str, int], currency: str) -> int:
    if currency not in prices:
        raise AssessmentError(f"the policy has no price in {currency}, the order's currency "
                              f"(it has {', '.join(sorted(prices))})")
    return prices[currency]


def _months_and_hours(settings: PreparedConsumption, line: LineFacts, base: int, as_of: datetime,
                      tz: ZoneInfo, currency: str, steps: list[Step],
                      cap: int | None) -> Consumed:
    assert line.start is not None
    term_months = line.term_months or 1
    months = 0
    start = line.start.astimezone(tz)  # calendar months on the policy's wall clock
    while add_months(start, months + 1) <= as_of:
        months += 1
    rest_us = (as_of - add_months(start, months)) // ONE_MICROSECOND
    hours = -(-rest_us // MICROSECONDS["hour"])
    # Monthly price = base / term_months; everything is kept over that denominator.
    numerator, denominator = base * months, term_months
    hourly_n: int
    if settings.hourly_tiers:
        hourly_n, remaining, counted = 0, hours, 0
        for tier in settings.hourly_tiers:
            take = remaining if tier.up_to_hours is None else min(
                remaining, max(0, tier.up_to_hours - counted))
            hourly_n += take * _price_for(tier.price, currency)
            remaining -= take
            counted += take
        numerator += hourly_n * term_months
    elif settings.hourly_price:
        numerator += hours * _price_for(settings.hourly_price, currency) * term_months
    else:
        numerator, denominator = numerator * HOURS_PER_MONTH + base * hours, (
            denominator * HOURS_PER_MONTH)
    steps.append(("consumed.months_and_hours",
                  (line.id, months, hours, (numerator, denominator))))
    return numerator, denominator, cap


def _number(value: float) -> str:
    text = f"{value:.4f}".rstrip("0").rstrip(".")
    return text or "0"

