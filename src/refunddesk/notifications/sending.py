"""Sending queued e-mail. The EmailDelivery rows are the queue (outbox.py writes them in the
transaction of the change they report), taken by the claim-and-lease protocol every outbox
shares (core/leasing.py): claim due deliveries in a short transaction, talk to the SMTP
server with no transaction open and no lock held, record the outcome in a short
transaction that checks the claim is still ours.

- Every worker takes the due deliveries every REFUNDDESK_OUTBOX_POLL_SECONDS (default 1;
  core/periodic.py), as it takes the due payouts: a change writes its deliveries and
  nothing else, and a second worker skips the rows the first is claiming.
- A failure is retried on the shared backoff (1, 2, 4, 8, 16 minutes): the outcome moves
  the delivery's `next_attempt_at`, and the pass after that moment takes it. After
  MAX_ATTEMPTS the delivery is failed.
- A worker that dies while the SMTP server answers leaves the delivery claimed until its
  lease runs out; the next pass then takes it. The mail may have gone out before the
  worker died: e-mail is delivered at least once.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db.models import QuerySet
from django.utils import timezone

from refunddesk.core import leasing
from refunddesk.notifications.compose import compose
from refunddesk.notifications.models import EmailDelivery, Status
from refunddesk.notifications.threading import thread_headers

log = logging.getLogger(__name__)

RETRY = leasing.RetryPolicy(first=timedelta(minutes=1), longest=timedelta(hours=1),
                            max_attempts=6)
MAX_ATTEMPTS = RETRY.max_attempts
# Longer than an SMTP conversation can take (EMAIL_TIMEOUT bounds each of its steps).
LEASE = timedelta(minutes=5)
BATCH = 50  # deliveries claimed at once; a pass that took as many runs again at once


def retry_delay(attempts: int) -> timedelta:
    """How long to wait after the `attempts`-th failure: 1, 2, 4, 8, 16 minutes."""
    return RETRY.delay(attempts)


def _error_text(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:2000]


def waiting() -> QuerySet[EmailDelivery]:
    return (EmailDelivery.objects.filter(status=Status.QUEUED)
            .select_related("case__account", "case__order"))


def send_waiting(now: datetime | None = None, *, limit: int = BATCH) -> int:
    """The worker's pass: claim up to `limit` due deliveries and send each; how many it
    sent or tried. What a slow SMTP server leaves no time for goes back to the queue
    untouched, due again at once (leasing.time_left)."""
    now = now or timezone.now()
    in_time = leasing.time_left(LEASE)
    tried = 0
    for delivery in leasing.claim_due(waiting(), now=now, lease=LEASE, limit=limit):
        if in_time():
            send_claimed(delivery, now=now)
            tried += 1
        else:
            leasing.release(EmailDelivery, leasing.Claim.of(delivery), now)
    return tried


def send_claimed(delivery: EmailDelivery, *, now: datetime) -> str:
    """Compose and send one claimed delivery, then record how it went."""
    claim = leasing.Claim.of(delivery)
    try:
        subject, text, html = compose(delivery)
    except Exception as error:
        # A fault in our templates or data: trying again later would give the same
        # result, so the delivery fails now, visibly, instead of hanging in the queue.
        log.exception("e-mail %s could not be composed", delivery.pk)
        return _record(claim, status=Status.FAILED, last_error=_error_text(error),
                       next_attempt_at=None)
    headers, reply_to = thread_headers(delivery)
    message = EmailMultiAlternatives(subject, text, settings.DEFAULT_FROM_EMAIL,
                                     [delivery.to_address], headers=headers,
                                     reply_to=reply_to)
    message.attach_alternative(html, "text/html")
    try:
        message.send()  # the SMTP backend times out after settings.EMAIL_TIMEOUT
    except Exception as error:
        # Refused, unreachable, timed out, or an answer we did not expect: all worth
        # another try while attempts remain (SMTPException and OSError in practice).
        return _failed(delivery, claim, subject=subject, error=_error_text(error), now=now)
    log.info("e-mail %s (%s) sent to %s", delivery.pk, delivery.kind, delivery.to_address)
    return _record(claim, status=Status.SENT, subject=subject[:200], last_error="",
                   sent_at=timezone.now(), next_attempt_at=None)


def _failed(delivery: EmailDelivery, claim: leasing.Claim, *, subject: str, error: str,
            now: datetime) -> str:
    if RETRY.is_exhausted(claim.attempt):
        log.error("e-mail %s failed for good after %s attempts: %s", delivery.pk,
                  claim.attempt, error)
        return _record(claim, status=Status.FAILED, subject=subject[:200], last_error=error,
                       next_attempt_at=None)
    status = _record(claim, subject=subject[:200], last_error=error,
                     next_attempt_at=RETRY.next_attempt_at(claim.attempt, now))
    log.warning("e-mail %s failed (attempt %s), retrying: %s", delivery.pk, claim.attempt,
                error)
    return status


def _record(claim: leasing.Claim, **changes: object) -> str:
    """Write the outcome (one UPDATE) if the claim is still ours; the delivery's status
    after."""
    if leasing.record_if_current(EmailDelivery, claim, **changes):
        return str(changes.get("status", Status.QUEUED))
    # Another worker took it after our lease ran out: its outcome counts.
    log.warning("e-mail %s: the outcome of attempt %s came after its lease ran out; "
                "dropped", claim.pk, claim.attempt)
    status = EmailDelivery.objects.filter(pk=claim.pk).values_list("status", flat=True)
    return status.first() or "missing"
