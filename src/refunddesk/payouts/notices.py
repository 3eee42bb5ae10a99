"""Providers' notifications about refunds (`/gateways/<name>/notify`): verified by the
gateway's adapter before anything of them is read, applied to their payout once, answered in
the provider's expected format.

A notification only ever moves a payout forward: one still in motion takes the state it
reports (and its case follows, as after a worker's pass); one that has ended keeps what it
ended with, whatever arrives late or out of order. The worker keeps asking about payouts in
motion, so a notification that never comes costs time, not money; one that comes twice is
recognised by its id and changes nothing.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from refunddesk.cases.actions.settlement import settle_cases
from refunddesk.cases.actors import PAYOUT_RUNNER
from refunddesk.payouts.gateways import gateway
from refunddesk.payouts.gateways.base import (
    Acknowledgement,
    GatewayError,
    Notification,
    NotificationRejected,
)
from refunddesk.payouts.models import (
    FINAL_STATES,
    GatewayNotification,
    NotificationOutcome,
    Payout,
    PayoutState,
)

log = logging.getLogger(__name__)

KEY = re.compile(r"refunddesk-payout-(\d{1,18})")


class NoSuchEndpoint(Exception):
    """No configured gateway of that name takes notifications."""


@dataclass(frozen=True)
class Received:
    outcome: str  # a NotificationOutcome value, or "rejected"
    acknowledgement: Acknowledgement


def receive(name: str, body: bytes, headers: Mapping[str, str], *,
            now: datetime | None = None) -> Received:
    try:
        adapter = gateway(name)
    except GatewayError:
        raise NoSuchEndpoint(name) from None
    if not adapter.takes_notifications():
        raise NoSuchEndpoint(name)
    try:
        notice = adapter.read_notification(body, headers)
    except NotificationRejected as rejected:
        # Nothing of it is trusted, so nothing of it is stored: the log is the trace.
        log.warning("gateway %s: a notification was refused: %s", name, rejected.reason)
        return Received("rejected", adapter.acknowledge(accepted=False,
                                                        reason=rejected.reason))
    except Exception:
        # A malformed notification the adapter did not foresee: refused all the same (the
        # provider sends a genuine one again), never a server error.
        log.exception("gateway %s: a notification could not be read", name)
        return Received("rejected", adapter.acknowledge(accepted=False,
                                                        reason="unreadable notification"))
    outcome = apply_notification(name, notice, now=now or timezone.now())
    return Received(outcome, adapter.acknowledge(accepted=True))


def _payout_of(name: str, notice: Notification) -> Payout | None:
    """The payout the notification is about, locked: by our request number, else by the
    provider's refund id. Only a payout of this gateway: another gateway's notification
    naming our number must not touch it."""
    payouts = Payout.objects.select_for_update(of=("self",)).filter(gateway=name)
    match = KEY.fullmatch(notice.payout_key) if notice.payout_key else None
    if match:
        return payouts.filter(pk=int(match.group(1))).first()
    if notice.refund_id:
        return payouts.filter(gateway_refund_id=notice.refund_id).first()
    return None


def apply_notification(name: str, notice: Notification, *, now: datetime) -> str:
    """Record one verified notification; its NotificationOutcome value."""
    with transaction.atomic():
        try:
            with transaction.atomic():
                row = GatewayNotification.objects.create(
                    gateway=name, notification_id=notice.notification_id[:128],
                    event=notice.event[:64], received_at=now,
                    outcome=NotificationOutcome.UNCHANGED,
                    state=notice.status.state if notice.status else "")
        except IntegrityError:
            log.info("gateway %s: notification %s came again; nothing changes", name,
                     notice.notification_id)
            return NotificationOutcome.UNCHANGED
        payout = _payout_of(name, notice)
        row.payout = payout
        if payout is None:
            log.warning("gateway %s: notification %s (%s) is about no payout of ours "
                        "(request %r, refund %r)", name, notice.notification_id,
                        notice.event, notice.payout_key, notice.refund_id)
            row.outcome = NotificationOutcome.UNKNOWN_PAYOUT
        elif payout.state in FINAL_STATES:
            if notice.status is not None and notice.status.state != payout.state:
                log.warning("gateway %s: notification %s says %s about payout %s, which "
                            "already ended as %s; it stays so", name,
                            notice.notification_id, notice.status.state, payout.pk,
                            payout.state)
            row.outcome = NotificationOutcome.LATE
        elif notice.status is not None and _differs(notice, payout):
            log.error("gateway %s: notification %s about payout %s names %s %s, the payout "
                      "is %s %s; not applied, for finance to look into", name,
                      notice.notification_id, payout.pk, notice.amount_minor,
                      notice.currency, payout.amount_minor, payout.currency)
            row.outcome = NotificationOutcome.UNCHANGED
        elif notice.status is not None and _moves(payout, notice, now):
            row.outcome = NotificationOutcome.APPLIED
        row.save(update_fields=["payout", "outcome"])
        return row.outcome


def _differs(notice: Notification, payout: Payout) -> bool:
    return ((notice.amount_minor is not None and notice.amount_minor != payout.amount_minor)
            or (bool(notice.currency) and notice.currency.upper() != payout.currency))


def _moves(payout: Payout, notice: Notification, now: datetime) -> bool:
    """Write the reported state onto the locked payout and settle its case; whether it
    changed anything."""
    status = notice.status
    assert status is not None
    if status.state == payout.state and (not status.refund_id
                                         or status.refund_id == payout.gateway_refund_id):
        return False
    if status.refund_id and not payout.gateway_refund_id:
        payout.gateway_refund_id = status.refund_id[:128]
    payout.state = status.state
    payout.last_error_code = status.error_code[:64]
    payout.last_error_message = status.error_message
    if payout.submitted_at is None:
        payout.submitted_at = now
    ended = status.state in FINAL_STATES
    if ended:
        payout.next_attempt_at = None
        if status.state == PayoutState.SUCCEEDED:
            payout.settled_at = status.settled_at or now
    payout.save(update_fields=["state", "gateway_refund_id", "last_error_code",
                               "last_error_message", "submitted_at", "next_attempt_at",
                               "settled_at", "updated_at"])
    settle_cases([payout.case_id], actor=PAYOUT_RUNNER, now=now,
                 ended=[payout] if ended else [])
    return True
