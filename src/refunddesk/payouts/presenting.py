"""A payout as its customer reads it: where the money goes, what became of it, when it
should arrive, and why it does not go back the way it was paid when it does not.

The functions take one Payout and touch nothing beyond its payment; the text is in the
active language and dates in the active time zone, so the same payout reads right on the
portal, on the tracking page and in an e-mail.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import prefetch_related_objects
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from refunddesk.billing.models import PaymentMethod
from refunddesk.cases.models import RefundCase
from refunddesk.payouts.models import Destination, FallbackReason, Payout, PayoutState
from refunddesk.policy.money import Money

# How much of a payment's reference the customer is shown: enough to recognise the
# payment in a bank or wallet statement, not enough to be worth anything to anyone else.
SHOWN_REFERENCE_CHARACTERS = 4

ON_ITS_WAY, PAID, FAILED, NEEDS_ACTION = "on_its_way", "paid", "failed", "needs_action"

# By the state's value: a payout's `state` is read from its column as a plain string.
_STATUS_OF_STATE: dict[str, str] = {
    PayoutState.PENDING: ON_ITS_WAY,
    PayoutState.SUBMITTED: ON_ITS_WAY,
    PayoutState.UNKNOWN: ON_ITS_WAY,
    PayoutState.SUCCEEDED: PAID,
    PayoutState.FAILED: FAILED,
    PayoutState.REQUIRES_ACTION: NEEDS_ACTION,
}


def method_label(method: str) -> str:
    try:
        return str(PaymentMethod(method).label)
    except ValueError:
        return method


def masked_reference(reference: str) -> str:
    """"****1234" for a reference ending in 1234; "" when the reference is so short that
    its last characters would be all of it."""
    reference = (reference or "").strip()
    if len(reference) <= SHOWN_REFERENCE_CHARACTERS:
        return ""
    return "****" + reference[-SHOWN_REFERENCE_CHARACTERS:]


def destination_label(payout: Payout) -> str:
    """Where the money goes, as the customer finds it: "Alipay ****1234", "Account
    balance", "Voucher credit", "Gift credit"."""
    if payout.destination == Destination.ORIGINAL:
        payment = payout.payment
        masked = masked_reference(payment.reference)
        method = method_label(payment.method)
        return f"{method} {masked}" if masked else method
    labels: dict[str, str] = {
        Destination.BALANCE: _("Account balance"),
        Destination.VOUCHER: _("Voucher credit"),
        Destination.GIFT: _("Gift credit"),
    }
    return labels.get(payout.destination, payout.destination)


def status(payout: Payout) -> str:
    """on_its_way | paid | failed | needs_action: the customer's four cases of a state."""
    return _STATUS_OF_STATE.get(payout.state, ON_ITS_WAY)


def local_date(moment: datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d")


def status_text(payout: Payout) -> str:
    shown = status(payout)
    if shown == PAID:
        if payout.settled_at is None:
            return pgettext("payout", "Paid")
        return _("Paid on %(date)s") % {"date": local_date(payout.settled_at)}
    if shown == FAILED:
        return _("Could not be paid — we are handling it")
    if shown == NEEDS_ACTION:
        return _("Needs action from us")
    return _("On its way")


def expected_arrival(payout: Payout) -> datetime | None:
    """When the money should arrive, while that is still a promise: not once it has
    arrived (then the settled date says it) nor after a failure (the date no longer
    holds; finance's replacement brings its own)."""
    if status(payout) in (ON_ITS_WAY, NEEDS_ACTION):
        return payout.expected_at
    return None


def fallback_sentence(payout: Payout) -> str:
    """Why the money does not go back the way it was paid, in one sentence; "" when it
    does, or when nobody recorded why."""
    if not payout.fallback_reason or payout.destination == Destination.ORIGINAL:
        return ""
    try:
        reason = str(FallbackReason(payout.fallback_reason).label)
    except ValueError:
        return ""
    return _("It does not go back to %(method)s because %(reason)s.") % {
        "method": method_label(payout.payment.method), "reason": reason}


@dataclass(frozen=True)
class CustomerPayout:
    amount: Money
    destination: str
    status: str
    status_text: str
    expected_at: datetime | None
    settled_at: datetime | None
    fallback: str

    @property
    def is_paid(self) -> bool:
        return self.status == PAID


def for_customer(payout: Payout) -> CustomerPayout:
    return CustomerPayout(
        amount=payout.amount, destination=destination_label(payout), status=status(payout),
        status_text=status_text(payout), expected_at=expected_arrival(payout),
        settled_at=payout.settled_at if status(payout) == PAID else None,
        fallback=fallback_sentence(payout))


def customer_payouts(case: RefundCase) -> list[CustomerPayout]:
    """The case's payouts that count (finance's replacements, not what they replaced), as
    its customer reads them; one query for the payouts, one for their payments."""
    payouts = Payout.objects.current_for([case.pk]).get(case.pk, [])
    prefetch_related_objects(payouts, "payment")
    return [for_customer(payout) for payout in payouts]
