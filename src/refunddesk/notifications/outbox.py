"""notify(case, kind): an e-mail for the customer, queued in the caller's transaction.

The delivery row and the task that sends it are written in the same transaction as the
change they report (django-tasks' database backend stores the task as a row), so a
rolled-back change sends nothing and a committed one is never forgotten.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils import timezone

from refunddesk.notifications.models import EmailDelivery

if TYPE_CHECKING:
    from refunddesk.cases.models import RefundCase


def notify(case: RefundCase, kind: str) -> EmailDelivery:
    from refunddesk.notifications.tasks import send_delivery

    delivery = EmailDelivery.objects.create(
        case=case, kind=kind, to_address=case.account.email, language=case.language,
        created_at=timezone.now())
    send_delivery.enqueue(delivery.pk)
    return delivery
