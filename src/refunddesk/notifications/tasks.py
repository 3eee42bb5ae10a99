"""Sending queued e-mail. Idempotent: a delivery already sent is not sent again, and the row
lock keeps two workers from sending the same one at once. Failures are retried with
exponential backoff, then the delivery is marked failed."""

from __future__ import annotations

import logging
import smtplib
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.utils import timezone
from django_tasks import task

from refunddesk.notifications.compose import compose
from refunddesk.notifications.models import EmailDelivery, Status

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
FIRST_RETRY = timedelta(minutes=1)


def retry_delay(attempts: int) -> timedelta:
    return FIRST_RETRY * 2 ** (attempts - 1)  # 1, 2, 4, 8, 16 minutes


@task()
def send_delivery(delivery_id: int) -> str:
    with transaction.atomic():
        delivery = (EmailDelivery.objects.select_for_update()
                    .select_related("case__account", "case__order").get(pk=delivery_id))
        if delivery.status != Status.QUEUED:
            return delivery.status
        subject, text, html = compose(delivery)
        delivery.subject = subject[:200]
        delivery.attempts += 1
        message = EmailMultiAlternatives(subject, text, settings.DEFAULT_FROM_EMAIL,
                                         [delivery.to_address])
        message.attach_alternative(html, "text/html")
        try:
            message.send()  # the SMTP backend times out after settings.EMAIL_TIMEOUT
        except (smtplib.SMTPException, OSError) as error:
            delivery.last_error = f"{type(error).__name__}: {error}"[:2000]
            if delivery.attempts >= MAX_ATTEMPTS:
                delivery.status = Status.FAILED
                log.error("e-mail %s failed for good: %s", delivery.pk, delivery.last_error)
            else:
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
