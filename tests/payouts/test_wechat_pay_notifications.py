"""WeChat Pay's refund notifications at /gateways/wechat_pay/notify: signed by the stand-in
as WeChat Pay signs them, their resource encrypted with the API v3 key, posted through
Django's test client. A valid one moves the payout and its case; a forged, stale or
repeated one changes nothing."""

from __future__ import annotations

import json
import logging
import time

import pytest
from django.urls import reverse

from refunddesk.cases.models import RefundCase
from refunddesk.payouts import gateways
from refunddesk.payouts.models import GatewayNotification, Payout
from refunddesk.payouts.runner import run_pass
from tests.payouts.wechat_pay_cases import payout_of, use_standin, wechat_case
from tests.payouts.wechat_pay_standin import WeChatPayStandIn, _key

pytestmark = pytest.mark.django_db
TRANSACTION = "4200002026030112345678901234"
URL = reverse("payouts:notify", args=["wechat_pay"])


@pytest.fixture
def standin(settings):
    with WeChatPayStandIn() as server:
        use_standin(settings, server)
        yield server
    gateways.reset()


@pytest.fixture
def processing(standin):
    """A case whose payout WeChat Pay has taken and is still processing."""
    standin.add_payment(TRANSACTION, 30000, behaviour="processing")
    case = wechat_case("WX-NOTIFY-1", TRANSACTION)
    run_pass(case_ids=[case.pk])
    payout = payout_of(case)
    assert payout.state == "submitted"
    return payout


def post(client, body: bytes, headers: dict[str, str]):
    return client.post(URL, data=body, content_type="application/json",
                       headers={k: v for k, v in headers.items() if k != "Content-Type"})


def snapshot(payout: Payout) -> tuple:
    payout.refresh_from_db()
    case = RefundCase.objects.get(pk=payout.case_id)
    return (payout.state, payout.gateway_refund_id, payout.settled_at, case.state,
            GatewayNotification.objects.count())


def test_a_refund_success_notification_pays_the_payout_and_refunds_the_case(client, standin,
                                                                             processing):
    # given WeChat Pay finishes the refund and tells us
    refund = standin.settle(processing.idempotency_key)
    body, headers = standin.notification(processing.idempotency_key, "REFUND.SUCCESS")
    # when it arrives
    response = post(client, body, headers)
    # then it is taken with an empty 200, the payout is paid and the case refunded
    assert (response.status_code, response.content) == (200, b"")
    processing.refresh_from_db()
    assert processing.state == "succeeded"
    assert processing.gateway_refund_id == refund["refund_id"]
    assert processing.settled_at is not None
    assert RefundCase.objects.get(pk=processing.case_id).state == "refunded"
    row = GatewayNotification.objects.get()
    assert (row.event, row.outcome, row.payout_id) == ("REFUND.SUCCESS", "applied",
                                                      processing.pk)


def test_an_abnormal_notification_leaves_the_payout_needing_action(client, standin,
                                                                   processing):
    standin.settle(processing.idempotency_key, "ABNORMAL")
    body, headers = standin.notification(processing.idempotency_key, "REFUND.ABNORMAL")
    assert post(client, body, headers).status_code == 200
    processing.refresh_from_db()
    assert processing.state == "requires_action"
    assert processing.last_error_code == "ABNORMAL"


def test_a_closed_notification_fails_the_payout(client, standin, processing):
    standin.settle(processing.idempotency_key, "CLOSED")
    body, headers = standin.notification(processing.idempotency_key, "REFUND.CLOSED")
    assert post(client, body, headers).status_code == 200
    processing.refresh_from_db()
    assert (processing.state, processing.last_error_code) == ("failed", "CLOSED")
    assert RefundCase.objects.get(pk=processing.case_id).state == "payout_failed"


def test_the_same_notification_twice_is_applied_once(client, standin, processing):
    standin.settle(processing.idempotency_key)
    body, headers = standin.notification(processing.idempotency_key, "REFUND.SUCCESS",
                                         notification_id="EV-018370d8-1")
    assert post(client, body, headers).status_code == 200
    before = snapshot(processing)
    # when WeChat Pay sends it again (it does, until it has our 200)
    response = post(client, body, headers)
    # then it is taken again, and nothing changes
    assert response.status_code == 200
    assert snapshot(processing) == before


def test_an_abnormal_notification_arriving_after_success_changes_nothing(client, standin,
                                                                         processing):
    # given the payout succeeded
    standin.settle(processing.idempotency_key)
    body, headers = standin.notification(processing.idempotency_key, "REFUND.SUCCESS")
    post(client, body, headers)
    before = snapshot(processing)[:4]
    # when an older ABNORMAL notification arrives late
    body, headers = standin.notification(processing.idempotency_key, "REFUND.ABNORMAL")
    assert post(client, body, headers).status_code == 200
    # then the payout stays paid, and the late one is kept as such
    assert snapshot(processing)[:4] == before
    assert GatewayNotification.objects.filter(outcome="late").count() == 1


@pytest.mark.parametrize("forgery", [
    "signed with another key", "another key id", "replayed ten minutes later",
    "encrypted with another API v3 key", "a body changed after signing",
])
def test_a_forged_or_stale_notification_is_refused_and_changes_nothing(client, standin,
                                                                       processing, caplog,
                                                                       forgery):
    standin.settle(processing.idempotency_key)
    before = snapshot(processing)
    options = {
        "signed with another key": {"signing_key": _key("forger")},
        "another key id": {"serial": "PUB_KEY_ID_0112999999999999"},
        "replayed ten minutes later": {"timestamp": int(time.time()) - 600},
        "encrypted with another API v3 key": {"apiv3_key": "0" * 32},
        "a body changed after signing": {},
    }[forgery]
    body, headers = standin.notification(processing.idempotency_key, "REFUND.SUCCESS",
                                         **options)
    if forgery == "a body changed after signing":
        body = body.replace(b"REFUND.SUCCESS", b"REFUND.CLOSED")
    with caplog.at_level(logging.WARNING, logger="refunddesk.payouts.notices"):
        response = post(client, body, headers)
    # then WeChat Pay is told FAIL in its format, and nothing of ours moved
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")
    assert json.loads(response.content)["code"] == "FAIL"
    assert snapshot(processing) == before
    assert "refused" in caplog.text


def test_a_notification_without_wechat_pays_headers_is_refused(client, standin, processing):
    body, _headers = standin.notification(processing.idempotency_key)
    response = post(client, body, {})
    assert response.status_code == 400
    assert snapshot(processing)[0] == "submitted"


def test_a_notification_naming_another_amount_is_not_applied(client, standin, processing):
    standin.settle(processing.idempotency_key)
    body, headers = standin.notification(
        processing.idempotency_key, changes={"amount": {"total": 30000, "refund": 100,
                                                        "payer_total": 30000,
                                                        "payer_refund": 100}})
    assert post(client, body, headers).status_code == 200
    assert snapshot(processing)[0] == "submitted"


def test_a_notification_about_no_payout_of_ours_is_taken_and_kept_as_such(client, standin):
    # given a refund made by hand in WeChat Pay's merchant platform
    standin.add_payment(TRANSACTION, 30000)
    standin.make_refund("MANUAL-1", TRANSACTION, 100)
    body, headers = standin.notification("MANUAL-1")
    assert post(client, body, headers).status_code == 200
    assert GatewayNotification.objects.get().outcome == "unknown_payout"
