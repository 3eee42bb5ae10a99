"""Changes a customer may make to their billing records: one function each, keyword-only
`actor`, one transaction, the row locked.

The billing system of record is the merchant's; RefundDesk keeps the customer's wish here
(and, later, passes it on through the integration).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from refunddesk.billing.models import Subscription
from refunddesk.cases.actors import require_actor

log = logging.getLogger(__name__)


def cancel_auto_renewal(subscription: Subscription, *, actor: Any,
                        now: datetime | None = None) -> Subscription:
    """Stop a subscription from renewing at the end of its current period.

    Idempotent: a subscription whose auto-renewal is already off is returned unchanged, so
    a double click or a replayed request records nothing new.
    """
    actor = require_actor(actor)
    now = now or timezone.now()
    with transaction.atomic():
        subscription = Subscription.objects.select_for_update().get(pk=subscription.pk)
        if not subscription.is_auto_renew:
            return subscription
        subscription.is_auto_renew = False
        subscription.auto_renew_cancelled_at = now
        subscription.save(update_fields=["is_auto_renew", "auto_renew_cancelled_at"])
    log.info("auto-renewal of subscription %s cancelled by %s", subscription.external_id,
             actor)
    return subscription


def end_subscription(subscription: Subscription, *, actor: Any, ends_at: datetime,
                     now: datetime | None = None) -> Subscription:
    """A refund took back the subscription's time: it does not renew again, and its service
    ends at `ends_at` (at once, or at the end of a period the refund left paid for).

    Called inside the approval's transaction. An earlier end already recorded stands: a
    second refund never gives back time the first one ended."""
    actor = require_actor(actor)
    now = now or timezone.now()
    with transaction.atomic():
        subscription = Subscription.objects.select_for_update().get(pk=subscription.pk)
        changed = []
        if subscription.is_auto_renew:
            subscription.is_auto_renew = False
            changed.append("is_auto_renew")
        if subscription.auto_renew_cancelled_at is None:
            subscription.auto_renew_cancelled_at = now
            changed.append("auto_renew_cancelled_at")
        if subscription.ended_at is None or ends_at < subscription.ended_at:
            subscription.ended_at = ends_at
            changed.append("ended_at")
        if changed:
            subscription.save(update_fields=changed)
    log.info("subscription %s ends at %s after a refund (%s)", subscription.external_id,
             ends_at.isoformat(), actor)
    return subscription
