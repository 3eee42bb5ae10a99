"""Sending queued e-mail. Idempotent: a delivery already sent (or given up) is not sent
again, and the row lock keeps two workers from sending the same one at once. Failures are
retried with exponential backoff, then the delivery is marked failed.

The lock is held while the SMTP server answers, so that "sent" is recorded in the same
transaction that decided to send. On PostgreSQL that locks one row; on SQLite it holds the
database's write lock, for at most EMAIL_TIMEOUT per SMTP step.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.utils import timezone
from django_tasks import task

from refunddesk.notifications.compose import compose
from refunddesk.notifications.models import EmailDelivery, Status
from refunddesk.notifications.threading import thread_headers

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
FIRST_RETRY = timedelta(minutes=1)


def retry_delay(attempts: int) -> timedelta:
    """How long to wait after the `attempts`-th failure: 1, 2, 4, 8, 16 minutes."""
    return FIRST_RETRY * 2 ** (attempts - 1)


def _error_text(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:2000]


@task()
def send_delivery(delivery_id: int) -> str:
    with transaction.atomic():
        delivery = (EmailDelivery.objects.select_for_update(of=("self",))
                    .select_related("case__account", "case__order").get(pk=delivery_id))
        if delivery.status != Status.QUEUED:
            return delivery.status
        delivery.attempts += 1
        try:
            subject, text, html = compose(delivery)
        except Exception as error:
            # A fault in our templates or data: trying again later would give the same
            # result, so the delivery fails now, visibly, instead of hanging in the queue.
            delivery.status, delivery.last_error = Status.FAILED, _error_text(error)
            delivery.save()
            log.exception("e-mail %s could not be composed", delivery.pk)
            return delivery.status
        delivery.subject = subject[:200]
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
            delivery.last_error = _error_text(error)
            if delivery.attempts >= MAX_ATTEMPTS:
                delivery.status = Status.FAILED
                log.error("e-mail %s failed for good after %s attempts: %s", delivery.pk,
                          delivery.attempts, delivery.last_error)
            else:
                # Queued in this transaction: the retry exists exactly when the attempt is
                # recorded.
                send_delivery.using(
                    run_after=timezone.now() + retry_delay(delivery.attempts)
                ).enqueue(delivery.pk)
                log.warning("e-mail %s failed (attempt %s), retrying: %s", delivery.pk,
                            delivery.attempts, delivery.last_error)
        else:
            delivery.status, delivery.sent_at, delivery.last_error = (
                Status.SENT, timezone.now(), "")
            log.info("e-mail %s (%s) sent to %s", delivery.pk, delivery.kind,
                     delivery.to_address)
        delivery.save()
        return delivery.status
