"""Sending webhooks to a real local HTTP server: the signed POST and its headers, the log of
each attempt, retries with exponential backoff on failures of every kind until 24 hours
after the first attempt, a delivery sent once however often its task runs, and sending
again by hand. Time is passed in: nothing sleeps for the backoff."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from django.db import connection
from django.utils import timezone

from refunddesk.cases.errors import NotPermitted
from refunddesk.notifications import webhook_sending
from refunddesk.notifications.models import DeliveryState, WebhookAttempt, WebhookDelivery
from refunddesk.notifications.webhook_endpoints import WebhookError, redeliver, set_active
from refunddesk.notifications.webhook_events import emit
from refunddesk.notifications.webhook_sending import (
    LEASE,
    RETRY_FOR,
    attempt_delivery,
    claim_due,
    deliver_waiting,
    next_attempt,
    retry_delay,
)
from refunddesk.notifications.webhook_signing import verify
from tests.cases.conftest import in_english  # noqa: F401 (the messages matched are English)
from tests.notifications.webhook_receiver import nothing_listening, subscribe
from tests.outside_probe import held_back
from tests.staff import staff_member

pytestmark = pytest.mark.django_db

T0 = datetime.fromisoformat("2026-03-04T12:00:00+08:00")


def an_event(url: str, event_type: str = "case.submitted") -> WebhookDelivery:
    """One delivery to an endpoint at `url`, as an action would emit it at T0."""
    subscribe(url, [event_type])
    [delivery] = emit(event_type, {"case": {"tracking_number": "ABCD-EFGH-JKL"}}, now=T0)
    return delivery


def fresh(delivery: WebhookDelivery) -> WebhookDelivery:
    return WebhookDelivery.objects.get(pk=delivery.pk)


@pytest.fixture
def admin(db):
    return staff_member("admin-1", "admin")


# -- one attempt ----------------------------------------------------------------------------

def test_a_delivery_is_a_signed_post_of_the_stored_body_with_the_event_headers(receiver):
    # given an event for an endpoint on a real local server
    delivery = an_event(receiver.url)

    # when the worker's task runs
    state = attempt_delivery(delivery.pk)

    # then the server got the exact stored body, with the event's headers and a signature
    # its secret verifies
    assert state == DeliveryState.SUCCEEDED
    [received] = receiver.requests
    delivery = fresh(delivery)
    assert received.path == "/hooks"
    assert received.body == delivery.payload.encode("utf-8")
    body = json.loads(received.body)
    assert body["id"] == delivery.event_id and body["type"] == "case.submitted"
    headers = received.headers
    assert headers["Content-Type"] == "application/json"
    assert headers["User-Agent"] == "RefundDesk-Webhooks/1"
    assert headers["RefundDesk-Event-Id"] == delivery.event_id
    assert headers["RefundDesk-Event-Type"] == "case.submitted"
    assert verify(delivery.endpoint.secret, received.body, headers["RefundDesk-Signature"],
                  now=received.at)
    # and the delivery and its log say how it went
    assert (delivery.attempts, delivery.last_status_code, delivery.last_error) == (1, 200, "")
    assert delivery.delivered_at is not None and delivery.next_attempt_at is None
    [attempt] = delivery.attempt_log.all()
    assert (attempt.status_code, attempt.error, attempt.is_manual) == (200, "", False)
    assert attempt.response_body == '{"received": true}'
    assert attempt.duration_ms >= 0


def test_only_the_start_of_a_long_answer_is_kept(receiver):
    receiver.body = "答".encode() * 5000
    delivery = an_event(receiver.url)

    attempt_delivery(delivery.pk)

    assert fresh(delivery).attempt_log.get().response_body == "答" * 500


@pytest.mark.django_db(transaction=True)
def test_the_worker_delivers_what_a_committed_change_emitted(receiver):
    # given an event emitted and committed (as an action does)
    from tests.notifications.conftest import run_worker

    delivery = an_event(receiver.url)

    # when the worker runs the queue
    run_worker()

    # then the server received it, once
    assert len(receiver.requests) == 1
    assert fresh(delivery).state == DeliveryState.SUCCEEDED


# -- failures and retries -------------------------------------------------------------------

def test_the_backoff_doubles_from_a_minute_up_to_four_hours():
    assert [retry_delay(attempts) for attempts in range(1, 11)] == [
        timedelta(minutes=minutes) for minutes in (1, 2, 4, 8, 16, 32, 64, 128, 240, 240)]


def test_a_server_error_is_retried_on_the_backoff_schedule(receiver):
    # given a receiver that answers 500
    receiver.status = 500
    receiver.body = b"database down"
    delivery = an_event(receiver.url)

    # when the first three attempts are made as they fall due
    attempt_delivery(delivery.pk, now=T0)
    assert fresh(delivery).next_attempt_at == T0 + timedelta(minutes=1)
    attempt_delivery(delivery.pk, now=T0 + timedelta(minutes=1))
    assert fresh(delivery).next_attempt_at == T0 + timedelta(minutes=3)
    attempt_delivery(delivery.pk, now=T0 + timedelta(minutes=3))

    # then the delivery waits for its fourth attempt 4 minutes later, which no pass takes
    # before, and each attempt is logged with the answer
    delivery = fresh(delivery)
    assert delivery.state == DeliveryState.PENDING
    assert (delivery.attempts, delivery.last_status_code, delivery.last_error) == (
        3, 500, "HTTP 500")
    assert delivery.first_attempt_at == T0
    assert delivery.next_attempt_at == T0 + timedelta(minutes=7)
    assert deliver_waiting(T0 + timedelta(minutes=7) - timedelta(seconds=1)) == 0
    assert [(a.status_code, a.response_body) for a in delivery.attempt_log.all()] == [
        (500, "database down")] * 3
    assert len(receiver.requests) == 3


def test_a_retry_that_succeeds_ends_the_delivery(receiver):
    receiver.statuses = [503]
    delivery = an_event(receiver.url)

    attempt_delivery(delivery.pk, now=T0)
    attempt_delivery(delivery.pk, now=T0 + timedelta(minutes=1))

    delivery = fresh(delivery)
    assert (delivery.state, delivery.attempts, delivery.last_status_code) == (
        DeliveryState.SUCCEEDED, 2, 200)
    assert delivery.delivered_at == T0 + timedelta(minutes=1)
    assert delivery.next_attempt_at is None


def test_no_answer_within_the_timeout_is_a_failure_retried(receiver, monkeypatch):
    # given a receiver slower than the timeout (shortened: the test waits for real)
    monkeypatch.setattr(webhook_sending, "TIMEOUT_SECONDS", 0.2)
    receiver.delay = 1.5
    delivery = an_event(receiver.url)

    attempt_delivery(delivery.pk, now=T0)

    delivery = fresh(delivery)
    assert delivery.state == DeliveryState.PENDING
    assert delivery.last_status_code is None
    assert delivery.last_error == "no answer within 0.2 seconds"
    assert delivery.next_attempt_at == T0 + timedelta(minutes=1)


def test_a_refused_connection_is_a_failure_retried(local_receivers_allowed):
    delivery = an_event(nothing_listening())

    attempt_delivery(delivery.pk, now=T0)

    delivery = fresh(delivery)
    assert delivery.state == DeliveryState.PENDING
    assert delivery.last_status_code is None
    assert "ConnectionError" in delivery.last_error
    assert delivery.attempt_log.get().status_code is None
    assert delivery.next_attempt_at == T0 + timedelta(minutes=1)


def test_a_redirect_is_not_followed_and_counts_as_a_failure(receiver):
    receiver.status = 302
    receiver.headers = {"Location": "http://127.0.0.1:9/elsewhere"}
    delivery = an_event(receiver.url)

    attempt_delivery(delivery.pk, now=T0)

    delivery = fresh(delivery)
    assert delivery.state == DeliveryState.PENDING
    assert delivery.last_error == (
        "HTTP 302: redirect to http://127.0.0.1:9/elsewhere not followed")
    assert len(receiver.requests) == 1


def test_the_delivery_gives_up_after_a_last_try_24_hours_after_the_first(receiver):
    # given a receiver that always fails, tried for nearly a day on the schedule
    receiver.status = 500
    delivery = an_event(receiver.url)
    now = T0
    attempt_delivery(delivery.pk, now=now)
    while (due := fresh(delivery).next_attempt_at) < T0 + RETRY_FOR:
        now = due
        attempt_delivery(delivery.pk, now=now)

    # then the last try is booked at the 24-hour mark exactly
    assert fresh(delivery).state == DeliveryState.PENDING
    assert fresh(delivery).next_attempt_at == T0 + RETRY_FOR

    # when it is made and fails too
    attempt_delivery(delivery.pk, now=T0 + RETRY_FOR)

    # then the delivery is given up, and a task that still runs sends nothing more
    delivery = fresh(delivery)
    assert delivery.state == DeliveryState.FAILED
    assert delivery.next_attempt_at is None
    attempts = delivery.attempts
    assert attempts == len(receiver.requests) == 14  # 0, 1, 3, … 4-hourly, and at 24 h
    assert attempt_delivery(delivery.pk, now=T0 + RETRY_FOR + timedelta(hours=1)) == "failed"
    assert len(receiver.requests) == attempts


def test_the_next_try_is_never_past_the_24_hour_mark_nor_sooner_than_a_minute():
    assert next_attempt(T0, 12, T0 + timedelta(hours=22)) == T0 + RETRY_FOR
    assert next_attempt(T0, 14, T0 + RETRY_FOR) == T0 + RETRY_FOR + timedelta(minutes=1)


# -- never twice, never lost ----------------------------------------------------------------

def test_a_duplicate_run_of_the_task_does_not_send_a_succeeded_delivery_again(receiver):
    delivery = an_event(receiver.url)

    attempt_delivery(delivery.pk, now=T0)
    assert attempt_delivery(delivery.pk, now=T0) == DeliveryState.SUCCEEDED
    assert attempt_delivery(delivery.pk, now=T0 + timedelta(minutes=1)) == "succeeded"

    assert len(receiver.requests) == 1
    assert fresh(delivery).attempts == 1


def test_a_run_before_the_next_attempt_is_due_sends_nothing(receiver):
    receiver.status = 500
    delivery = an_event(receiver.url)
    attempt_delivery(delivery.pk, now=T0)

    attempt_delivery(delivery.pk, now=T0 + timedelta(seconds=59))

    assert len(receiver.requests) == 1
    assert fresh(delivery).attempts == 1


def test_a_worker_that_dies_during_the_call_leaves_the_delivery_to_a_later_pass(receiver):
    # given a worker that claimed the delivery and died before recording anything
    delivery = an_event(receiver.url)
    assert claim_due(delivery.pk, T0) is not None

    # then nobody takes it while its lease runs
    assert fresh(delivery).next_attempt_at == T0 + LEASE
    assert attempt_delivery(delivery.pk, now=T0 + timedelta(minutes=1)) == "pending"
    assert deliver_waiting(T0 + LEASE - timedelta(seconds=1)) == 0
    assert receiver.requests == []

    # when the worker's pass runs once the lease has run out
    assert deliver_waiting(T0 + LEASE) == 1

    # then the delivery is made, as the second attempt
    delivery = fresh(delivery)
    assert (delivery.state, delivery.attempts) == (DeliveryState.SUCCEEDED, 2)
    assert len(receiver.requests) == 1


def test_what_a_pass_cannot_deliver_within_its_lease_goes_back_to_the_queue_due_at_once(
        receiver, monkeypatch):
    # given two deliveries, and a lease so short that the pass's time is up before the
    # first call
    first = an_event(receiver.url)
    [second] = emit("case.submitted", {"case": {"tracking_number": "ABCD-EFGH-JKM"}}, now=T0)
    monkeypatch.setattr(webhook_sending, "LEASE", timedelta(0))

    # when the worker's pass runs
    assert deliver_waiting(T0) == 0

    # then nothing was sent: both are pending and due again at once, untouched but for the
    # claim
    assert receiver.requests == []
    for delivery in (fresh(first), fresh(second)):
        assert (delivery.state, delivery.attempts, delivery.next_attempt_at) == (
            DeliveryState.PENDING, 1, T0)
        assert not delivery.attempt_log.exists()

    # and with time enough, the next pass delivers both, once each
    monkeypatch.setattr(webhook_sending, "LEASE", timedelta(minutes=2))
    assert deliver_waiting(T0) == 2
    assert len(receiver.requests) == 2
    assert deliver_waiting(T0 + timedelta(hours=1)) == 0


def test_a_pending_delivery_of_a_disabled_endpoint_gives_up_without_sending(receiver, admin):
    delivery = an_event(receiver.url)
    set_active(delivery.endpoint, is_active=False, actor=admin)

    assert attempt_delivery(delivery.pk) == DeliveryState.FAILED

    assert receiver.requests == []
    assert fresh(delivery).last_error == "not sent: the endpoint is disabled"


def test_a_disabled_endpoint_gets_no_new_events(receiver, admin):
    endpoint = subscribe(receiver.url, ["case.submitted"])
    set_active(endpoint, is_active=False, actor=admin)

    assert emit("case.submitted", {}) == []


def test_an_address_other_than_http_is_never_called():
    delivery = an_event("http://127.0.0.1:9/hooks")
    delivery.endpoint.url = "file:///etc/passwd"
    delivery.endpoint.save()

    attempt_delivery(delivery.pk, now=T0)

    assert fresh(delivery).last_error == "not sent: only http and https addresses are called"


# -- by hand --------------------------------------------------------------------------------

def test_an_admin_sends_a_given_up_delivery_again_and_it_succeeds(receiver, admin):
    # given a delivery given up after a day of failures
    receiver.status = 500
    delivery = an_event(receiver.url)
    attempt_delivery(delivery.pk, now=T0)
    attempt_delivery(delivery.pk, now=T0 + RETRY_FOR)
    assert fresh(delivery).state == DeliveryState.FAILED

    # when the receiver is fixed and an admin sends it again
    receiver.status = 200
    attempt = redeliver(fresh(delivery), actor=admin)

    # then the same event arrived, freshly signed, and the log says who sent it
    assert (attempt.status_code, attempt.is_manual, attempt.sent_by) == (200, True, admin)
    delivery = fresh(delivery)
    assert delivery.state == DeliveryState.SUCCEEDED
    assert delivery.delivered_at is not None
    first, *_, last = receiver.requests
    assert last.body == first.body
    assert last.headers["RefundDesk-Event-Id"] == delivery.event_id
    assert verify(delivery.endpoint.secret, last.body, last.headers["RefundDesk-Signature"],
                  now=timezone.now().timestamp())


def test_a_succeeded_delivery_can_be_sent_again_and_a_failure_then_keeps_it_succeeded(
        receiver, admin):
    delivery = an_event(receiver.url)
    attempt_delivery(delivery.pk)
    receiver.status = 410

    attempt = redeliver(fresh(delivery), actor=admin)

    assert (attempt.status_code, attempt.error) == (410, "HTTP 410")
    delivery = fresh(delivery)
    assert delivery.state == DeliveryState.SUCCEEDED  # it did arrive once
    assert delivery.last_status_code == 410
    assert delivery.attempt_log.count() == 2
    assert delivery.next_attempt_at is None  # nothing new was scheduled


def test_a_delivery_still_on_its_schedule_is_not_sent_by_hand(receiver, admin):
    receiver.status = 500
    delivery = an_event(receiver.url)
    attempt_delivery(delivery.pk)

    with pytest.raises(WebhookError, match="still being tried"):
        redeliver(fresh(delivery), actor=admin)

    assert len(receiver.requests) == 1


def test_a_disabled_endpoints_delivery_is_not_sent_by_hand(receiver, admin):
    delivery = an_event(receiver.url)
    attempt_delivery(delivery.pk)
    set_active(delivery.endpoint, is_active=False, actor=admin)

    with pytest.raises(WebhookError, match="disabled"):
        redeliver(fresh(delivery), actor=admin)


@pytest.mark.parametrize("role", ["agent", "reviewer", "finance"])
def test_only_an_admin_sends_a_delivery_again(receiver, role):
    delivery = an_event(receiver.url)
    attempt_delivery(delivery.pk)

    with pytest.raises(NotPermitted):
        redeliver(fresh(delivery), actor=staff_member(f"{role}-1", role))

    assert len(receiver.requests) == 1
    assert not WebhookAttempt.objects.filter(is_manual=True).exists()


@pytest.mark.django_db(transaction=True)
def test_the_receiver_is_called_with_no_transaction_open_and_no_lock_on_the_delivery(receiver):
    # given an event for a receiver that looks at the worker as the request arrives
    delivery = an_event(receiver.url)
    worker, seen = connection, []
    receiver.on_request = lambda: seen.append(
        held_back(worker, WebhookDelivery.objects.filter(pk=delivery.pk)))

    # when the worker delivers it
    assert attempt_delivery(delivery.pk, now=T0) == DeliveryState.SUCCEEDED

    # then the worker held no transaction and (on PostgreSQL, asked from another
    # connection) no lock on the delivery while the receiver answered
    assert seen == [[]]
