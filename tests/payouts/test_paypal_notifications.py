"""PayPal's webhooks at /gateways/paypal/notify: verified locally (SHA256withRSA with the
certificate from PayPal's own certificate address, cached), applied once, in order of
strength; forged, replayed or foreign ones change nothing."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from refunddesk.cases.models import RefundCase
from refunddesk.payouts.gateways.base import NotificationRejected
from refunddesk.payouts.gateways.paypal_webhooks import CertificateCache
from refunddesk.payouts.models import GatewayNotification, Payout, PayoutState
from refunddesk.payouts.runner import run_pass
from tests.payouts.paypal_cases import paypal_case, use_standin
from tests.payouts.paypal_standin import PayPalStandIn

pytestmark = pytest.mark.django_db


@pytest.fixture
def standin():
    with PayPalStandIn() as server:
        yield server


def post(client, body: bytes, headers: dict[str, str]):
    headers = {name: value for name, value in headers.items() if name != "Content-Type"}
    return client.post(reverse("payouts:notify", args=["paypal"]), data=body,
                       content_type="application/json", headers=headers)


def submitted_payout(settings, standin, order_id: str = "VPN-PPN-1",
                     capture: str = "CAP-N-1") -> Payout:
    """A case paid by PayPal whose refund PayPal holds as pending."""
    standin.add_payment(capture, 3000, behaviour="pending")
    use_standin(settings, standin)
    case = paypal_case(order_id, capture)
    run_pass(case_ids=[case.pk])
    payout = case.payouts.get()
    assert payout.state == PayoutState.SUBMITTED and payout.gateway_refund_id
    return payout


def state_of(payout: Payout) -> tuple[str, str]:
    payout.refresh_from_db()
    return payout.state, RefundCase.objects.get(pk=payout.case_id).state


# -- valid -------------------------------------------------------------------------------


def test_a_signed_refund_completed_webhook_pays_out_the_payout_and_refunds_the_case(
        settings, standin, client):
    # given a payout whose refund PayPal holds as pending
    payout = submitted_payout(settings, standin)
    # when PayPal completes the refund and says so
    standin.settle(payout.gateway_refund_id, "COMPLETED")
    answer = post(client, *standin.signed_notification(payout.gateway_refund_id))
    # then PayPal gets an empty 200, the payout has succeeded and the case is refunded
    assert (answer.status_code, answer.content) == (200, b"")
    assert state_of(payout) == (PayoutState.SUCCEEDED, "refunded")
    notice = GatewayNotification.objects.get()
    assert (notice.gateway, notice.event, notice.outcome) == (
        "paypal", "PAYMENT.CAPTURE.REFUNDED", "applied")


def test_the_certificate_is_fetched_once_and_kept_for_later_webhooks(settings, standin,
                                                                     client):
    first = submitted_payout(settings, standin, "VPN-PPN-1", "CAP-N-1")
    second = submitted_payout(settings, standin, "VPN-PPN-2", "CAP-N-2")
    for payout in (first, second):
        standin.settle(payout.gateway_refund_id, "COMPLETED")
        assert post(client, *standin.signed_notification(
            payout.gateway_refund_id)).status_code == 200
    assert standin.certificate_requests == 1
    assert state_of(first)[0] == state_of(second)[0] == PayoutState.SUCCEEDED


def test_the_same_webhook_delivered_twice_is_applied_once(settings, standin, client):
    payout = submitted_payout(settings, standin)
    standin.settle(payout.gateway_refund_id, "COMPLETED")
    body, headers = standin.signed_notification(payout.gateway_refund_id)
    assert post(client, body, headers).status_code == 200
    # when PayPal delivers it again, then it is taken and nothing changes
    assert post(client, body, headers).status_code == 200
    assert GatewayNotification.objects.count() == 1
    assert state_of(payout) == (PayoutState.SUCCEEDED, "refunded")


def test_a_pending_webhook_arriving_after_the_completed_one_changes_nothing(settings,
                                                                           standin, client):
    # given a payout PayPal completed, and its earlier "pending" webhook held up
    payout = submitted_payout(settings, standin)
    late_pending = standin.signed_notification(payout.gateway_refund_id)
    standin.settle(payout.gateway_refund_id, "COMPLETED")
    assert post(client, *standin.signed_notification(
        payout.gateway_refund_id)).status_code == 200
    # when the pending one arrives last
    answer = post(client, *late_pending)
    # then it is taken, and the payout stays succeeded
    assert answer.status_code == 200
    assert state_of(payout) == (PayoutState.SUCCEEDED, "refunded")


def test_a_webhook_about_something_other_than_our_refunds_is_taken_and_ignored(
        settings, standin, client):
    payout = submitted_payout(settings, standin)
    answer = post(client, *standin.signed_notification(payout.gateway_refund_id,
                                                       "PAYMENT.CAPTURE.COMPLETED"))
    assert answer.status_code == 200
    assert state_of(payout)[0] == PayoutState.SUBMITTED


# -- refused -----------------------------------------------------------------------------


def test_a_webhook_whose_body_was_changed_after_signing_is_refused_and_logged(
        settings, standin, client, caplog):
    payout = submitted_payout(settings, standin)
    standin.settle(payout.gateway_refund_id, "COMPLETED")
    body, headers = standin.signed_notification(payout.gateway_refund_id)
    forged = body.replace(b'"COMPLETED"', b'"FAILED"')
    with caplog.at_level(logging.WARNING, logger="refunddesk.payouts.notices"):
        answer = post(client, forged, headers)
    assert answer.status_code == 400
    assert "signature does not verify" in caplog.text
    assert state_of(payout) == (PayoutState.SUBMITTED, "paying")
    assert not GatewayNotification.objects.exists()


def test_a_webhook_signed_for_another_webhook_id_is_refused(settings, standin, client):
    payout = submitted_payout(settings, standin)
    standin.settle(payout.gateway_refund_id, "COMPLETED")
    answer = post(client, *standin.signed_notification(payout.gateway_refund_id,
                                                       webhook_id="WH-SOMEONE-ELSE"))
    assert answer.status_code == 400
    assert state_of(payout)[0] == PayoutState.SUBMITTED


def test_a_replayed_webhook_sent_long_ago_is_refused(settings, standin, client):
    payout = submitted_payout(settings, standin)
    standin.settle(payout.gateway_refund_id, "COMPLETED")
    old = datetime.now(UTC) - timedelta(minutes=30)
    answer = post(client, *standin.signed_notification(payout.gateway_refund_id,
                                                       transmission_time=old))
    assert answer.status_code == 400
    assert b"too far from now" in answer.content
    assert state_of(payout)[0] == PayoutState.SUBMITTED


def test_a_webhook_naming_a_certificate_outside_paypals_address_is_refused_unfetched(
        settings, standin, client):
    payout = submitted_payout(settings, standin)
    standin.settle(payout.gateway_refund_id, "COMPLETED")
    answer = post(client, *standin.signed_notification(
        payout.gateway_refund_id, cert_url="https://certs.example.net/v1/notifications/certs/X"))
    assert answer.status_code == 400
    assert standin.certificate_requests == 0
    assert state_of(payout)[0] == PayoutState.SUBMITTED


@pytest.mark.parametrize("header", ["PAYPAL-TRANSMISSION-SIG", "PAYPAL-CERT-URL",
                                    "PAYPAL-TRANSMISSION-ID", "PAYPAL-AUTH-ALGO"])
def test_a_webhook_missing_a_signature_header_is_refused(settings, standin, client, header):
    payout = submitted_payout(settings, standin)
    body, headers = standin.signed_notification(payout.gateway_refund_id)
    del headers[header]
    assert post(client, body, headers).status_code == 400


def test_without_a_configured_webhook_id_every_webhook_is_refused(settings, standin, client):
    payout = submitted_payout(settings, standin)
    use_standin(settings, standin, webhook_id="")
    answer = post(client, *standin.signed_notification(payout.gateway_refund_id))
    assert answer.status_code == 400


def test_a_signed_body_that_is_not_a_paypal_event_is_refused():
    from refunddesk.payouts.gateways.paypal_webhooks import notification_of

    for body in (b"not json", b"[]", b'{"id": "WH-1"}'):
        with pytest.raises(NotificationRejected):
            notification_of(body)


# -- the certificate's address -----------------------------------------------------------


class CountingFetcher:
    def __init__(self) -> None:
        self.urls: list[str] = []

    def __call__(self, url: str, timeout: float) -> bytes:
        self.urls.append(url)
        raise AssertionError("no certificate may be fetched in this test")


@pytest.mark.parametrize("url", [
    "https://api.paypal.com/v1/notifications/certs/CERT-360caa42-fca2a594-1d93a270",
    "https://api.sandbox.paypal.com/v1/notifications/certs/CERT-360caa42-fca2a594-a5cafa77",
])
def test_paypals_own_certificate_addresses_are_allowed(url):
    assert CertificateCache().is_allowed(url)


@pytest.mark.parametrize("url", [
    "http://api.paypal.com/v1/notifications/certs/CERT-1",
    "https://api.paypal.com.example.net/v1/notifications/certs/CERT-1",
    "https://api.paypal.com@example.net/v1/notifications/certs/CERT-1",
    "https://example.net/v1/notifications/certs/CERT-1",
    "https://api.paypal.com:8443/v1/notifications/certs/CERT-1",
    "https://api.paypal.com/v1/notifications/certs/../../../evil",
    "https://api.paypal.com/v1/other/CERT-1",
    "https://api.paypal.com/v1/notifications/certs/",
    "https://api.paypal.com/v1/notifications/certs/CERT-1?x=1",
    "file:///etc/passwd",
    "not a url",
])
def test_any_other_certificate_address_is_refused_without_being_fetched(url):
    fetcher = CountingFetcher()
    certificates = CertificateCache(fetcher=fetcher)
    assert not certificates.is_allowed(url)
    with pytest.raises(NotificationRejected):
        certificates.key_for(url, datetime.now(UTC))
    assert fetcher.urls == []


def test_the_webhook_event_carries_our_key_amount_and_refund_id(settings, standin):
    from refunddesk.payouts.gateways import gateway

    payout = submitted_payout(settings, standin)
    body, headers = standin.signed_notification(payout.gateway_refund_id)
    notice = gateway("paypal").read_notification(body, headers)
    assert notice.payout_key == payout.idempotency_key
    assert (notice.refund_id, notice.amount_minor, notice.currency) == (
        payout.gateway_refund_id, 3000, "USD")
    assert notice.notification_id == json.loads(body)["id"]
    assert notice.status is not None and notice.status.state == "submitted"


def test_the_stand_in_notifies_only_a_refunddesk_on_this_machine(standin):
    with pytest.raises(ValueError):
        standin.notify("https://refunds.example.com", "R1")


@pytest.mark.django_db(transaction=True)
def test_the_stand_in_notifies_a_running_refunddesk_over_http(settings, standin, live_server):
    # given a payout whose refund PayPal holds as pending, and RefundDesk serving HTTP
    payout = submitted_payout(settings, standin, "VPN-PPN-LIVE", "CAP-N-LIVE")
    standin.settle(payout.gateway_refund_id, "COMPLETED")
    # when the stand-in posts PayPal's signed webhook to it
    status = standin.notify(live_server.url, payout.gateway_refund_id)
    # then it is taken and the payout is paid
    assert status == 200
    assert state_of(payout) == (PayoutState.SUCCEEDED, "refunded")


def test_a_webhook_claiming_completion_is_believed_only_as_far_as_paypal_confirms(
        settings, standin, client):
    # given a refund PayPal still holds as pending, and a correctly signed webhook whose
    # body claims it completed (PayPal signs only a CRC32 of the body, which can be forged)
    payout = submitted_payout(settings, standin)
    claimed = {**standin.refund_for(payout.idempotency_key), "status": "COMPLETED"}
    claimed.pop("capture_id", None)

    answer = post(client, *standin.signed_notification(payout.gateway_refund_id,
                                                       resource=claimed))

    # then PayPal's own answer about the refund counts: still on its way
    assert answer.status_code == 200
    assert state_of(payout) == (PayoutState.SUBMITTED, "paying")


def test_a_webhook_paypal_cannot_confirm_is_refused_and_changes_nothing(settings, standin,
                                                                        client):
    payout = submitted_payout(settings, standin)
    standin.settle(payout.gateway_refund_id, "COMPLETED")
    body, headers = standin.signed_notification(payout.gateway_refund_id)
    standin.refunds.clear()  # PayPal answers 404 about it

    answer = post(client, body, headers)

    assert answer.status_code == 400
    assert state_of(payout) == (PayoutState.SUBMITTED, "paying")
