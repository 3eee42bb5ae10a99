"""What an admin does with webhooks: register an endpoint, change what it receives, roll
its secret, disable or enable it, and send a delivery again by hand. Each checks the
actor's permission itself (permissions.py) and refuses bad input with a WebhookError
that says what is wrong, changing nothing."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from refunddesk.core import invalidation
from refunddesk.notifications import webhook_addresses
from refunddesk.notifications.models import (
    DeliveryState,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from refunddesk.notifications.permissions import require_manage_webhooks
from refunddesk.notifications.webhook_sending import SCHEMES, Claim, claim_of, post, record
from refunddesk.notifications.webhook_signing import new_secret


class WebhookError(Exception):
    def __init__(self, message: Any, field: str = ""):
        super().__init__(str(message))
        self.message, self.field = message, field


def check_url(url: str) -> str:
    url = (url or "").strip()
    if not url:
        raise WebhookError(_("Enter the address that receives the events."), "url")
    if urlsplit(url).scheme.lower() not in SCHEMES:
        raise WebhookError(_("Only http:// and https:// addresses can receive webhooks."),
                           "url")
    try:
        URLValidator(schemes=list(SCHEMES))(url)
    except ValidationError:
        raise WebhookError(_("This is not a valid web address."), "url") from None
    if len(url) > 2000:
        raise WebhookError(_("The address can have at most 2000 characters."), "url")
    if urlsplit(url).username is not None:
        # Every admin reads the address on the console and the worker writes it to its
        # log; `https://trusted.example@10.0.0.5/` also reads as a host it is not.
        raise WebhookError(_("Leave the user name and password out of the address: the "
                             "signature tells your system the events come from RefundDesk."),
                           "url")
    try:
        webhook_addresses.check(url)
    except webhook_addresses.Refused as refusal:
        raise WebhookError(refusal.message, "url") from None
    return url


def check_events(events: Iterable[str]) -> list[str]:
    chosen = set(events)
    unknown = sorted(chosen - set(WebhookEvent.values))
    if unknown:
        raise WebhookError(_("Unknown events: %(events)s.") % {"events": ", ".join(unknown)},
                           "events")
    if not chosen:
        raise WebhookError(_("Choose at least one event."), "events")
    # In the order of the list of events, so pages and exports read the same.
    return [value for value in WebhookEvent.values if value in chosen]


def add_endpoint(*, url: str, events: Iterable[str], actor: Any, description: str = "",
                 now: datetime | None = None) -> WebhookEndpoint:
    require_manage_webhooks(actor)
    invalidation.written(invalidation.WEBHOOK_ENDPOINTS)
    return WebhookEndpoint.objects.create(
        url=check_url(url), events=check_events(events), description=description.strip()[:200],
        secret=new_secret(), created_by=actor, created_at=now or timezone.now())


def change_endpoint(endpoint: WebhookEndpoint, *, url: str, events: Iterable[str],
                    description: str, actor: Any) -> WebhookEndpoint:
    """New address, events or description. Deliveries still pending go to the new
    address; events already emitted stay with the endpoint they were emitted for."""
    require_manage_webhooks(actor)
    endpoint.url, endpoint.events = check_url(url), check_events(events)
    endpoint.description = description.strip()[:200]
    endpoint.save(update_fields=["url", "events", "description"])
    invalidation.written(invalidation.WEBHOOK_ENDPOINTS)
    return endpoint


def roll_secret(endpoint: WebhookEndpoint, *, actor: Any) -> WebhookEndpoint:
    """A new signing secret, used from the next attempt on; the old one stops at once."""
    require_manage_webhooks(actor)
    endpoint.secret = new_secret()
    endpoint.save(update_fields=["secret"])
    invalidation.written(invalidation.WEBHOOK_ENDPOINTS)
    return endpoint


def set_active(endpoint: WebhookEndpoint, *, is_active: bool, actor: Any) -> WebhookEndpoint:
    """Disable (no new events; pending deliveries give up at their next attempt) or enable
    (new events again; what gave up meanwhile is redelivered by hand)."""
    require_manage_webhooks(actor)
    endpoint.is_active = is_active
    endpoint.save(update_fields=["is_active"])
    invalidation.written(invalidation.WEBHOOK_ENDPOINTS)
    return endpoint


def redeliver(delivery: WebhookDelivery, *, actor: Any, now: datetime | None = None
              ) -> WebhookAttempt:
    """Send a finished delivery (succeeded or given up) again now: the same event id and
    body, a fresh signature, logged as a manual attempt by `actor`. A pending delivery is
    left to its schedule. The call is made with no transaction open."""
    require_manage_webhooks(actor)
    now = now or timezone.now()
    claim = _claim_manual(delivery)
    answer = post(claim)
    return record(claim, answer, now, sent_by=actor)


def _claim_manual(delivery: WebhookDelivery) -> Claim:
    with transaction.atomic():
        locked = (WebhookDelivery.objects.select_for_update(of=("self",))
                  .select_related("endpoint").get(pk=delivery.pk))
        if locked.state == DeliveryState.PENDING:
            raise WebhookError(_("This delivery is still being tried on its schedule; it "
                                 "can be sent again by hand once it has succeeded or been "
                                 "given up."))
        if not locked.endpoint.is_active:
            raise WebhookError(_("The endpoint is disabled: enable it before sending to it "
                                 "again."))
        locked.attempts += 1
        locked.save(update_fields=["attempts"])
        return claim_of(locked)
