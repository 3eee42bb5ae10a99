"""The WeChat Pay adapter, signing real requests and checking real answers against a local
stand-in of WeChat Pay API v3."""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from refunddesk.cases.models import RefundCase
from refunddesk.payouts import gateways
from refunddesk.payouts.gateways.base import (
    NeedsFinance,
    OutcomeUnknown,
    RateLimited,
    RefundRequest,
    RetryableError,
    RouteClosed,
    TerminalError,
)
from refunddesk.payouts.gateways.wechat_pay import WeChatPayGateway
from refunddesk.payouts.runner import run_pass
from tests.payouts.wechat_pay_cases import payout_of, use_standin, wechat_case
from tests.payouts.wechat_pay_standin import WeChatPayStandIn, _key, private_pem

TRANSACTION = "4200002026030112345678901234"  # a WeChat Pay transaction_id: 28 digits


@pytest.fixture
def standin():
    with WeChatPayStandIn(slow_seconds=1.0) as server:
        yield server


def gateway_for(standin: WeChatPayStandIn, **options: Any) -> WeChatPayGateway:
    return WeChatPayGateway("wechat_pay", **standin.gateway_options(**options))


def request_for(reference: str = TRANSACTION, amount: int = 10000, total: int | None = 30000,
                payout_id: int = 1, currency: str = "CNY",
                paid_at: datetime | None = None) -> RefundRequest:
    return RefundRequest(
        payout_id=payout_id, idempotency_key=f"refunddesk-payout-{payout_id}",
        amount_minor=amount, currency=currency, destination="original", method="wechat_pay",
        payment_reference=reference, paid_at=paid_at or datetime.now(UTC) - timedelta(days=3),
        account="acct-1001", account_pk=1, case="RD-20260301-0001",
        payment_amount_minor=total)


# -- outcomes ----------------------------------------------------------------------------


def test_a_refund_of_a_wechat_pay_order_succeeds_under_our_payout_number(standin):
    # given an order of 300.00 CNY WeChat Pay refunds at once
    standin.add_payment(TRANSACTION, 30000)
    # when we refund 100.00 of it
    status = gateway_for(standin).refund(request_for(amount=10000))
    # then the refund succeeded, in fen, under our payout's number, at WeChat Pay's time
    assert status.state == "succeeded"
    refund = standin.refund("refunddesk-payout-1")
    assert refund is not None
    assert status.refund_id == refund["refund_id"]
    assert refund["transaction_id"] == TRANSACTION
    assert refund["amount"]["refund"] == 10000
    assert refund["amount"]["total"] == 30000
    assert status.settled_at == datetime.fromisoformat(refund["success_time"])
    assert standin.refunds_made == {"refunddesk-payout-1": 1}


def test_an_order_known_by_the_merchants_own_number_is_refunded_by_out_trade_no(standin):
    payment = standin.add_payment("VPN-ORDER-1", 30000)
    status = gateway_for(standin).refund(request_for(reference="VPN-ORDER-1"))
    assert status.state == "succeeded"
    assert standin.refund("refunddesk-payout-1")["transaction_id"] == payment.transaction_id


def test_the_notify_url_goes_with_each_refund(standin):
    standin.add_payment(TRANSACTION, 30000)
    url = "https://refunds.example.com/gateways/wechat_pay/notify"
    gateway_for(standin, notify_url=url).refund(request_for())
    assert standin.notify_urls["refunddesk-payout-1"] == url


def test_a_processing_refund_is_submitted_until_wechat_pay_settles_it(standin):
    # given a refund WeChat Pay is still processing
    standin.add_payment(TRANSACTION, 30000, behaviour="processing")
    gateway = gateway_for(standin)
    submitted = gateway.refund(request_for())
    assert (submitted.state, submitted.settled_at) == ("submitted", None)
    # when WeChat Pay settles it and we ask by our number
    standin.settle("refunddesk-payout-1")
    status = gateway.fetch(request_for())
    # then it has succeeded, same refund
    assert status.state == "succeeded"
    assert status.refund_id == submitted.refund_id


def test_an_abnormal_refund_needs_finance_in_wechat_pays_merchant_platform(standin):
    standin.add_payment(TRANSACTION, 30000, behaviour="abnormal")
    status = gateway_for(standin).refund(request_for())
    assert status.state == "requires_action"
    assert status.error_code == "ABNORMAL"
    assert "merchant platform" in status.error_message


def test_a_closed_refund_is_failed(standin):
    standin.add_payment(TRANSACTION, 30000, behaviour="closed")
    status = gateway_for(standin).refund(request_for())
    assert (status.state, status.error_code) == ("failed", "CLOSED")


def test_a_status_wechat_pay_adds_later_is_taken_as_submitted_with_a_warning(standin, caplog):
    standin.add_payment(TRANSACTION, 30000, behaviour="processing")
    gateway = gateway_for(standin)
    gateway.refund(request_for())
    standin.settle("refunddesk-payout-1", "REVIEWING")
    with caplog.at_level(logging.WARNING, logger="refunddesk.payouts.gateways.wechat_pay"):
        status = gateway.fetch(request_for())
    assert status.state == "submitted"
    assert "REVIEWING" in caplog.text


# -- the same number, lost answers -------------------------------------------------------


def test_a_repeated_refund_with_the_same_number_returns_the_first_refund(standin):
    standin.add_payment(TRANSACTION, 30000)
    gateway = gateway_for(standin)
    first = gateway.refund(request_for())
    second = gateway.refund(request_for())
    assert second.refund_id == first.refund_id
    assert standin.refunds_made["refunddesk-payout-1"] == 1
    assert standin.requests_by_number["refunddesk-payout-1"] == 2


def test_a_system_error_after_the_refund_was_made_is_unknown_and_found_by_asking(standin):
    # given WeChat Pay makes the refund but answers SYSTEM_ERROR
    standin.add_payment(TRANSACTION, 30000, behaviour="system_error_after_refund")
    gateway = gateway_for(standin)
    with pytest.raises(OutcomeUnknown) as unknown:
        gateway.refund(request_for())
    assert unknown.value.code == "SYSTEM_ERROR"
    # when we ask by our number, then the refund made the first time is found
    status = gateway.fetch(request_for())
    assert status.refund_id == standin.refund("refunddesk-payout-1")["refund_id"]
    assert standin.refunds_made["refunddesk-payout-1"] == 1


def test_asking_about_a_refund_wechat_pay_never_made_says_resource_missing(standin):
    standin.add_payment(TRANSACTION, 30000)
    with pytest.raises(RetryableError) as missing:
        gateway_for(standin).fetch(request_for())
    assert missing.value.code == "resource_missing"


def test_a_refund_without_an_answer_in_time_is_unknown_and_made_once(standin):
    # given WeChat Pay refunds but answers later than our timeout
    standin.add_payment(TRANSACTION, 30000, behaviour="slow")
    gateway = gateway_for(standin, timeout=0.3)
    with pytest.raises(OutcomeUnknown) as unknown:
        gateway.refund(request_for())
    assert unknown.value.code == "no_answer"
    # then once WeChat Pay has finished, the same number returns that refund
    standin.wait_for(lambda: "refunddesk-payout-1" in standin.answered)
    status = gateway.refund(request_for())
    assert status.refund_id == standin.refund("refunddesk-payout-1")["refund_id"]
    assert standin.refunds_made["refunddesk-payout-1"] == 1


def test_an_answer_whose_signature_fails_is_unknown_and_logged(standin, caplog):
    # given someone between us and WeChat Pay answers with a signature that does not hold
    standin.add_payment(TRANSACTION, 30000)
    standin.forge_answers = True
    gateway = gateway_for(standin)
    # when we refund, then we cannot tell what happened: unknown, and someone is told
    with (caplog.at_level(logging.ERROR, logger="refunddesk.payouts.gateways.wechat_pay"),
          pytest.raises(OutcomeUnknown) as unknown):
        gateway.refund(request_for())
    assert unknown.value.code == "unverified_answer"
    assert "does not hold" in caplog.text
    # and asking is refused for now too, never taken as "no such refund"
    with pytest.raises(RetryableError) as asking:
        gateway.fetch(request_for())
    assert asking.value.code == "unverified_answer"


def test_an_answer_signed_with_another_key_id_is_not_trusted(standin):
    standin.add_payment(TRANSACTION, 30000)
    gateway = gateway_for(standin, public_key_id="PUB_KEY_ID_0112999999999999")
    with pytest.raises(OutcomeUnknown) as unknown:
        gateway.refund(request_for())
    assert unknown.value.code == "unverified_answer"


# -- refusals and errors -----------------------------------------------------------------


def test_frequency_limited_waits_a_minute_and_then_goes_through_once(standin):
    standin.add_payment(TRANSACTION, 30000, behaviour="frequency_limited_once")
    gateway = gateway_for(standin)
    with pytest.raises(RateLimited) as limited:
        gateway.refund(request_for())
    assert limited.value.code == "FREQUENCY_LIMITED"
    assert limited.value.retry_after == 60.0
    assert gateway.refund(request_for()).state == "succeeded"
    assert standin.refunds_made["refunddesk-payout-1"] == 1


def test_not_enough_balance_waits_for_finance_and_goes_through_unchanged(standin):
    standin.add_payment(TRANSACTION, 30000, behaviour="not_enough_once")
    gateway = gateway_for(standin)
    with pytest.raises(NeedsFinance) as waiting:
        gateway.refund(request_for())
    assert waiting.value.code == "NOT_ENOUGH"
    assert standin.refund("refunddesk-payout-1") is None
    assert gateway.refund(request_for()).state == "succeeded"


def test_a_payment_older_than_wechat_pays_year_is_refused_as_route_closed(standin):
    # given an order paid 400 days ago, and a gateway told WeChat Pay's period is longer
    old = datetime.now(UTC) - timedelta(days=400)
    standin.add_payment(TRANSACTION, 30000, paid_at=old)
    gateway = gateway_for(standin, refund_window_days=None)
    # when we refund it, then WeChat Pay refuses it for good: the route is closed
    with pytest.raises(RouteClosed) as closed:
        gateway.refund(request_for(paid_at=old))
    assert closed.value.code == "INVALID_REQUEST"
    assert "一年" in closed.value.message


def test_a_payment_past_the_configured_refund_window_is_not_sent(standin):
    old = datetime.now(UTC) - timedelta(days=366)
    standin.add_payment(TRANSACTION, 30000, paid_at=old)
    with pytest.raises(RouteClosed) as closed:
        gateway_for(standin).refund(request_for(paid_at=old))
    assert closed.value.code == "too_old"
    assert standin.request_count == 0


def test_an_order_wechat_pay_does_not_know_is_refused_for_good(standin):
    with pytest.raises(TerminalError) as refused:
        gateway_for(standin).refund(request_for())
    assert refused.value.code == "RESOURCE_NOT_EXISTS"
    assert not isinstance(refused.value, RouteClosed)


def test_refunding_more_than_is_left_is_refused_for_good(standin):
    standin.add_payment(TRANSACTION, 30000)
    gateway = gateway_for(standin)
    gateway.refund(request_for(amount=20000, payout_id=1))
    with pytest.raises(TerminalError) as refused:
        gateway.refund(request_for(amount=20000, payout_id=2))
    assert refused.value.code == "INVALID_REQUEST"


def test_a_refund_without_the_payments_total_is_refused_before_sending(standin):
    with pytest.raises(TerminalError) as refused:
        gateway_for(standin).refund(request_for(total=None))
    assert refused.value.code == "missing_payment_total"
    assert standin.request_count == 0


def test_a_refund_in_another_currency_is_refused_before_sending(standin):
    with pytest.raises(TerminalError) as refused:
        gateway_for(standin).refund(request_for(currency="USD"))
    assert refused.value.code == "unsupported_currency"
    assert standin.request_count == 0


def test_a_request_signed_with_the_wrong_merchant_key_waits_for_an_operator(standin):
    # given a gateway whose merchant key is not the one WeChat Pay knows
    standin.add_payment(TRANSACTION, 30000)
    gateway = gateway_for(standin, private_key=private_pem(_key("someone-else")))
    # when it refunds or asks, then WeChat Pay answers 401 SIGN_ERROR: the payout waits
    for call in (gateway.refund, gateway.fetch):
        with pytest.raises(RetryableError) as waiting:
            call(request_for())
        assert waiting.value.code == "gateway_not_configured"
        assert "SIGN_ERROR" in waiting.value.message
    assert standin.refunds_made == {}


def test_a_gateway_without_credentials_waits_without_calling_wechat_pay(standin):
    gateway = WeChatPayGateway("wechat_pay", api_base=standin.url)
    for call in (gateway.refund, gateway.fetch):
        with pytest.raises(RetryableError) as waiting:
            call(request_for())
        assert waiting.value.code == "gateway_not_configured"
    assert standin.request_count == 0


def test_a_gateway_with_an_unreadable_key_waits_and_says_why(standin, caplog):
    with caplog.at_level(logging.ERROR, logger="refunddesk.payouts.gateways.wechat_pay"):
        gateway = gateway_for(standin, private_key="not a key")
    assert "cannot be read" in caplog.text
    with pytest.raises(RetryableError) as waiting:
        gateway.refund(request_for())
    assert waiting.value.code == "gateway_not_configured"


def test_an_unreachable_wechat_pay_is_safe_to_ask_again(standin):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    gateway = gateway_for(standin, api_base=f"http://127.0.0.1:{closed_port}")
    with pytest.raises(RetryableError) as unreachable:
        gateway.refund(request_for())
    assert not isinstance(unreachable.value, OutcomeUnknown)
    assert unreachable.value.code == "unreachable"


# -- through the worker ------------------------------------------------------------------


@pytest.fixture
def configured(settings, standin):
    use_standin(settings, standin)
    yield standin
    gateways.reset()


def later(hours: float = 2) -> datetime:
    return timezone.now() + timedelta(hours=hours)


@pytest.mark.django_db
def test_a_case_paid_by_wechat_pay_is_refunded_by_the_worker(configured):
    # given an approved case paid by WeChat Pay
    configured.add_payment(TRANSACTION, 30000)
    case = wechat_case("WX-PASS-1", TRANSACTION)
    # when the worker's pass sends its payout
    run_pass(case_ids=[case.pk])
    # then WeChat Pay refunded the whole payment once, and the case is refunded
    payout = payout_of(case)
    refund = configured.refund(payout.idempotency_key)
    assert (payout.state, payout.gateway_refund_id) == ("succeeded", refund["refund_id"])
    assert (refund["amount"]["refund"], refund["amount"]["total"]) == (30000, 30000)
    assert RefundCase.objects.get(pk=case.pk).state == "refunded"
    assert configured.refunds_made == {payout.idempotency_key: 1}


@pytest.mark.django_db
def test_a_lost_answer_is_asked_about_before_anything_is_sent_again(configured):
    # given WeChat Pay makes the refund but its answer is SYSTEM_ERROR
    configured.add_payment(TRANSACTION, 30000, behaviour="system_error_after_refund")
    case = wechat_case("WX-PASS-2", TRANSACTION)
    run_pass(case_ids=[case.pk])
    payout = payout_of(case)
    assert payout.state == "unknown"
    # when the worker comes back to it
    run_pass(later(), case_ids=[case.pk])
    # then it asked, found the refund, and never sent a second request
    payout.refresh_from_db()
    assert payout.state == "succeeded"
    assert configured.requests_by_number[payout.idempotency_key] == 1
    assert configured.refunds_made[payout.idempotency_key] == 1


@pytest.mark.django_db
def test_a_payout_refused_for_want_of_balance_needs_action_and_goes_again_unchanged(
        configured):
    configured.add_payment(TRANSACTION, 30000, behaviour="not_enough_once")
    case = wechat_case("WX-PASS-3", TRANSACTION)
    run_pass(case_ids=[case.pk])
    payout = payout_of(case)
    assert (payout.state, payout.last_error_code) == ("requires_action", "NOT_ENOUGH")
    # when finance has topped up the account and the worker sends it again
    run_pass(later(), case_ids=[case.pk])
    payout.refresh_from_db()
    assert payout.state == "succeeded"
    assert configured.refund(payout.idempotency_key)["amount"]["refund"] == 30000
    assert configured.refunds_made[payout.idempotency_key] == 1


@pytest.mark.django_db
def test_a_processing_refund_is_followed_by_the_worker_until_it_succeeds(configured):
    configured.add_payment(TRANSACTION, 30000, behaviour="processing")
    case = wechat_case("WX-PASS-4", TRANSACTION)
    run_pass(case_ids=[case.pk])
    payout = payout_of(case)
    assert payout.state == "submitted"
    assert RefundCase.objects.get(pk=case.pk).state == "paying"
    configured.settle(payout.idempotency_key)
    run_pass(later(), case_ids=[case.pk])
    payout.refresh_from_db()
    assert payout.state == "succeeded"
    assert RefundCase.objects.get(pk=case.pk).state == "refunded"


def test_the_stand_ins_environment_configures_a_separate_process(standin, tmp_path):
    # given the environment a `refunddesk worker` would get, keys in files
    standin.add_payment(TRANSACTION, 30000)
    env = {**os.environ, **standin.environment(tmp_path / "secrets"),
           "DJANGO_SETTINGS_MODULE": "refunddesk.settings"}
    script = ("import django; django.setup()\n"
              "from refunddesk.payouts.gateways import gateway\n"
              "from tests.payouts.test_wechat_pay_gateway import request_for\n"
              "print(gateway('wechat_pay').refund(request_for()).state)\n")
    # when a process of its own refunds through the gateway its settings make
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                            text=True, timeout=60, cwd=Path(__file__).parents[2])
    # then WeChat Pay (the stand-in) took the refund, signed with the key from the file
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "succeeded"
    assert standin.refunds_made == {"refunddesk-payout-1": 1}


class _Receiver(BaseHTTPRequestHandler):
    """RefundDesk's notify endpoint, reduced to the adapter's check and answer."""

    gateway: WeChatPayGateway
    received: list[Any] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        notice = self.gateway.read_notification(body, dict(self.headers.items()))
        self.received.append((self.path, notice))
        answer = self.gateway.acknowledge(accepted=True)
        self.send_response(answer.status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


def test_the_stand_in_posts_a_notification_the_gateway_accepts_once_settled(standin):
    # given a processing refund asked for with RefundDesk's notify URL
    receiver = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{receiver.server_address[1]}"
    try:
        gateway = gateway_for(standin, notify_url=f"{base}/gateways/wechat_pay/notify")
        _Receiver.gateway, _Receiver.received = gateway, []
        standin.add_payment(TRANSACTION, 30000, behaviour="processing")
        submitted = gateway.refund(request_for())
        # when WeChat Pay settles it and tells us, and once more by notify()
        standin.settle("refunddesk-payout-1", send_notification=True)
        response = standin.notify(base, "refunddesk-payout-1", "REFUND.SUCCESS")
    finally:
        receiver.shutdown()
        receiver.server_close()
    # then both arrived at the notify path, verified, about our payout, with success
    assert response.status_code == 200
    assert [path for path, _notice in _Receiver.received] == [
        "/gateways/wechat_pay/notify"] * 2
    notice = _Receiver.received[0][1]
    assert (notice.payout_key, notice.refund_id, notice.amount_minor, notice.currency) == (
        "refunddesk-payout-1", submitted.refund_id, 10000, "CNY")
    assert notice.status.state == "succeeded"
