"""Sending queued e-mail, by the claim-and-lease protocol every outbox shares
(core/leasing.py): claim the delivery in a short transaction, talk to the SMTP server with
no transaction open and no lock held, record the outcome in a short transaction that
checks the claim is still ours.

- Each delivery's task (queued in the transaction that wrote it; one task for the
  e-mails of a batch) claims that delivery if it is still queued and due; a duplicate run
  of the task finds it claimed, sent or not yet due again, and sends nothing.
- A failure is retried on the shared backoff (1, 2, 4, 8, 16 minutes): the retry's task is
  queued in the transaction that records the failure, so it exists exactly when the
  attempt is recorded. After MAX_ATTEMPTS the delivery is failed.
- A worker that dies while the SMTP server answers leaves the delivery claimed until its
  lease runs out; the worker's sweep (`send_stalled`, once a minute) then takes it. The
  mail may have gone out before the worker died: e-mail is delivered at least once.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django_tasks import task

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
# A delivery due for this long has lost its task (or its worker): the sweep takes it.
STALLED_AFTER = timedelta(minutes=1)
BATCH = 50


def retry_delay(attempts: int) -> timedelta:
    """How long to wait after the `attempts`-th failure: 1, 2, 4, 8, 16 minutes."""
    return RETRY.delay(attempts)


def _error_text(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:2000]


def waiting() -> QuerySet[EmailDelivery]:
    return (EmailDelivery.objects.filter(status=Status.QUEUED)
            .select_related("case__account", "case__order"))


@task()
def send_delivery(delivery_id: int) -> str:
    sent = send_due(waiting().filter(pk=delivery_id), now=timezone.now(), limit=1)
    if sent:
        return sent[0]
    status = EmailDelivery.objects.filter(pk=delivery_id).values_list("status", flat=True)
    return status.first() or "missing"


@task()
def send_deliveries(delivery_ids: list[int]) -> int:
    """The e-mails of one change or batch (outbox), each claimed and sent as by
    send_delivery; how many were taken."""
    return len(send_due(waiting().filter(pk__in=delivery_ids), now=timezone.now(),
                        limit=len(delivery_ids)))


def send_stalled(now: datetime | None = None, *, limit: int = BATCH) -> int:
    """The worker's sweep: send the deliveries whose task was lost or whose worker died
    (due for longer than STALLED_AFTER); how many it took."""
    now = now or timezone.now()
    return len(send_due(waiting().filter(next_attempt_at__lte=now - STALLED_AFTER),
                        now=now, limit=limit))


def send_due(deliveries: QuerySet[EmailDelivery], *, now: datetime, limit: int) -> list[str]:
    """Claim the due deliveries among `deliveries`, send each; the statuses of those sent
    or tried. A slow SMTP server must not keep a batch past its lease (the sweep would
    take the rest and send them twice): what is left when most of the lease is used goes
    back to the queue untouched, with a task of its own."""
    deadline = time.monotonic() + 0.8 * LEASE.total_seconds()
    statuses, left = [], []
    for delivery in leasing.claim_due(deliveries, now=now, lease=LEASE, limit=limit):
        if time.monotonic() < deadline:
            statuses.append(send_claimed(delivery, now=now))
        else:
            left.append(leasing.Claim.of(delivery))
    if left:
        with transaction.atomic():
            released = [claim.pk for claim in left
                        if leasing.release(EmailDelivery, claim, now)]
            if released:
                send_deliveries.enqueue(released)
    return statuses


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
    retry_at = RETRY.next_attempt_at(claim.attempt, now)
    with transaction.atomic():
        status = _record(claim, subject=subject[:200], last_error=error,
                         next_attempt_at=retry_at)
        if status == Status.QUEUED:
            # In the transaction that records the attempt: the retry exists exactly when
            # the attempt is recorded.
            send_delivery.using(run_after=retry_at).enqueue(delivery.pk)
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
