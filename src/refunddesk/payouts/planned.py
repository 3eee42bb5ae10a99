"""The payouts an approval plans. `plan_payouts` runs inside the approval's transaction
(the case row is locked by the caller): the approved amount becomes pending Payout rows,
one per route, due at once, so the decision and its money plan commit together or not at
all, and the worker finds the plan as soon as it is committed."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, TypedDict

from django.db.models import Count, F, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from refunddesk.billing.models import Payment
from refunddesk.cases import sla
from refunddesk.cases.errors import CaseError
from refunddesk.cases.models import RefundCase
from refunddesk.core.money import format_money
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


if TYPE_CHECKING:
    # Python 3.11 cannot subscript WithAnnotations with two arguments: for mypy only.
    from django_stubs_ext import WithAnnotations

    class _Left(TypedDict):
        left: int  # minor units
        refunds: int

    PaymentLeft = WithAnnotations[Payment, _Left]  # a payment as payments_left reads it
def payments_left(case: RefundCase) -> list[PaymentLeft]:
    """The payments of the case's order, each annotated with `left`: its amount less every
    payout that moved or may have moved money, and `refunds`. The payment rows are locked,
    so two approvals on one order plan one after the other; one query."""
    # A failed payout still counts until finance replaced it: its money is still owed,
    # and finance's retry or redirect will pay it.
    paid_out = (Payout.objects.filter(Q(state__in=COMMITTED_STATES)
                                      | Q(state=PayoutState.FAILED, replaced_by__isnull=True),
                                      payment=OuterRef("pk"))
                .values("payment").annotate(total=Sum("amount_minor")).values("total"))
    # Refunds by the payment's own route so far: providers limit how many one payment has.
    refunds = (Payout.objects.filter(Q(state__in=COMMITTED_STATES)
                                     | Q(state=PayoutState.FAILED, replaced_by__isnull=True),
                                     payment=OuterRef("pk"), destination=Destination.ORIGINAL)
               .values("payment").annotate(count=Count("pk")).values("count"))
    payments = list(Payment.objects.select_for_update().filter(order_id=case.order_id)
                    .annotate(left=F("amount_minor") - Coalesce(Subquery(paid_out), 0),
                              refunds=Coalesce(Subquery(refunds), 0))
                    .order_by("position", "pk"))
    return payments


def left_to_refund(case: RefundCase) -> dict[str, int]:
    return {payment.payment_id: payment.left for payment in payments_left(case)}


def plan_payouts(case: RefundCase, *, now: datetime) -> list[Payout]:
    payments = {payment.payment_id: payment for payment in payments_left(case)}
    left = {payment_id: payment.left for payment_id, payment in payments.items()}
    approved = case.approved_total_minor or 0
    shares = shares_of(case.assessment, lambda text: parse_amount(text, case.currency))
    if approved > sum(max(0, left.get(share.payment, 0)) for share in shares):
        shares += goodwill_shares(case, payments.values(), shares)
    try:
        planned = plan(shares, approved, left)
    except PlanError:
        room = sum(max(0, left.get(share.payment, 0)) for share in shares)
        raise CaseError(_("The payments this refund goes back to have only %(left)s left "
                          "to refund.") % {"left": format_money(room, case.currency)}) from None
    payouts = []
    for item in planned:
        payment = payments[item.payment]
        destination, gateway_name, fallback_reason = route_of(item, payment, now)
        method = item.method if destination == Destination.ORIGINAL else "balance"
        # Due at once: the worker takes it up with its next pass (runner.py).
        payouts.append(Payout(
            case=case, payment=payment, destination=destination, gateway=gateway_name,
            fallback_reason=fallback_reason, amount_minor=item.amount,
            currency=case.currency, created_at=now, next_attempt_at=now,
            expected_at=sla.payout_expected(case, method, now)))
    return Payout.objects.bulk_create(payouts)


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


def route_of(item: PlannedPayout, payment: PaymentLeft, now: datetime
             ) -> tuple[str, str, str]:
    """(destination, gateway, why not the original route) of a planned payout. A cash
    refund whose gateway cannot take it now (the method is switched off, the payment is
    older than the provider refunds, no gateway is named) goes to the policy's fallback,
    when it has one. Without one, a payment naming no gateway fails at the worker, for
    finance to redirect or pay by hand: guessing a gateway would "pay" nothing."""
    if item.destination != Destination.ORIGINAL:
        return item.destination, LEDGER_GATEWAY, ""
    name = payment.gateway
    try:
        reason = (gateway(name).why_not_original(payment.method, payment.paid_at, now,
                                                 payment.refunds)
                  if name else FallbackReason.METHOD_UNAVAILABLE)
    except GatewayError:
        reason = None  # not configured: the payout waits for it (runner.py)
    if reason and item.fallback:
        return item.fallback, LEDGER_GATEWAY, reason
    return Destination.ORIGINAL, name, ""

