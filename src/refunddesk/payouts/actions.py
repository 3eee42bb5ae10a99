"""Changes of payouts. `plan_payouts` runs inside an approval's transaction (the case row is
locked by the caller): the approved amount becomes pending Payout rows, one per route, so
the decision and its money plan commit together or not at all."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Sum
from django.utils.translation import gettext_lazy as _

from refunddesk.cases import sla
from refunddesk.cases.errors import CaseError
from refunddesk.cases.models import RefundCase
from refunddesk.payouts.models import COMMITTED_STATES, Destination, Payout
from refunddesk.payouts.planning import PlanError, plan, shares_of
from refunddesk.policy.money import format_amount, parse_amount

# Credits in kind (balance, voucher, gift) are written to the account's ledger.
LEDGER_GATEWAY = "balance"
DEFAULT_GATEWAY = "sandbox"


def left_to_refund(case: RefundCase) -> dict[str, int]:
    """What each payment of the case's order can still refund: its amount less every payout
    that moved or may have moved money. The payment rows are locked, so two approvals on
    one order plan one after the other."""
    payments = list(case.order.payments.select_for_update().order_by("position", "pk"))
    paid_out = dict(
        Payout.objects.filter(payment__in=payments, state__in=COMMITTED_STATES)
        .values("payment").annotate(total=Sum("amount_minor")).values_list("payment", "total"))
    return {payment.payment_id: payment.amount_minor - (paid_out.get(payment.pk) or 0)
            for payment in payments}


def plan_payouts(case: RefundCase, *, now: datetime) -> list[Payout]:
    payments = {payment.payment_id: payment for payment in case.order.payments.all()}
    left = left_to_refund(case)
    shares = shares_of(case.assessment, lambda text: parse_amount(text, case.currency))
    try:
        planned = plan(shares, case.approved_total_minor or 0, left)
    except PlanError:
        room = sum(max(0, left.get(share.payment, 0)) for share in shares)
        raise CaseError(_("The payments this refund goes back to have only %(left)s "
                          "%(currency)s left to refund.")
                        % {"left": format_amount(room, case.currency),
                           "currency": case.currency}) from None
    payouts = []
    for item in planned:
        payment = payments[item.payment]
        is_original = item.destination == Destination.ORIGINAL
        method = item.method if is_original else "balance"
        payouts.append(Payout(
            case=case, payment=payment, destination=item.destination,
            gateway=(payment.gateway or DEFAULT_GATEWAY) if is_original else LEDGER_GATEWAY,
            amount_minor=item.amount, currency=case.currency, created_at=now,
            expected_at=sla.payout_expected(case, method, now)))
    return Payout.objects.bulk_create(payouts)
