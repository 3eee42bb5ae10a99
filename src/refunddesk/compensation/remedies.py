"""What a mass compensation gives one order line: pure arithmetic on integers and times (the
moment is passed in), so the dry run and the real run compute the very same figures from
the same facts.

No Django but its translations (the refusals are read by people), no database, no clock.

The remedies, for a line whose service was active during the outage (it started before
the outage ended, and had not ended when it began):

- refund of the affected time: the outage's share of what the line cost over its paid
  service period, `paid × affected ÷ (service_end − service_start)`, exact to the
  microsecond and rounded once, half-up to the minor unit (policy/money.round_half_up);
- a credit of a percentage of what the line cost: `paid × percent ÷ 100`, rounded the same
  way, percent given to the hundredth (12.5 % is 1250 hundredths);
- a credit of a fixed amount per line, set per currency (a line in a currency with no
  amount set is left out, never converted);
- an extension of the service end: by the affected time, or by a number of days; no money.

`affected` is the overlap of the outage with the line's service: from the later of the two
starts to the earlier of the two ends. The line's end is its service end, or earlier when
an approved refund ended the service before (the `effective_end` the caller passes).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.utils.translation import gettext as _

from refunddesk.policy.money import round_half_up

MICROSECOND = timedelta(microseconds=1)
HUNDREDTHS_PER_WHOLE = 100 * 100  # percent, to the hundredth

# The remedies, as the run stores them.
REFUND_TIME = "refund_time"
CREDIT_PERCENT = "credit_percent"
CREDIT_FIXED = "credit_fixed"
EXTENSION = "extension"
REMEDIES = (REFUND_TIME, CREDIT_PERCENT, CREDIT_FIXED, EXTENSION)
MONEY_REMEDIES = (REFUND_TIME, CREDIT_PERCENT, CREDIT_FIXED)

# Why a line the selection matched gets nothing (codes; explaining.py has the words).
PAY_AS_YOU_GO = "pay_as_you_go"
NO_SERVICE_END = "no_service_end"
ENDED_BEFORE = "ended_before"  # a refund ended its service before the outage began
NOT_ACTIVE = "not_active"  # no overlap once the refund's end is counted
NO_AMOUNT_FOR_CURRENCY = "no_amount_for_currency"
NOTHING_DUE = "nothing_due"  # rounds to less than one minor unit
ALREADY_ENDED = "already_ended"  # extension: the service is over (or a refund ends it)
ALREADY_COMPENSATED = "already_compensated"  # by another run, for an overlapping outage
NO_POLICY = "no_policy"  # the product has no refund policy (payout times, routes)
NOTHING_LEFT = "nothing_left"  # the order's payments have nothing left to refund
NO_PAYMENT = "no_payment"  # the order has no payment the money could be tied to
# Bought through an app store: only the store refunds its purchases, so a refund planned
# back to it would wait for a gateway that can never exist; a credit reaches them instead.
STORE_PURCHASE = "store_purchase"
STORE_CHANNELS = frozenset({"app_store", "google_play"})


class RemedyError(ValueError):
    """A remedy that cannot be applied as given (the message says why)."""


@dataclass(frozen=True)
class Window:
    """The outage: service active between `start` and `end` (aware times)."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise RemedyError(_("The outage's start and end need a time zone."))
        if self.end <= self.start:
            raise RemedyError(_("The outage must end after it starts."))

    def overlap(self, start: datetime, end: datetime | None) -> timedelta:
        """How long a service running from `start` to `end` (None: still running) was
        inside the outage; zero when it was not."""
        until = self.end if end is None else min(end, self.end)
        return max(timedelta(0), until - max(start, self.start))

    def overlaps(self, other: Window) -> bool:
        return other.start < self.end and other.end > self.start


@dataclass(frozen=True)
class Remedy:
    kind: str
    percent_hundredths: int = 0  # CREDIT_PERCENT: 1250 is 12.5 %
    fixed: dict[str, int] = field(default_factory=dict)  # CREDIT_FIXED: currency → minor
    credit_to: str = "balance"  # credits: "balance" (cash) or "gift"
    extension_days: int | None = None  # EXTENSION: None extends by the affected time

    def __post_init__(self) -> None:
        if self.kind not in REMEDIES:
            raise RemedyError(_("Unknown remedy %(kind)s.") % {"kind": self.kind})
        if self.kind == CREDIT_PERCENT and not 0 < self.percent_hundredths <= 100 * 100:
            raise RemedyError(_("The percentage must be more than 0 and at most 100."))
        if self.kind == CREDIT_FIXED and (not self.fixed
                                          or any(v <= 0 for v in self.fixed.values())):
            raise RemedyError(_("A fixed credit needs an amount above zero for at least one "
                                "currency."))
        if self.kind in (CREDIT_PERCENT, CREDIT_FIXED) and self.credit_to not in ("balance",
                                                                              "gift"):
            raise RemedyError(_("Credit goes to the account balance or to gift credit."))
        if self.extension_days is not None and self.extension_days <= 0:
            raise RemedyError(_("An extension is at least one day."))

    @property
    def is_money(self) -> bool:
        return self.kind in MONEY_REMEDIES

    @property
    def is_credit(self) -> bool:
        return self.kind in (CREDIT_PERCENT, CREDIT_FIXED)


@dataclass(frozen=True)
class LineInput:
    """What a remedy needs of an order line."""

    billing: str  # prepaid | payg | one_time
    currency: str
    paid: int  # minor units
    service_start: datetime
    service_end: datetime | None
    effective_end: datetime | None  # the service end, or earlier if a refund ended it


@dataclass(frozen=True)
class Outcome:
    """What one line gets: `amount` (minor units) or `extended_to`, or `excluded` (a code)
    with nothing. `affected` is how long the outage took from the line."""

    affected: timedelta
    amount: int = 0
    extended_to: datetime | None = None
    excluded: str = ""

    @property
    def is_included(self) -> bool:
        return not self.excluded


def _us(span: timedelta) -> int:
    return span // MICROSECOND


def refund_share(paid: int, service_start: datetime, service_end: datetime,
                 affected: timedelta) -> int:
    """The outage's share of `paid` over the service period, rounded half-up once."""
    term = _us(service_end - service_start)
    if term <= 0:
        raise RemedyError(_("The service period must end after it starts."))
    return round_half_up(paid * _us(affected), term)


def percent_of(paid: int, hundredths: int) -> int:
    return round_half_up(paid * hundredths, HUNDREDTHS_PER_WHOLE)


def evaluate(line: LineInput, window: Window, remedy: Remedy, *, now: datetime) -> Outcome:
    """The remedy for one line the selection matched."""
    refund_end = line.effective_end if line.effective_end != line.service_end else None
    ended_by_refund = refund_end is not None
    if refund_end is not None and refund_end <= window.start:
        return Outcome(timedelta(0), excluded=ENDED_BEFORE)
    affected = window.overlap(line.service_start, line.effective_end)
    if not affected:
        return Outcome(affected, excluded=NOT_ACTIVE)
    is_payg = line.billing == "payg"
    if remedy.kind == CREDIT_FIXED:
        amount = remedy.fixed.get(line.currency)
        if amount is None:
            return Outcome(affected, excluded=NO_AMOUNT_FOR_CURRENCY)
        return Outcome(affected, amount=amount)
    # Pay as you go is billed for what is used: it has no paid period to take a share of,
    # no price to take a percentage of, and no end to move.
    if is_payg:
        return Outcome(affected, excluded=PAY_AS_YOU_GO)
    if line.service_end is None:
        return Outcome(affected, excluded=NO_SERVICE_END)
    if remedy.kind == EXTENSION:
        # A service that is over, or whose end a refund decided, is not moved.
        end = line.service_end
        if end <= now or ended_by_refund:
            return Outcome(affected, excluded=ALREADY_ENDED)
        by = (timedelta(days=remedy.extension_days) if remedy.extension_days is not None
              else affected)
        return Outcome(affected, extended_to=end + by)
    if remedy.kind == REFUND_TIME:
        amount = refund_share(line.paid, line.service_start, line.service_end, affected)
    else:
        amount = percent_of(line.paid, remedy.percent_hundredths)
    if amount <= 0:
        return Outcome(affected, excluded=NOTHING_DUE)
    return Outcome(affected, amount=amount)


def cap(amounts: list[int], room: int) -> list[int]:
    """The amounts of one order's lines, in order, cut to what its payments have left to
    refund (`room`): earlier lines keep theirs, the first that does not fit gets what is
    left, the rest nothing."""
    capped, left = [], max(0, room)
    for amount in amounts:
        given = min(amount, left)
        capped.append(given)
        left -= given
    return capped


def parse_percent(text: str) -> int:
    """ "12.5" → 1250 hundredths of a percent; digits and one ".", at most two decimals,
    more than 0 and at most 100 (RemedyError otherwise)."""
    whole, dot, fraction = text.strip().partition(".")
    if not (whole.isascii() and whole.isdigit()) or (dot and not (
            fraction.isascii() and fraction.isdigit() and len(fraction) <= 2)):
        raise RemedyError(_("Give the percentage as a number like 10 or 12.5, with at most "
                            "two decimals."))
    hundredths = int(whole) * 100 + (int((fraction + "00")[:2]) if fraction else 0)
    if not 0 < hundredths <= 100 * 100:
        raise RemedyError(_("The percentage must be more than 0 and at most 100."))
    return hundredths
