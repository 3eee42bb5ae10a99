"""Providers' notifications at /gateways/<name>/notify, through a test provider whose
signature is an HMAC of the body: verified before anything is read, applied once, only ever
moving a payout forward, answered as the adapter says."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from refunddesk.cases.states import State
from refunddesk.payouts import gateways
from refunddesk.payouts.gateways.base import (
    Gateway,
    Notification,
    NotificationRejected,
    RefundStatus,
)
from refunddesk.payouts.models import GatewayNotification, Payout, PayoutState
from refunddesk.payouts.runner import run_pass
from tests.payouts.builders import approved_case

pytestmark = pytest.mark.django_db

SECRET = b"test-provider-secret"


class Notifying(Gateway):
    """A provider that takes every refund as on its way and tells the outcome later."""

    def refund(self, request):
        return RefundStatus("submitted", f"n-{request.payout_id}")

    def fetch(self, request):
        return RefundStatus("submitted", request.refund_id)

    def read_notification(self, body, headers):
        expected = hmac.new(SECRET, body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(headers.get("X-Signature", ""), expected):
            raise NotificationRejected("bad signature")
        data = json.loads(body)
        status = RefundStatus(data["state"], data.get("refund_id", ""),
                              error_code=data.get("error", ""))
        return Notification(data["id"], data["event"], status, payout_key=data.get("key", ""),
                            refund_id=data.get("refund_id", ""),
                            amount_minor=data.get("amount"), currency=data.get("currency", ""))


@pytest.fixture
def provider(settings):
    settings.REFUNDDESK_GATEWAYS["notifying"] = {
        "BACKEND": "tests.payouts.test_notices.Notifying"}
    gateways.reset()
    yield "notifying"
    gateways.reset()


def sent_payout(gateway="notifying"):
    """An approved case whose payout the worker has sent: on its way at the provider."""
    case = approved_case(gateway=gateway)
    run_pass()
    payout = Payout.objects.get(case=case)
    assert payout.state == PayoutState.SUBMITTED
    return payout


def post(client, data, *, name="notifying", signature=None):
    body = json.dumps(data).encode()
    signature = signature or hmac.new(SECRET, body, hashlib.sha256).hexdigest()
    return client.post(reverse("payouts:notify", args=[name]), body,
                       content_type="application/json", headers={"X-Signature": signature})


def success(payout, *, id="evt-1", state="succeeded", **extra):
    return {"id": id, "event": "REFUND.SUCCESS", "state": state, "key": payout.idempotency_key,
            "refund_id": payout.gateway_refund_id, "amount": payout.amount_minor,
            "currency": payout.currency, **extra}


def test_a_verified_success_pays_the_payout_and_refunds_the_case(client, provider):
    payout = sent_payout()

    response = post(client, success(payout))

    assert response.status_code == 200
    payout.refresh_from_db()
    assert payout.state == PayoutState.SUCCEEDED
    assert payout.next_attempt_at is None and payout.settled_at is not None
    payout.case.refresh_from_db()
    assert payout.case.state == State.REFUNDED
    row = GatewayNotification.objects.get()
    assert (row.gateway, row.notification_id, row.outcome, row.payout_id) == (
        "notifying", "evt-1", "applied", payout.pk)


def test_the_same_notification_delivered_again_changes_nothing(client, provider):
    payout = sent_payout()
    post(client, success(payout))
    case_events = payout.case.events.count()

    again = post(client, success(payout))

    assert again.status_code == 200  # accepted, so the provider stops sending it
    assert GatewayNotification.objects.count() == 1
    assert payout.case.events.count() == case_events


def test_a_forged_notification_is_refused_logged_and_changes_nothing(client, provider,
                                                                     caplog):
    payout = sent_payout()

    with caplog.at_level(logging.WARNING, logger="refunddesk.payouts.notices"):
        response = post(client, success(payout), signature="0" * 64)

    assert response.status_code == 400
    payout.refresh_from_db()
    assert payout.state == PayoutState.SUBMITTED
    assert not GatewayNotification.objects.exists()
    assert "a notification was refused: bad signature" in caplog.text


def test_a_failure_arriving_after_success_leaves_the_payout_paid(client, provider):
    payout = sent_payout()
    post(client, success(payout))

    late = post(client, success(payout, id="evt-2", state="failed", error="closed"))

    assert late.status_code == 200
    payout.refresh_from_db()
    assert payout.state == PayoutState.SUCCEEDED
    assert GatewayNotification.objects.get(notification_id="evt-2").outcome == "late"


def test_a_progress_report_moves_a_payout_to_needs_action_and_success_still_ends_it(
        client, provider):
    payout = sent_payout()

    post(client, success(payout, id="evt-a", state="requires_action"))
    payout.refresh_from_db()
    assert payout.state == PayoutState.REQUIRES_ACTION
    assert payout.next_attempt_at is not None  # still asked about by the worker

    post(client, success(payout, id="evt-b"))
    payout.refresh_from_db()
    assert payout.state == PayoutState.SUCCEEDED


def test_a_notification_naming_another_gateways_payout_does_not_touch_it(
        client, provider, sandbox_gateway, settings):
    settings.REFUNDDESK_GATEWAYS["sandbox"]["OPTIONS"]["settle_after"] = {"default": 600}
    gateways.reset()
    other = sent_payout(gateway="sandbox")

    response = post(client, success(other))

    assert response.status_code == 200
    other.refresh_from_db()
    assert other.state == PayoutState.SUBMITTED
    assert GatewayNotification.objects.get().outcome == "unknown_payout"


def test_a_notification_with_another_amount_is_kept_but_not_applied(client, provider,
                                                                    caplog):
    payout = sent_payout()

    with caplog.at_level(logging.ERROR, logger="refunddesk.payouts.notices"):
        post(client, success(payout, amount=payout.amount_minor + 1))

    payout.refresh_from_db()
    assert payout.state == PayoutState.SUBMITTED
    assert "not applied, for finance to look into" in caplog.text


def test_a_worker_answer_after_a_notification_ended_the_payout_is_dropped(client,
                                                                          provider):
    # given a payout the worker is asking about (taken, its lease running)
    payout = sent_payout()
    from refunddesk.payouts.runner import Outcome, PassResult, call_gateway, claim_due, record
    later = timezone.now() + timedelta(hours=2)
    [claim] = claim_due(later)
    outcome = call_gateway(claim)  # says: still on its way

    # when the provider's notification ends it first
    post(client, success(payout))

    # then the worker's older answer does not take the payout back
    result = PassResult()
    record([Outcome(claim, status=outcome.status)], later, result)
    payout.refresh_from_db()
    assert payout.state == PayoutState.SUCCEEDED
    assert result.dropped == 1


@pytest.mark.parametrize("name", ["sandbox", "nonexistent"])
def test_a_gateway_that_takes_no_notifications_has_no_endpoint(client, provider, name):
    response = post(client, {"id": "x"}, name=name)
    assert response.status_code == 404


def test_the_endpoint_takes_only_posts(client, provider):
    response = client.get(reverse("payouts:notify", args=["notifying"]))
    assert response.status_code == 405


def test_an_oversized_notification_is_refused_unread(client, provider):
    response = client.post(reverse("payouts:notify", args=["notifying"]),
                           b"x" * (300 * 1024), content_type="application/json")
    assert response.status_code == 413
    assert not GatewayNotification.objects.exists()


@pytest.mark.parametrize("length", ["²", "9" * 40])
def test_a_content_length_that_is_not_a_plain_number_is_refused(client, provider, length):
    response = client.post(reverse("payouts:notify", args=["notifying"]), b"{}",
                           content_type="application/json",
                           headers={"Content-Length": length})
    assert response.status_code in (400, 413)


def test_a_notification_the_adapter_cannot_read_is_refused_not_a_server_error(
        client, provider, caplog):
    body = b"not json at all"
    signature = hmac.new(SECRET, body, hashlib.sha256).hexdigest()

    with caplog.at_level(logging.ERROR, logger="refunddesk.payouts.notices"):
        response = client.post(reverse("payouts:notify", args=["notifying"]), body,
                               content_type="application/json",
                               headers={"X-Signature": signature})

    assert response.status_code == 400
    assert not GatewayNotification.objects.exists()
    assert "a notification could not be read" in caplog.text
