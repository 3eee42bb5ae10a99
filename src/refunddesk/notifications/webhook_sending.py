"""Sending webhook deliveries. The WebhookDelivery rows are the queue (webhook_events.py
writes them in the transaction of the change they report); every worker takes the due
ones every REFUNDDESK_OUTBOX_POLL_SECONDS (default 1; core/periodic.py), by the
claim-and-lease protocol every outbox shares (core/leasing.py): claim, call, record.

1. Claim, in a short transaction: a delivery still pending and due is taken — its attempt
   counted and a lease set (`next_attempt_at` moved LEASE ahead, longer than a call can
   take). A second worker finds the delivery claimed, not due or finished, and sends
   nothing. A worker that dies during the call leaves it claimed until the lease runs
   out; it is then due again, and the next pass takes it.
2. Call, with no transaction open and no row locked: check the address again
   (webhook_addresses.py) and POST the stored body, signed afresh, to the very address
   checked (webhook_pinning.py), with a 10-second timeout. An address refused now is
   logged as a failed attempt ("refused: …") and not sent. Redirects are not followed: a
   3xx would send a signed body to an address no admin registered, and past the check
   (and 301/302 turn a POST into a GET without the body), so it counts as a failure and
   the admin registers the final URL.
3. Record, in a second short transaction: the attempt's log row; a 2xx ends the delivery;
   a failure at or after 24 hours from the first attempt gives up. Between, the next try
   is booked (`next_attempt_at`) on the shared backoff: 1, 2, 4 …
   minutes after each attempt, at most LONGEST_WAIT, the last one at the 24-hour mark. A
   failure recorded after the claim was lost (the lease ran out and another worker took
   the delivery) is logged and moves nothing: the newer attempt decides.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import requests
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from refunddesk.core import leasing
from refunddesk.notifications import webhook_addresses
from refunddesk.notifications.models import (
    DeliveryState,
    WebhookAttempt,
    WebhookDelivery,
)
from refunddesk.notifications.webhook_pinning import pin, webhook_session
from refunddesk.notifications.webhook_signing import SIGNATURE_HEADER, signature_header

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 10
FIRST_RETRY = timedelta(minutes=1)
LONGEST_WAIT = timedelta(hours=4)
RETRY = leasing.RetryPolicy(first=FIRST_RETRY, longest=LONGEST_WAIT)
RETRY_FOR = timedelta(hours=24)
# Longer than a call can take: TIMEOUT_SECONDS to connect, as long for each read.
LEASE = timedelta(minutes=2)
BATCH = 50  # deliveries claimed at once; a pass that took as many runs again at once
RESPONSE_KEPT = 500  # characters of the receiver's answer kept in the log
USER_AGENT = "RefundDesk-Webhooks/1"
SCHEMES = ("http", "https")
REFUSED = "refused: "  # starts the error of an attempt the address check stopped


def retry_delay(attempts: int) -> timedelta:
    """The wait after the `attempts`-th attempt: 1, 2, 4 … minutes, at most LONGEST_WAIT."""
    return RETRY.delay(attempts)


def next_attempt(first_attempt_at: datetime, attempts: int, now: datetime) -> datetime:
    """When to try again after attempt number `attempts`, made at `now`: never past the
    24-hour mark (the last try is made there), never sooner than a minute (the call made
    now may still be running)."""
    at = min(now + retry_delay(attempts), first_attempt_at + RETRY_FOR)
    return max(at, now + FIRST_RETRY)


@dataclass(frozen=True)
class Claim:
    delivery_id: int
    attempt: int  # the delivery's attempt count after this claim
    url: str
    secret: str
    event_id: str
    event_type: str
    body: bytes


@dataclass(frozen=True)
class Answer:
    status_code: int | None
    duration_ms: int
    error: str = ""
    body: str = ""

    @property
    def is_success(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def claim_of(delivery: WebhookDelivery) -> Claim:
    endpoint = delivery.endpoint
    return Claim(delivery.pk, delivery.attempts, endpoint.url, endpoint.secret,
                 delivery.event_id, delivery.event_type, delivery.payload.encode("utf-8"))


def waiting() -> QuerySet[WebhookDelivery]:
    return (WebhookDelivery.objects.filter(state=DeliveryState.PENDING)
            .select_related("endpoint"))


def claim_due(delivery_id: int, now: datetime) -> Claim | None:
    """Take the delivery for one attempt if it is pending and due; None otherwise."""
    claimed = _claim(waiting().filter(pk=delivery_id), now=now, limit=1)
    return claimed[0] if claimed else None


def _claim(deliveries: QuerySet[WebhookDelivery], *, now: datetime, limit: int
           ) -> list[Claim]:
    claims = []
    for delivery in leasing.claim_due(deliveries, now=now, lease=LEASE, limit=limit):
        if not delivery.endpoint.is_active:
            leasing.record_if_current(
                WebhookDelivery, leasing.Claim.of(delivery), state=DeliveryState.FAILED,
                next_attempt_at=None, last_error="not sent: the endpoint is disabled")
            continue
        claims.append(claim_of(delivery))
    return claims


def _response_start(response: requests.Response) -> str:
    """The start of the receiver's answer; "" when it cannot be read (the status is what
    counts). Only the start is read: an answer of megabytes costs us nothing."""
    try:
        raw = next(response.iter_content(chunk_size=RESPONSE_KEPT * 4), b"")
    except requests.RequestException:
        return ""
    return raw.decode(response.encoding or "utf-8", errors="replace")[:RESPONSE_KEPT]


def post(claim: Claim) -> Answer:
    """One signed POST; every failure becomes an Answer, never an exception."""
    started = time.monotonic()

    def took() -> int:
        return int((time.monotonic() - started) * 1000)

    if urlsplit(claim.url).scheme not in SCHEMES:
        return Answer(None, 0, "not sent: only http and https addresses are called")
    headers = {
        "Content-Type": "application/json", "User-Agent": USER_AGENT,
        "RefundDesk-Event-Id": claim.event_id, "RefundDesk-Event-Type": claim.event_type,
        SIGNATURE_HEADER: signature_header(claim.secret, claim.body, int(time.time())),
    }
    try:
        with webhook_session() as session:
            request = session.prepare_request(
                requests.Request("POST", claim.url, data=claim.body, headers=headers))
            # Checked as requests will send it (the host IDNA-encoded), at every attempt:
            # DNS may have changed since the endpoint was saved. Refused: never sent, and
            # retried on the schedule like any failure (the answer may change back).
            try:
                destination = webhook_addresses.check(request.url or "")
            except webhook_addresses.Refused as refusal:
                log.warning("webhook %s to %s refused, not sent: %s", claim.event_id,
                            claim.url, refusal.reason)
                return Answer(None, took(), f"{REFUSED}{refusal.reason}"[:1000])
            pin(session, destination)
            with session.send(request, stream=True, timeout=TIMEOUT_SECONDS,
                              allow_redirects=False) as response:
                body = _response_start(response)
                status = response.status_code
                location = response.headers.get("Location", "")
    except requests.Timeout:
        return Answer(None, took(), f"no answer within {TIMEOUT_SECONDS} seconds")
    except requests.RequestException as error:
        return Answer(None, took(), f"{type(error).__name__}: {error}"[:1000])
    if 200 <= status < 300:
        return Answer(status, took(), "", body)
    if 300 <= status < 400:
        failure = f"HTTP {status}: redirect to {location or '(no Location)'} not followed"
    else:
        failure = f"HTTP {status}"
    return Answer(status, took(), failure[:1000], body)


def record(claim: Claim, answer: Answer, at: datetime, *, sent_by: Any = None
           ) -> WebhookAttempt:
    """Log the attempt and move the delivery: delivered on a 2xx (whoever's attempt it
    was: the receiver has it); on a failure, while the claim is still ours, the next try
    booked, or the delivery given up at or after 24 hours. A manual attempt (`sent_by`)
    never books or gives up anything."""
    with transaction.atomic():
        delivery = (WebhookDelivery.objects.select_for_update(of=("self",))
                    .select_related("endpoint").get(pk=claim.delivery_id))
        attempt = WebhookAttempt.objects.create(
            delivery=delivery, at=at, status_code=answer.status_code,
            duration_ms=answer.duration_ms, error=answer.error, response_body=answer.body,
            is_manual=sent_by is not None, sent_by=sent_by)
        is_ours = delivery.attempts == claim.attempt
        delivery.last_status_code, delivery.last_error = answer.status_code, answer.error
        delivery.first_attempt_at = delivery.first_attempt_at or at
        if answer.is_success:
            if delivery.state != DeliveryState.SUCCEEDED:
                delivery.state, delivery.delivered_at = DeliveryState.SUCCEEDED, at
            delivery.next_attempt_at = None
        elif sent_by is None and delivery.state == DeliveryState.PENDING and is_ours:
            if at >= delivery.first_attempt_at + RETRY_FOR:
                delivery.state, delivery.next_attempt_at = DeliveryState.FAILED, None
                log.warning("webhook %s to %s failed for good after %s attempts: %s",
                            delivery.event_id, delivery.endpoint.url, delivery.attempts,
                            answer.error)
            else:
                delivery.next_attempt_at = next_attempt(delivery.first_attempt_at,
                                                        delivery.attempts, at)
        elif sent_by is None and not is_ours:
            log.warning("webhook %s: attempt %s came back after its lease ran out; the "
                        "newer attempt decides", delivery.event_id, claim.attempt)
        delivery.save(update_fields=["state", "delivered_at", "next_attempt_at",
                                     "first_attempt_at", "last_status_code", "last_error"])
    return attempt


def deliver(claim: Claim, now: datetime) -> str:
    """Make one claimed attempt and record it; the delivery's state after."""
    answer = post(claim)
    if not answer.is_success:
        log.info("webhook %s (attempt %s) to %s: %s", claim.event_id, claim.attempt,
                 claim.url, answer.error)
    return record(claim, answer, now).delivery.state


def deliver_waiting(now: datetime | None = None, *, limit: int = BATCH) -> int:
    """The worker's pass: claim up to `limit` due deliveries and make each attempt; how
    many attempts it made. What slow receivers leave no time for goes back to the queue
    untouched, due again at once (leasing.time_left)."""
    now = now or timezone.now()
    in_time = leasing.time_left(LEASE)
    made = 0
    for claim in _claim(waiting(), now=now, limit=limit):
        if in_time():
            deliver(claim, now)
            made += 1
        else:
            leasing.release(WebhookDelivery, leasing.Claim(claim.delivery_id, claim.attempt),
                            now)
    return made


def attempt_delivery(delivery_id: int, *, now: datetime | None = None) -> str:
    """One automatic attempt, if the delivery is due; its state afterwards."""
    now = now or timezone.now()
    claim = claim_due(delivery_id, now)
    if claim is None:
        state = (WebhookDelivery.objects.filter(pk=delivery_id)
                 .values_list("state", flat=True).first())
        return state or "missing"
    return deliver(claim, now)
