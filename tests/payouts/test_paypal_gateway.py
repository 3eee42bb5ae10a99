"""The PayPal adapter, driving the real paypal-server-sdk over HTTP against a local stand-in
of PayPal (OAuth token, refunds, PayPal-Request-Id idempotency)."""

from __future__ import annotations

import socket
import threading
from pathlib import Path
from typing import Any

import pytest
from paypalserversdk.configuration import Configuration

from refunddesk.cases.models import RefundCase
from refunddesk.payouts.gateways import gateway as configured_gateway
from refunddesk.payouts.gateways.base import (
    NeedsFinance,
    OutcomeUnknown,
    RateLimited,
    RefundRequest,
    RetryableError,
    RouteClosed,
    TerminalError,
)
from refunddesk.payouts.gateways.paypal import PayPalGateway, paypal_value
from refunddesk.payouts.models import PayoutState
from refunddesk.payouts.runner import run_pass
from tests.payouts.paypal_cases import paypal_case, use_standin
from tests.payouts.paypal_standin import PayPalStandIn


@pytest.fixture
def standin():
    with PayPalStandIn() as server:
        yield server


def gateway_for(standin: PayPalStandIn, **options: Any) -> PayPalGateway:
    return PayPalGateway("paypal", **standin.gateway_options(**options))


def request_for(capture: str = "CAP-1", amount: int = 1000, currency: str = "USD",
                payout_id: int = 1, refund_id: str = "") -> RefundRequest:
    return RefundRequest(
        payout_id=payout_id, idempotency_key=f"refunddesk-payout-{payout_id}",
        amount_minor=amount, currency=currency, destination="original", method="paypal",
        payment_reference=capture, paid_at=None, account="acct-1001", account_pk=1,
        case="RD-20260301-0001", refund_id=refund_id)


# -- outcomes ----------------------------------------------------------------------------


def test_a_refund_of_a_capture_completes_with_our_key_as_request_id_invoice_and_custom_id(
        standin):
    # given a capture PayPal refunds at once
    standin.add_payment("CAP-1", 5000)
    # when we refund 12.34 of it
    status = gateway_for(standin).refund(request_for(amount=1234))
    # then the refund succeeded and carries our payout's key and case
    assert status.state == "succeeded" and status.settled_at is not None
    [refund] = standin.refunds_of("CAP-1")
    assert refund["id"] == status.refund_id
    assert refund["amount"] == {"currency_code": "USD", "value": "12.34"}
    assert refund["invoice_id"] == refund["custom_id"] == "refunddesk-payout-1"
    assert refund["note_to_payer"] == "RD-20260301-0001"
    assert standin.requests_by_key == {"refunddesk-payout-1": 1}


def test_the_oauth_token_is_asked_for_once_and_used_for_every_call(standin):
    standin.add_payment("CAP-1", 5000)
    gateway = gateway_for(standin)
    first = gateway.refund(request_for(amount=100, payout_id=1))
    gateway.refund(request_for(amount=100, payout_id=2))
    gateway.fetch(request_for(refund_id=first.refund_id))
    assert standin.token_requests == 1


def test_a_yen_amount_goes_to_paypal_in_whole_yen(standin):
    # given a capture in yen, a currency without minor units
    standin.add_payment("CAP-JPY", 5000, currency="JPY")
    # when we refund 1,500 yen
    gateway_for(standin).refund(request_for(capture="CAP-JPY", amount=1500, currency="JPY"))
    # then PayPal is asked for "1500"
    [refund] = standin.refunds_of("CAP-JPY")
    assert refund["amount"] == {"currency_code": "JPY", "value": "1500"}


def test_a_new_taiwan_dollar_amount_with_cents_is_refused_before_reaching_paypal(standin):
    # PayPal takes TWD in whole dollars only, though ISO 4217 gives it cents
    assert paypal_value(150000, "TWD") == "1500"
    with pytest.raises(TerminalError) as refused:
        gateway_for(standin).refund(request_for(amount=150050, currency="TWD"))
    assert refused.value.code == "amount_not_whole"
    assert standin.requests_by_key == {}


def test_a_pending_refund_is_submitted_until_paypal_completes_it(standin):
    standin.add_payment("CAP-1", 5000, behaviour="pending")
    gateway = gateway_for(standin)
    submitted = gateway.refund(request_for())
    assert (submitted.state, submitted.settled_at) == ("submitted", None)
    # when PayPal completes it and we ask again
    standin.settle(submitted.refund_id, "COMPLETED")
    status = gateway.fetch(request_for(refund_id=submitted.refund_id))
    # then it has succeeded
    assert status.state == "succeeded" and status.refund_id == submitted.refund_id


def test_a_failed_refund_is_failed_with_paypals_reason(standin):
    standin.add_payment("CAP-1", 5000, behaviour="fail")
    status = gateway_for(standin).refund(request_for())
    assert (status.state, status.error_code) == ("failed", "buyer_account_closed")


def test_a_cancelled_refund_is_failed_with_code_cancelled(standin):
    standin.add_payment("CAP-1", 5000, behaviour="pending")
    gateway = gateway_for(standin)
    submitted = gateway.refund(request_for())
    standin.settle(submitted.refund_id, "CANCELLED")
    status = gateway.fetch(request_for(refund_id=submitted.refund_id))
    assert (status.state, status.error_code) == ("failed", "cancelled")


# -- idempotency and unknown outcomes ----------------------------------------------------


def test_sending_a_payout_again_returns_the_first_refund_and_makes_no_second(standin):
    standin.add_payment("CAP-1", 5000)
    gateway = gateway_for(standin)
    first = gateway.refund(request_for())
    second = gateway.refund(request_for())
    assert second.refund_id == first.refund_id
    assert standin.requests_by_key["refunddesk-payout-1"] == 2
    assert standin.refunds_made_by_key == {"refunddesk-payout-1": 1}


def test_an_answer_lost_after_paypal_made_the_refund_is_unknown_until_sent_again(standin):
    # given a capture whose refund is made but whose answer is lost (500)
    standin.add_payment("CAP-1", 5000, behaviour="error_500_after_refund")
    gateway = gateway_for(standin)
    with pytest.raises(OutcomeUnknown):
        gateway.refund(request_for())
    # when we ask about it without its id, then we are told to send it again
    with pytest.raises(RetryableError) as missing:
        gateway.fetch(request_for())
    assert missing.value.code == "resource_missing"
    # and sending again with the same request id returns the refund made the first time
    status = gateway.refund(request_for())
    [refund] = standin.refunds_of("CAP-1")
    assert (status.refund_id, status.state) == (refund["id"], "succeeded")
    assert standin.refunds_made_by_key == {"refunddesk-payout-1": 1}


def test_a_refund_answered_after_our_timeout_is_unknown_and_made_once(standin):
    standin.add_payment("CAP-1", 5000, behaviour="slow")
    gateway = gateway_for(standin, timeout=0.5)
    with pytest.raises(OutcomeUnknown) as unknown:
        gateway.refund(request_for())
    assert unknown.value.code == "no_answer"
    standin.wait_for(lambda: standin.is_answered("refunddesk-payout-1"))
    [refund] = standin.refunds_of("CAP-1")
    assert gateway.refund(request_for()).refund_id == refund["id"]
    assert standin.refunds_made_by_key == {"refunddesk-payout-1": 1}


def test_a_second_send_while_the_first_still_runs_is_refused_for_now(standin):
    # given payout 1 still running at PayPal
    standin.add_payment("CAP-1", 5000, behaviour="slow")
    gateway = gateway_for(standin)
    first: dict[str, Any] = {}
    worker = threading.Thread(target=lambda: first.update(status=gateway.refund(
        request_for())))
    worker.start()
    standin.wait_for(lambda: standin.requests_by_key["refunddesk-payout-1"] == 1)
    # when another worker sends it too, then PayPal says 409: not taken, ask later
    with pytest.raises(RetryableError) as refused:
        gateway_for(standin).refund(request_for())
    worker.join()
    assert refused.value.code == "request_in_progress"
    assert not isinstance(refused.value, OutcomeUnknown)
    assert [r["id"] for r in standin.refunds_of("CAP-1")] == [first["status"].refund_id]


def test_a_409_for_a_previous_call_in_progress_is_retryable(standin):
    standin.add_payment("CAP-1", 5000, behaviour="in_progress_409_once")
    gateway = gateway_for(standin)
    with pytest.raises(RetryableError) as refused:
        gateway.refund(request_for())
    assert refused.value.code == "request_in_progress"
    assert gateway.refund(request_for()).state == "succeeded"
    assert standin.refunds_made_by_key == {"refunddesk-payout-1": 1}


# -- refusals and errors -----------------------------------------------------------------


@pytest.mark.parametrize(("behaviour", "error", "code"), [
    ("fully_refunded", TerminalError, "capture_fully_refunded"),
    ("time_limit_exceeded", RouteClosed, "refund_time_limit_exceeded"),
    ("max_refunds_exceeded", RouteClosed, "max_number_of_refunds_exceeded"),
    ("insufficient_funds", NeedsFinance, "refund_failed_insufficient_funds"),
    ("payee_restricted", NeedsFinance, "payee_account_restricted"),
])
def test_paypals_refusals_become_our_errors(standin, behaviour, error, code):
    standin.add_payment("CAP-1", 5000, behaviour=behaviour)
    with pytest.raises(error) as refused:
        gateway_for(standin).refund(request_for())
    assert refused.value.code == code
    assert standin.refunds_of("CAP-1") == []


def test_a_refund_refused_for_lack_of_funds_goes_through_once_finance_tops_up(standin):
    # given a merchant account without the funds for the refund
    standin.add_payment("CAP-1", 5000, behaviour="insufficient_funds")
    gateway = gateway_for(standin)
    with pytest.raises(NeedsFinance):
        gateway.refund(request_for())
    # when finance adds funds and the payout is sent again, unchanged
    standin.captures["CAP-1"].behaviour = "succeed"
    # then it is refunded, once
    assert gateway.refund(request_for()).state == "succeeded"
    assert standin.refunds_made_by_key == {"refunddesk-payout-1": 1}


def test_refunding_more_than_a_capture_has_left_is_refused_for_good(standin):
    standin.add_payment("CAP-1", 1000)
    gateway = gateway_for(standin)
    gateway.refund(request_for(amount=800, payout_id=1))
    with pytest.raises(TerminalError) as too_much:
        gateway.refund(request_for(amount=800, payout_id=2))
    assert too_much.value.code == "refund_amount_exceeded"
    gateway.refund(request_for(amount=200, payout_id=3))
    with pytest.raises(TerminalError) as nothing_left:
        gateway.refund(request_for(amount=1, payout_id=4))
    assert nothing_left.value.code == "capture_fully_refunded"


def test_a_capture_paypal_does_not_know_is_refused_for_good(standin):
    with pytest.raises(TerminalError):
        gateway_for(standin).refund(request_for(capture="CAP-UNKNOWN"))


def test_a_rate_limited_refund_is_retryable_and_then_made_once(standin):
    standin.add_payment("CAP-1", 5000, behaviour="rate_limited_once")
    gateway = gateway_for(standin)
    with pytest.raises(RateLimited):
        gateway.refund(request_for())
    assert gateway.refund(request_for()).state == "succeeded"
    assert standin.refunds_made_by_key == {"refunddesk-payout-1": 1}


def test_a_gateway_without_credentials_waits_without_calling_paypal(standin):
    standin.add_payment("CAP-1", 5000)
    gateway = gateway_for(standin, client_secret="")
    for call in (gateway.refund, gateway.fetch):
        with pytest.raises(RetryableError) as waiting:
            call(request_for(refund_id="R1"))
        assert waiting.value.code == "gateway_not_configured"
    assert standin.request_count == 0


def test_credentials_paypal_refuses_make_payouts_wait_for_an_operator(standin):
    standin.add_payment("CAP-1", 5000)
    gateway = gateway_for(standin, client_secret="wrong")
    with pytest.raises(RetryableError) as waiting:
        gateway.refund(request_for())
    assert waiting.value.code == "gateway_not_configured"
    assert not isinstance(waiting.value, OutcomeUnknown)
    assert standin.refunds_of("CAP-1") == [] and standin.requests_by_key == {}


def test_a_token_paypal_no_longer_accepts_is_replaced_on_the_next_call(standin):
    # given a gateway holding a token, which PayPal then forgets
    standin.add_payment("CAP-1", 5000)
    gateway = gateway_for(standin)
    gateway.refund(request_for(amount=100, payout_id=1))
    standin.tokens.clear()
    # when the next call is refused, then the payout waits, and the call after gets a new
    # token and goes through
    with pytest.raises(RetryableError) as refused:
        gateway.refund(request_for(amount=100, payout_id=2))
    assert refused.value.code == "gateway_not_configured"
    assert gateway.refund(request_for(amount=100, payout_id=2)).state == "succeeded"
    assert standin.token_requests == 2


def test_an_unreachable_paypal_is_safe_to_ask_again(standin):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    gateway = gateway_for(standin, api_base=f"http://127.0.0.1:{closed_port}")
    with pytest.raises(RetryableError) as unreachable:
        gateway.refund(request_for())
    assert not isinstance(unreachable.value, OutcomeUnknown)
    assert unreachable.value.code == "unreachable"


def test_asking_about_a_refund_paypal_does_not_know_is_retryable(standin):
    with pytest.raises(RetryableError) as missing:
        gateway_for(standin).fetch(request_for(refund_id="0RNOTAREFUND00000"))
    assert missing.value.code == "resource_missing"


def test_the_sdk_is_configured_never_to_retry_and_with_our_timeout(standin):
    client = gateway_for(standin, timeout=3.5).client
    assert isinstance(client.config, Configuration)
    assert client.config.get_base_uri() == standin.url
    assert client.config.max_retries == 0
    assert client.config.timeout == 3.5
    assert "POST" not in client.config.retry_methods


# -- through the worker ------------------------------------------------------------------


@pytest.mark.django_db
def test_a_case_paid_by_paypal_is_refunded_by_the_worker_through_paypal(settings, standin):
    # given an approved case whose payment was PayPal capture CAP-CASE-1
    standin.add_payment("CAP-CASE-1", 3000)
    use_standin(settings, standin)
    case = paypal_case("VPN-PP-1", "CAP-CASE-1")
    # when the worker pays it out
    run_pass(case_ids=[case.pk])
    # then PayPal refunded the capture once, and the case is refunded
    payout = case.payouts.get()
    assert payout.gateway == "paypal" and payout.state == PayoutState.SUCCEEDED
    refund = standin.refund_for(payout.idempotency_key)
    assert refund is not None and payout.gateway_refund_id == refund["id"]
    assert refund["amount"] == {"currency_code": "USD", "value": "30.00"}
    assert RefundCase.objects.get(pk=case.pk).state == "refunded"


@pytest.mark.django_db
def test_a_lost_answer_is_asked_about_and_sent_again_with_the_same_request_id(settings,
                                                                             standin):
    # given a case whose refund PayPal makes but whose answer is lost
    standin.add_payment("CAP-CASE-2", 3000, behaviour="error_500_after_refund")
    use_standin(settings, standin)
    case = paypal_case("VPN-PP-2", "CAP-CASE-2")
    run_pass(case_ids=[case.pk])
    payout = case.payouts.get()
    assert payout.state == PayoutState.UNKNOWN
    # when the worker takes it up again
    payout.next_attempt_at = payout.created_at
    payout.save(update_fields=["next_attempt_at"])
    run_pass(case_ids=[case.pk])
    # then the refund PayPal made the first time is recorded, and there is only one
    payout.refresh_from_db()
    assert payout.state == PayoutState.SUCCEEDED
    assert standin.refunds_made_by_key == {payout.idempotency_key: 1}
    assert payout.gateway_refund_id == standin.refund_for(payout.idempotency_key)["id"]


@pytest.mark.django_db
def test_a_payment_past_paypals_refund_time_limit_fails_as_a_closed_route(settings, standin):
    # given PayPal refuses the capture as too old to refund
    standin.add_payment("CAP-CASE-3", 3000, behaviour="time_limit_exceeded")
    use_standin(settings, standin)
    case = paypal_case("VPN-PP-3", "CAP-CASE-3")
    # when the worker sends it
    run_pass(case_ids=[case.pk])
    # then the PayPal payout failed as a closed route and nothing was refunded at PayPal
    failed = case.payouts.get(gateway="paypal")
    assert (failed.state, failed.last_error_code) == (PayoutState.FAILED,
                                                      "refund_time_limit_exceeded")
    assert standin.refunds_of("CAP-CASE-3") == []
    # and, the VPN policy having no fallback to the balance, the case waits for finance
    assert RefundCase.objects.get(pk=case.pk).state == "payout_failed"


def test_the_configured_gateway_is_built_from_settings_without_credentials():
    adapter = configured_gateway("paypal")
    assert isinstance(adapter, PayPalGateway)
    with pytest.raises(RetryableError) as waiting:
        adapter.refund(request_for())
    assert waiting.value.code == "gateway_not_configured"


def test_the_refund_window_is_a_setting_of_180_days():
    adapter = configured_gateway("paypal")
    assert adapter.refund_window is not None and adapter.refund_window.days == 180


def test_the_stand_ins_environment_names_its_secret_in_a_file(standin, tmp_path):
    environment = standin.environment(tmp_path)
    assert "PAYPAL_CLIENT_SECRET" not in environment
    secret = environment["PAYPAL_CLIENT_SECRET_FILE"]
    assert Path(secret).read_text(encoding="utf-8") == standin.client_secret
    assert environment["PAYPAL_API_BASE"] == standin.url
    assert environment["PAYPAL_CERT_URL_PREFIXES"].startswith("http://127.0.0.1:")
