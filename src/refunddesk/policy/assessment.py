"""The result of an assessment, and its JSON form (DESIGN.md, "The assessment")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from refunddesk.policy.money import format_amount, minor_digits
from refunddesk.policy.schema import Policy  # at run time: compiled dataclasses need it


class AssessmentError(ValueError):
    """The request cannot be assessed as asked (unknown line, naive time, bad facts, a
    policy without a price in the order's currency)."""


# How a step's parameter is shown: an amount in minor units, or an unrounded amount (a pair
# numerator, denominator of minor units, shown to two more places than the currency has,
# so a reader can follow the arithmetic before its one rounding). Other parameters are
# numbers, moments and codes, shown as they are.
MINOR = "minor"
EXACT = "exact"


def exact_text(value: tuple[int, int], currency: str) -> str:
    numerator, denominator = value
    digits = minor_digits(currency)
    shown = (Decimal(numerator) / Decimal(denominator)).scaleb(-digits)
    rounded = shown.quantize(Decimal(1).scaleb(-(digits + 2)), rounding=ROUND_HALF_UP)
    text = format(rounded, "f")
    if "." in text:
        whole, fraction = text.split(".")
        fraction = fraction.rstrip("0").ljust(digits, "0")
        text = f"{whole}.{fraction}" if fraction else whole
    return ("" if rounded == shown else "≈") + text


# One traceable step of the reasoning: a message code and the values of its parameters, in
# the order STEPS names them. Plain tuples: an assessment makes a dozen or more steps and
# most are never read as text, so names and formats are only attached when they are
# (plain_params), the same way in every language (explain.py).
Step = tuple[str, tuple[Any, ...]]

_LINE = ("line", "")
_RULE = ("rule", "")
_REFUND = (_LINE, ("eligible", MINOR), ("consumed", EXACT), ("fee", EXACT), ("exact", EXACT),
           ("refund", MINOR))
_TIME_RATIO = (_LINE, ("used", ""), ("total", ""), ("unit", ""), ("base", MINOR),
               ("factor", ""), ("under", ""), ("consumed", EXACT))
# Each step's parameters: (name, how it is shown).
STEPS: dict[str, tuple[tuple[str, str], ...]] = {
    "order": (("order", ""), ("as_of", ""), ("policy", "")),
    "line.excluded": (_LINE, ("reason", "")),
    "rule.condition": (_LINE, _RULE, ("condition", ""), ("values", "")),
    "rule.no_start": (_LINE, _RULE),
    "rule.month_passed": (_LINE, _RULE, ("start", "")),
    "rule.window_closed": (_LINE, _RULE, ("from", ""), ("length", ""), ("end", "")),
    "rule.quota_lifetime_used": (_LINE, _RULE, ("lifetime", ""), ("lifetime_max", ""),
                                 ("per", "")),
    "rule.quota_used": (_LINE, _RULE, ("used", ""), ("count", ""), ("per", ""),
                        ("period", ""), ("months", "")),
    "rule.applies": (_LINE, _RULE),
    "line.eligible": (_LINE, ("eligible", MINOR), ("kept", MINOR), ("funding", "")),
    "line.not_started": (_LINE,),
    "line.no_period": (_LINE,),
    "line.lower_price": (_LINE, ("eligible", MINOR)),
    "line.refund": _REFUND,
    "line.refund_rounded": _REFUND,
    "line.refund_floored": _REFUND,
    "line.capped": (_LINE, ("refund", MINOR), ("cap", MINOR), ("used", MINOR),
                    ("period", "")),
    "line.fee": (_LINE, ("percent", ""), ("base", MINOR), ("fee", EXACT)),
    "consumed.time_ratio": _TIME_RATIO,
    "consumed.time_ratio_penalty": _TIME_RATIO,
    "consumed.usage": (_LINE, ("metric", ""), ("quantity", ""), ("price", MINOR),
                       ("consumed", EXACT)),
    "consumed.months_and_hours": (_LINE, ("months", ""), ("hours", ""), ("consumed", EXACT)),
    "allocation": (("payment", ""), ("method", ""), ("destination", ""), ("amount", MINOR)),
    "total": (("total", MINOR),),
    "four_eyes": (("threshold", MINOR),),
    "handling.approve": (),
    "handling.review": (),
    "handling.suggest": (),
    "handling.reject": (),
}


def plain_params(code: str, values: tuple[Any, ...], currency: str, tz: tzinfo
                 ) -> dict[str, Any]:
    """A step's parameters by name as JSON-ready text: "900.00 CNY",
    "2026-03-06 10:05:00 +0800"."""
    plain: dict[str, Any] = {}
    for (key, shown), value in zip(STEPS[code], values, strict=True):
        if shown == MINOR:
            value = f"{format_amount(value, currency)} {currency}"
        elif shown == EXACT:
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
        return [(code, plain_params(code, values, self.currency, tz))
                for code, values in self.steps]

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
