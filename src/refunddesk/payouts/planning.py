"""How an approved refund is split into payouts: pure arithmetic, no Django, no I/O.

The assessment already says where each payment's share goes (its own route, the balance by
policy or fallback, vouchers and gift credit in kind). An approval may give less than the
assessment (in part) or more (a reviewer's override); the plan spreads the approved amount
over the same shares in proportion, with a largest-remainder split so no cent is lost, and
never gives a payment more than it still has to refund (earlier refunds of the same
payment count). What a full payment cannot take moves to the others, in proportion to what
they have left.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from refunddesk.policy.money import allocate


class PlanError(ValueError):
    """The approved amount does not fit what the payments have left to refund."""


@dataclass(frozen=True)
class Share:
    """One entry of the assessment's allocation: a payment and where its refund goes."""

    payment: str
    method: str
    funding: str  # cash | balance | gift | voucher
    destination: str  # original | balance | gift | voucher
    amount: int  # what the assessment gave this payment, minor units
    fallback: str | None = None  # where it goes if the original route cannot take it


@dataclass(frozen=True)
class PlannedPayout:
    payment: str
    method: str
    funding: str
    destination: str
    amount: int
    fallback: str | None = None


def shares_of(assessment: Mapping[str, object], parse: object) -> list[Share]:
    """The shares of an assessment in its JSON form; `parse(text)` reads an amount."""
    entries = assessment.get("allocation") or []
    assert isinstance(entries, list) and callable(parse)
    return [Share(entry["payment"], entry["method"], entry.get("funding", "cash"),
                  entry["destination"], parse(entry["amount"]), entry.get("fallback"))
            for entry in entries]


def plan(shares: Sequence[Share], approved: int, left: Mapping[str, int]
         ) -> list[PlannedPayout]:
    """Split `approved` minor units over `shares`; `left` is what each payment can still
    refund. Payouts of zero are left out."""
    if approved < 0:
        raise PlanError(f"the approved amount must not be negative, got {approved}")
    payments = [share.payment for share in shares]
    if len(set(payments)) != len(payments):
        raise PlanError(f"a payment appears twice in the allocation: {payments}")
    room = [max(0, left.get(share.payment, 0)) for share in shares]
    if approved > sum(room):
        raise PlanError(f"approved {approved} is more than the payments have left to refund "
                        f"({sum(room)})")
    weights = [share.amount for share in shares]
    if sum(weights) == 0:
        weights = room  # an override of an assessment of nothing: by what each has left
    amounts = allocate(approved, weights) if approved else [0] * len(shares)
    # Cap at what each payment has left; hand the excess to the others with room, in
    # proportion to that room, until none is left (each round fills at least one share).
    while True:
        excess = sum(max(0, amount - cap) for amount, cap in zip(amounts, room, strict=True))
        if not excess:
            break
        amounts = [min(amount, cap) for amount, cap in zip(amounts, room, strict=True)]
        spare = [cap - amount for amount, cap in zip(amounts, room, strict=True)]
        amounts = [amount + extra for amount, extra in
                   zip(amounts, allocate(excess, spare), strict=True)]
    return [PlannedPayout(share.payment, share.method, share.funding, share.destination,
                          amount, share.fallback)
            for share, amount in zip(shares, amounts, strict=True) if amount]
