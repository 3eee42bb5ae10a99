"""The result of an assessment, and its JSON form (DESIGN.md, "The assessment")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any, NamedTuple
from zoneinfo import ZoneInfo

from refunddesk.policy.money import format_amount, minor_digits

if TYPE_CHECKING:
    from refunddesk.policy.schema import Policy


class AssessmentError(ValueError):
    """The request cannot be assessed as asked (unknown line, naive time, bad facts, a
    policy without a price in the order's currency)."""


class Minor(int):
    """An amount in minor units inside a step's parameters, formatted with the currency
    only when the step is rendered (most assessments are never read as text)."""

    __slots__ = ()


class Exact(tuple[int, int]):
    """An unrounded amount, numerator / denominator minor units, shown to two more places
    than the currency has, so a reader can follow the arithmetic before its one rounding.
    Made from a pair, `Exact((numerator, denominator))`: a bare tuple subclass with no
    constructor of its own, because several are made per line and tuple's is the cheapest."""

    __slots__ = ()

    @property
    def numerator(self) -> int:
        return self[0]

    @property
    def denominator(self) -> int:
        return self[1]


def exact_text(value: Exact, currency: str) -> str:
    digits = minor_digits(currency)
    shown = (Decimal(value.numerator) / Decimal(value.denominator)).scaleb(-digits)
    rounded = shown.quantize(Decimal(1).scaleb(-(digits + 2)), rounding=ROUND_HALF_UP)
    text = format(rounded, "f")
    if "." in text:
        whole, fraction = text.split(".")
        fraction = fraction.rstrip("0").ljust(digits, "0")
        text = f"{whole}.{fraction}" if fraction else whole
    return ("" if rounded == shown else "≈") + text


# One traceable step of the reasoning: a message code and its parameters. Parameters are
# numbers, amounts (Minor, Exact), moments and codes; rendering formats them the same way
# in every language, so both read with the same figures (explain.py). A plain tuple: an
# assessment makes a dozen or more of them.
Step = tuple[str, dict[str, Any]]


def plain_params(params: dict[str, Any], currency: str, tz: tzinfo) -> dict[str, Any]:
    """A step's parameters as JSON-ready text: "900.00 CNY", "2026-03-06 10:05:00 +0800"."""
    plain: dict[str, Any] = {}
    for key, value in params.items():
        if isinstance(value, Minor):
            value = f"{format_amount(value, currency)} {currency}"
        elif isinstance(value, Exact):
            value = f"{exact_text(value, currency)} {currency}"
        elif isinstance(value, datetime):
            value = value.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S %z")
        plain[key] = value
    return plain


class LineResult(NamedTuple):
    id: str
    rule: str | None
    handling: str
    refund: int
    eligible: int
    consumed: int
    fee: int
    excluded: str | None
    is_whole: bool
    documents: list[str]

    @classmethod
    def refused(cls, line_id: str, reason: str) -> LineResult:
        """A line the policy does not refund, with the reason code why."""
        return cls(line_id, None, "reject", 0, 0, 0, 0, reason, False, [])


class AllocationEntry(NamedTuple):
    payment: str
    method: str
    funding: str
    destination: str
    amount: int
    fallback: str | None


@dataclass(slots=True)
class Assessment:
    policy: Policy
    as_of: datetime
    outcome: str  # full | partial | none
    rule: str | None
    handling: str  # approve | review | suggest | reject
    currency: str
    total: int
    lines: list[LineResult]
    allocation: list[AllocationEntry]
    documents_required: list[str]
    needs_four_eyes: bool
    steps: list[Step]

    @property
    def needs_review(self) -> bool:
        return self.handling in ("review", "suggest")

    def plain_steps(self) -> list[tuple[str, dict[str, Any]]]:
        tz = ZoneInfo(self.policy.time_zone)
        return [(code, plain_params(params, self.currency, tz)) for code, params in self.steps]

    def explanation(self, locale: str = "en") -> list[str]:
        from refunddesk.policy.explain import render

        return [render(code, params, locale, self.policy) for code, params in
                self.plain_steps()]

    def to_dict(self, locale: str = "en") -> dict[str, Any]:
        def amount(minor: int) -> str:
            return format_amount(minor, self.currency)

        return {
            "policy": self.policy.ref,
            "as_of": self.as_of.isoformat(),
            "outcome": self.outcome,
            "rule": self.rule,
            "handling": self.handling,
            "needs_review": self.needs_review,
            "needs_four_eyes": self.needs_four_eyes,
            "currency": self.currency,
            "total": amount(self.total),
            "lines": [
                {"id": line.id, "rule": line.rule, "refundable": amount(line.refund),
                 "eligible": amount(line.eligible), "consumed": amount(line.consumed),
                 "fee": amount(line.fee), "excluded": line.excluded}
                for line in self.lines
            ],
            "allocation": [
                {"payment": e.payment, "method": e.method, "funding": e.funding,
                 "destination": e.destination, "amount": amount(e.amount),
                 **({"fallback": e.fallback} if e.fallback else {})}
                for e in self.allocation
            ],
            "documents_required": self.documents_required,
            "steps": [{"code": code, "params": params} for code, params in self.plain_steps()],
            "explanation": self.explanation(locale),
        }
