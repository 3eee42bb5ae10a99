"""The result of an assessment, and its JSON form (DESIGN.md, "The assessment")."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from refunddesk.policy.money import format_amount

if TYPE_CHECKING:
    from refunddesk.policy.schema import Policy


@dataclass(frozen=True, slots=True)
class Step:
    """One traceable step of the reasoning: a message code and its parameters.

    Parameters are already-formatted numbers, times and codes, so the same step reads
    with the same figures in every language (explain.py renders it).
    """

    code: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class LineResult:
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


@dataclass(frozen=True, slots=True)
class AllocationEntry:
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

    def explanation(self, locale: str = "en") -> list[str]:
        from refunddesk.policy.explain import render

        return [render(step, locale, self.policy) for step in self.steps]

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
            "steps": [{"code": s.code, "params": s.params} for s in self.steps],
            "explanation": self.explanation(locale),
        }
