"""The payouts an approval plans. `plan_payouts` runs inside the approval's transaction
(the case row is locked by the caller): the approved amount becomes pending Payout rows,
one per route, due at once, so the decision and its money plan commit together or not at
all, and the worker finds the plan as soon as it is committed."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache

from django.db import connection
from django.utils.translation import gettext_lazy as _

from refunddesk.billing.models import Payment
from refunddesk.cases import sla
from refunddesk.cases.errors import CaseError
from refunddesk.cases.models import RefundCase
from refunddesk.core.money import format_money
from refunddesk.core.statements import Columns, column, fetch, insert, table
from refunddesk.payouts.gateways import gateway
from refunddesk.payouts.gateways.base import GatewayError
from refunddesk.payouts.models import (
    COMMITTED_STATES,
    Destination,
    FallbackReason,
    Payout,
    PayoutState,
)
from refunddesk.payouts.planning import PlanError, PlannedPayout, Share, plan, shares_of
from refunddesk.policies.store import policy_by_ref
from refunddesk.policy import routing
from refunddesk.policy.money import parse_amount

# Credits in kind (balance, voucher, gift) are written to the account's ledger.
LEDGER_GATEWAY = "balance"


@dataclass(frozen=True)
class PaymentLeft:
    """A payment of the order, with what it has left to refund (minor units: its amount
    less every payout still owed, models.still_owed) and how many refunds by its own route
    it has had (providers limit how many one payment may have)."""

    payment: Payment
    left: int
    refunds: int


_PAYMENT = Columns(Payment, "p")


@cache
def _payments_statement(vendor: str, lock: bool) -> str:
    """models.still_owed in SQL, summed per payment beside the payment's columns, by two
    correlated subqueries (each an index read of the payment's payouts), so the payment rows
    alone can be locked."""
    payout, pk = table(Payout), column(Payout, "id")
    owed = (f"(po.{column(Payout, 'state')} IN ({', '.join(['%s'] * len(COMMITTED_STATES))}) "
            f"OR (po.{column(Payout, 'state')} = %s AND NOT EXISTS (SELECT 1 FROM {payout} r "
            f"WHERE r.{column(Payout, 'replaces')} = po.{pk})))")
    of_payment = f"po.{column(Payout, 'payment')} = p.{column(Payment, 'id')}"
    return (
        f"SELECT {_PAYMENT.sql()}, "
        f"COALESCE((SELECT SUM(po.{column(Payout, 'amount_minor')}) FROM {payout} po "
        f"WHERE {of_payment} AND {owed}), 0), "
        f"(SELECT COUNT(*) FROM {payout} po WHERE {of_payment} AND {owed} "
        f"AND po.{column(Payout, 'destination')} = %s) "
        f"FROM {table(Payment)} p WHERE p.{column(Payment, 'order')} = %s "
        f"ORDER BY p.{column(Payment, 'position')}, p.{column(Payment, 'id')}"
        + (" FOR UPDATE OF p" if lock else ""))


def payments_left(case: RefundCase) -> list[PaymentLeft]:
    """The payments of the case's order, in their order, each with what it has left. The
    payment rows are locked, so two approvals on one order plan one after the other. One
    fixed statement (core/statements.py): it runs with every approval."""
    states = [*COMMITTED_STATES, PayoutState.FAILED]  # still_owed's, once per subquery
    rows = fetch(_payments_statement(connection.vendor,
                                     connection.features.has_select_for_update_of),
                 [*states, *states, Destination.ORIGINAL, case.order_id])
    found = []
    for row in rows:
        payment = _PAYMENT.instance(row)
        owed, refunds = row[_PAYMENT.width:]
        # PostgreSQL sums a bigint column as numeric: a Decimal of a whole number.
        found.append(PaymentLeft(payment, payment.amount_minor - int(owed), refunds))
    return found


def left_to_refund(case: RefundCase) -> dict[str, int]:
    return {found.payment.payment_id: found.left for found in payments_left(case)}


def plan_payouts(case: RefundCase, *, now: datetime) -> list[Payout]:
    payments = {found.payment.payment_id: found for found in payments_left(case)}
    left = {payment_id: found.left for payment_id, found in payments.items()}
    approved = case.approved_total_minor or 0
    shares = shares_of(case.assessment, lambda text: parse_amount(text, case.currency))
    if approved > sum(max(0, left.get(share.payment, 0)) for share in shares):
        shares += goodwill_shares(case, [found.payment for found in payments.values()],
                                  shares)
    try:
        planned = plan(shares, approved, left)
    except PlanError:
        room = sum(max(0, left.get(share.payment, 0)) for share in shares)
        raise CaseError(_("The payments this refund goes back to have only %(left)s left "
                          "to refund.") % {"left": format_money(room, case.currency)}) from None
    payouts = []
    for item in planned:
        found = payments[item.payment]
        destination, gateway_name, fallback_reason = route_of(item, found, now)
        method = item.method if destination == Destination.ORIGINAL else "balance"
        # Due at once: the worker takes it up with its next pass (runner.py).
        payouts.append(Payout(
            case=case, payment=found.payment, destination=destination, gateway=gateway_name,
            fallback_reason=fallback_reason, amount_minor=item.amount,
            currency=case.currency, created_at=now, next_attempt_at=now,
            expected_at=sla.payout_expected(case, method, now)))
    return list(insert(payouts))  # a fixed statement: every approval plans payouts


def goodwill_shares(case: RefundCase, payments: Iterable[Payment], shares: Sequence[Share]
                    ) -> list[Share]:
    """The order's payments the assessment gave nothing, as shares of nothing routed by the
    case's policy: staff who grant more than the assessed payments can take (a goodwill or
    appeal amount on an assessment of 0.00) spread it over what the order's payments still
    have left, by the same routing rules as the assessment."""
    assessed = {share.payment for share in shares}
    destination = policy_by_ref(case.policy_ref).destination
    invoiced = case.order.is_invoiced
    extra = []
    for payment in payments:
        if payment.payment_id in assessed:
            continue
        route = routing.route_of(destination, method=payment.method, funding=payment.funding,
                                 invoiced=invoiced)
        extra.append(Share(payment.payment_id, payment.method, payment.funding,
                           route.destination, 0, route.fallback))
    return extra


def route_of(item: PlannedPayout, found: PaymentLeft, now: datetime
             ) -> tuple[str, str, str]:
    """(destination, gateway, why not the original route) of a planned payout. A cash
    refund whose gateway cannot take it now (the method is switched off, the payment is
    older than the provider refunds, no gateway is named) goes to the policy's fallback,
    when it has one. Without one, a payment naming no gateway fails at the worker, for
    finance to redirect or pay by hand: guessing a gateway would "pay" nothing."""
    if item.destination != Destination.ORIGINAL:
        return item.destination, LEDGER_GATEWAY, ""
    payment = found.payment
    name = payment.gateway
    try:
        reason = (gateway(name).why_not_original(payment.method, payment.paid_at, now,
                                                 found.refunds)
                  if name else FallbackReason.METHOD_UNAVAILABLE)
    except GatewayError:
        reason = None  # not configured: the payout waits for it (runner.py)
    if reason and item.fallback:
        return item.fallback, LEDGER_GATEWAY, reason
    return Destination.ORIGINAL, name, ""

