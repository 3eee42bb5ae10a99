"""Finance's changes of payouts, each one transaction with one CaseEvent: retry a refused
payout, redirect it to the account's balance, record it as paid outside RefundDesk. A
refused payout is never edited back to life: a new payout replaces it (with a new
idempotency key), so the history of what each gateway was asked stays as it happened.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from refunddesk.cases import sla
from refunddesk.cases.actions.base import locked, move, record
from refunddesk.cases.actions.settlement import payout_details, settle_case
from refunddesk.cases.actors import PAYOUT_RUNNER
from refunddesk.cases.errors import CaseError
from refunddesk.cases.events import EVENT_FOR_TRANSITION, CaseEventType
from refunddesk.cases.states import State
from refunddesk.payouts.models import (
    OUTSIDE_GATEWAY,
    Destination,
    FallbackReason,
    Payout,
    PayoutState,
)
from refunddesk.payouts.permissions import require_manage
from refunddesk.payouts.planned import LEDGER_GATEWAY
from refunddesk.policies.store import policy_by_ref
from refunddesk.policy import routing

# -- finance: what to do with a payout a gateway refused ------------------------------------


class PayoutError(CaseError):
    code = "payout_error"


def _failed_payout(payout: Payout) -> Payout:
    """The payout row, locked, if finance may replace it; else a PayoutError saying why.
    Payouts are locked before their case, in the order the worker locks them."""
    # Only the payout row: locking its payment too would hold up approvals of other cases
    # on the same order.
    locked_payout = (Payout.objects.select_for_update(of=("self",)).select_related("payment")
                     .get(pk=payout.pk))
    if locked_payout.state != PayoutState.FAILED:
        raise PayoutError(_("Only a failed payout can be retried, redirected or recorded "
                            "as paid; this one is “%(state)s”.")
                          % {"state": PayoutState(locked_payout.state).label})
    replacement = Payout.objects.filter(replaces=locked_payout).first()
    if replacement is not None:
        raise PayoutError(_("This payout was already replaced by payout %(payout)s. Reload "
                            "the page to see what changed.") % {"payout": replacement.pk})
    return locked_payout


def _replace(old: Payout, *, actor: Any, action: str, now: datetime, data: dict[str, str],
             event_type: CaseEventType | None = None, **fields: Any) -> Payout:
    case = locked(old.case)
    values: dict[str, Any] = {
        "case": case, "payment": old.payment, "destination": old.destination,
        "gateway": old.gateway, "amount_minor": old.amount_minor, "currency": old.currency,
        "created_at": now, "next_attempt_at": now, "replaces": old,
        "fallback_reason": old.fallback_reason}
    values.update(fields)
    method = old.payment.method if values["destination"] == Destination.ORIGINAL else "balance"
    values.setdefault("expected_at", sla.payout_expected(case, method, now))
    new = Payout.objects.create(**values)
    others_failed = (Payout.objects.filter(case=case, state=PayoutState.FAILED,
                                           replaced_by__isnull=True).exclude(pk=old.pk)
                     .exists())
    before = case.state
    if case.state == State.PAYOUT_FAILED and not others_failed:
        move(case, action)
        case.save(update_fields=["state", "updated_at"])
    record(case, event_type or EVENT_FOR_TRANSITION[action], actor=actor, before=before,
           now=now,
           data={"replaces": str(old.pk), **payout_details(new), **data})
    # What the payouts now say about the case (a payout recorded as paid outside may end
    # it) is the desk's conclusion, not the person's change: the payout runner's, as when
    # the worker records a provider's answer.
    settle_case(case, actor=PAYOUT_RUNNER, now=now,
                ended=[new] if new.state == PayoutState.SUCCEEDED else [])
    return new


def retry_payout(payout: Payout, *, actor: Any, now: datetime | None = None) -> Payout:
    """Send the refused amount again by the same route, as a new payout (a new idempotency
    key: the provider would answer the old key with the old refusal)."""
    require_manage(actor)
    now = now or timezone.now()
    with transaction.atomic():
        old = _failed_payout(payout)
        return _replace(old, actor=actor, action="retry", now=now, data={})


def redirect_to_balance(payout: Payout, *, actor: Any, now: datetime | None = None) -> Payout:
    """Credit the refused amount to the account's balance instead."""
    require_manage(actor)
    now = now or timezone.now()
    with transaction.atomic():
        old = _failed_payout(payout)
        return _replace(old, actor=actor, action="redirect_to_balance", now=now, data={},
                        destination=Destination.BALANCE, gateway=LEDGER_GATEWAY,
                        fallback_reason=FallbackReason.REDIRECTED)


def fall_back(payout: Payout, *, actor: Any, now: datetime | None = None) -> Payout | None:
    """The payout runner's answer to a provider that closed the original route for good
    (the payment is past its refund period): the refused amount goes where the case's
    policy sends what its original route cannot take (the account balance), as a new
    payout. None, and the payout stays failed for finance, when the policy names no such
    fallback. Called by the runner inside the transaction that recorded the refusal."""
    now = now or timezone.now()
    with transaction.atomic():
        old = _failed_payout(payout)
        if old.destination != Destination.ORIGINAL:
            return None
        case = old.case
        route = routing.route_of(policy_by_ref(case.policy_ref).destination,
                                 method=old.payment.method, funding=old.payment.funding,
                                 invoiced=case.order.is_invoiced)
        if not route.fallback:
            return None
        return _replace(old, actor=actor, action="redirect_to_balance", now=now,
                        event_type=CaseEventType.PAYOUT_FELL_BACK,
                        data={"error": old.last_error_code},
                        destination=route.fallback, gateway=LEDGER_GATEWAY,
                        fallback_reason=FallbackReason.REDIRECTED)


def record_paid_outside(payout: Payout, *, actor: Any, reference: str,
                        now: datetime | None = None) -> Payout:
    """Record that finance paid the refused amount another way (a bank transfer, cash),
    with the reference of that payment; it counts as paid at once."""
    require_manage(actor)
    reference = " ".join((reference or "").split())
    if not reference:
        raise PayoutError(_("Enter the reference of the payment made outside RefundDesk (a "
                            "bank transfer number, a receipt number)."))
    if len(reference) > 128:
        raise PayoutError(_("The reference can have at most 128 characters."))
    now = now or timezone.now()
    with transaction.atomic():
        old = _failed_payout(payout)
        earlier = Payout.objects.filter(gateway=OUTSIDE_GATEWAY,
                                        gateway_refund_id=reference).first()
        if earlier is not None:
            raise PayoutError(_("The reference %(reference)s is already recorded, for payout "
                                "%(payout)s of case %(case)s.")
                              % {"reference": reference, "payout": earlier.pk,
                                 "case": earlier.case.tracking_number})
        try:
            with transaction.atomic():
                return _replace(old, actor=actor, action="record_paid_outside", now=now,
                                data={"reference": reference}, gateway=OUTSIDE_GATEWAY,
                                state=PayoutState.SUCCEEDED, gateway_refund_id=reference,
                                submitted_at=now, settled_at=now, next_attempt_at=None,
                                expected_at=now)
        except IntegrityError:
            # A colleague recorded the same reference at this very moment.
            raise PayoutError(_("The reference %(reference)s was recorded by someone else "
                                "a moment ago. Reload the page to see what changed.")
                              % {"reference": reference}) from None
