"""Where a payment's refund goes under a policy: the one routing rule, used by the
assessment for the shares it grants and by the payout plan for amounts staff grant beyond
it (a goodwill or appeal amount), so both follow the same route.

Cash goes back by its original route unless the policy sends cash (or invoiced orders' cash)
to the balance, or the method cannot take refunds; the policy's fallback applies when the
original route turns out unavailable at payout time. Balance, gift credit and vouchers are
returned in kind: a voucher never becomes cash.
"""

from __future__ import annotations

from typing import NamedTuple

from refunddesk.policy.schema import Destination


class Route(NamedTuple):
    destination: str  # original | balance | gift | voucher
    fallback: str | None  # where an original-route refund goes when that route is unavailable


def route_of(destination: Destination, *, method: str, funding: str, invoiced: bool) -> Route:
    if funding != "cash":
        return Route(funding, None)
    cash_route = destination.cash
    if invoiced and destination.invoiced is not None:
        cash_route = destination.invoiced
    if cash_route != "original":
        return Route(cash_route, None)
    if method in destination.unavailable_methods:
        return Route(destination.fallback or "balance", None)
    return Route("original", destination.fallback)
