"""The Alipay adapter over HTTP against a local stand-in of Alipay's gateway: requests signed
with the merchant's key, every answer verified with Alipay's."""

from __future__ import annotations

import logging
import socket
from dataclasses import replace
from typing import Any

import pytest

from refunddesk.payouts.checks import gateways_are_usable
from refunddesk.payouts.gateways.alipay import AlipayGateway
from refunddesk.payouts.gateways.base import (
    NeedsFinance,
    OutcomeUnknown,
    RateLimited,
    RefundRequest,
    RetryableError,
    RouteClosed,
    TerminalError,
)
from tests.payouts.alipay_standin import REFUND, AlipayStandIn, key_pair, private_pem

TRADE = "2026030122001404680500012345"  # Alipay's trade number: digits


@pytest.fixture
def standin():
    with AlipayStandIn(slow_seconds=2.0) as server:
        yield server


def gateway_for(standin: AlipayStandIn, **options: Any) -> AlipayGateway:
    return AlipayGateway("alipay", **{**standin.gateway_options(), **options})


def request_for(reference: str = TRADE, amount: int = 1234, currency: str = "CNY",
                payout_id: int = 1) -> RefundRequest:
    return RefundRequest(
        payout_id=payout_id, idempotency_key=f"refunddesk-payout-{payout_id}",
        amount_minor=amount, currency=currency, destination="original", method="alipay",
        payment_reference=reference, paid_at=None, account="acct-1001", account_pk=1,
        case="RD-20260301-0001")


def refund_requests(standin: AlipayStandIn) -> list[dict[str, Any]]:
    return [biz for method, biz in standin.received if method == REFUND]


# -- outcomes ----------------------------------------------------------------------------


def test_a_refund_of_an_alipay_trade_succeeds_under_our_request_number(standin):
    # given a trade Alipay refunds at once
    standin.add_payment(TRADE, 90000)
    # when we refund 12.34 yuan of it
    status = gateway_for(standin).refund(request_for(amount=1234))
    # then Alipay was asked by its trade number, in yuan, with our payout's key as the
    # request number, and that number is the refund's id (Alipay gives none of its own)
    assert (status.state, status.refund_id) == ("succeeded", "refunddesk-payout-1")
    assert status.settled_at is not None and status.settled_at.utcoffset() is not None
    [biz] = refund_requests(standin)
    assert biz == {"trade_no": TRADE, "refund_amount": "12.34",
                   "out_request_no": "refunddesk-payout-1", "refund_reason": "RD-20260301-0001"}
    [refund] = standin.refunds_of(TRADE)
    assert (refund.amount_minor, refund.status) == (1234, "success")


@pytest.mark.parametrize(("amount", "sent"), [(5, "0.05"), (120000, "1200.00"), (100, "1.00")])
def test_amounts_go_to_alipay_in_yuan_with_two_decimals(standin, amount, sent):
    standin.add_payment(TRADE, 500000)
    gateway_for(standin).refund(request_for(amount=amount))
    assert refund_requests(standin)[0]["refund_amount"] == sent


def test_a_merchant_order_number_goes_to_alipay_as_out_trade_no(standin):
    standin.add_payment("VPN-20260301-77", 30000)
    status = gateway_for(standin).refund(request_for(reference="VPN-20260301-77"))
    assert status.state == "succeeded"
    assert refund_requests(standin)[0]["out_trade_no"] == "VPN-20260301-77"
    assert "trade_no" not in refund_requests(standin)[0]


def test_a_merchant_whose_order_numbers_are_digits_can_say_so(standin):
    # given a merchant whose own order numbers are all digits
    standin.add_payment("20150320010101001", 30000, out_trade_no="20150320010101001")
    # when its gateway is told references are order numbers, then they go as such
    gateway = gateway_for(standin, payment_reference="out_trade_no")
    assert gateway.refund(request_for(reference="20150320010101001")).state == "succeeded"
    assert refund_requests(standin)[0]["out_trade_no"] == "20150320010101001"
    assert "trade_no" not in refund_requests(standin)[0]


def test_a_pending_refund_is_submitted_until_alipay_settles_it(standin):
    # given a refund Alipay takes but has not paid yet (fund_change N)
    standin.add_payment(TRADE, 90000, behaviour="pending")
    gateway = gateway_for(standin)
    submitted = gateway.refund(request_for())
    assert (submitted.state, submitted.refund_id) == ("submitted", "refunddesk-payout-1")
    # while it is on its way, asking says so
    assert gateway.fetch(request_for()).state == "submitted"
    # when Alipay has paid it, asking says it succeeded, with Alipay's time
    standin.settle("refunddesk-payout-1")
    status = gateway.fetch(request_for())
    assert (status.state, status.refund_id) == ("succeeded", "refunddesk-payout-1")
    assert status.settled_at is not None


# -- idempotency and unknown outcomes ----------------------------------------------------


def test_the_same_request_number_again_returns_the_refund_made_and_makes_no_second(standin):
    # given payout 1 refunded
    standin.add_payment(TRADE, 90000)
    gateway = gateway_for(standin)
    gateway.refund(request_for())
    # when it is sent again, same number and amount, then Alipay answers fund_change N
    again = gateway.refund(request_for())
    assert (again.state, again.refund_id) == ("submitted", "refunddesk-payout-1")
    # and asking finds the one refund made
    assert gateway.fetch(request_for()).state == "succeeded"
    assert standin.refunds_made == {"refunddesk-payout-1": 1}
    assert standin.requests_by_number["refunddesk-payout-1"] == 2


def test_the_same_request_number_with_another_amount_is_our_bug_terminal_and_loud(
        standin, caplog):
    standin.add_payment(TRADE, 90000)
    gateway = gateway_for(standin)
    gateway.refund(request_for(amount=1000))
    with (caplog.at_level(logging.ERROR, logger="refunddesk.payouts.gateways.alipay"),
          pytest.raises(TerminalError) as refused):
        gateway.refund(request_for(amount=2000))
    assert refused.value.code == "ACQ.DISCORDANT_REPEAT_REQUEST"
    assert not isinstance(refused.value, RouteClosed)
    assert "mistake of RefundDesk's" in caplog.text
    assert standin.refunds_made == {"refunddesk-payout-1": 1}


def test_refunding_more_than_the_trade_has_left_is_our_bug_terminal_and_loud(standin, caplog):
    standin.add_payment(TRADE, 1000)
    with (caplog.at_level(logging.ERROR, logger="refunddesk.payouts.gateways.alipay"),
          pytest.raises(TerminalError) as refused):
        gateway_for(standin).refund(request_for(amount=1001))
    assert refused.value.code == "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL"
    assert "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL" in caplog.text
    assert standin.refunds_of(TRADE) == []


def test_a_system_error_is_unknown_and_when_no_refund_was_made_asking_says_so(standin):
    # given Alipay answers the first request with a system error and makes nothing
    standin.add_payment(TRADE, 90000, behaviour="system_error_once")
    gateway = gateway_for(standin)
    with pytest.raises(OutcomeUnknown) as unknown:
        gateway.refund(request_for())
    assert unknown.value.code == "ACQ.SYSTEM_ERROR"
    # when we ask, then there is no refund under our number: sending again is safe
    with pytest.raises(RetryableError) as missing:
        gateway.fetch(request_for())
    assert missing.value.code == "resource_missing"
    # and sending again, same number and amount, makes the one refund
    assert gateway.refund(request_for()).state == "succeeded"
    assert standin.refunds_made == {"refunddesk-payout-1": 1}
    first, second = refund_requests(standin)
    assert first == second


def test_a_system_error_after_alipay_made_the_refund_is_unknown_until_asked(standin):
    standin.add_payment(TRADE, 90000, behaviour="system_error_after_refund")
    gateway = gateway_for(standin)
    with pytest.raises(OutcomeUnknown):
        gateway.refund(request_for())
    status = gateway.fetch(request_for())
    assert (status.state, status.refund_id) == ("succeeded", "refunddesk-payout-1")
    assert standin.refunds_made == {"refunddesk-payout-1": 1}


def test_an_answer_slower_than_our_timeout_is_unknown_and_asking_finds_the_refund(standin):
    # given a refund Alipay makes but answers after our timeout
    standin.add_payment(TRADE, 90000, behaviour="slow")
    gateway = gateway_for(standin, timeout=0.5)
    with pytest.raises(OutcomeUnknown) as unknown:
        gateway.refund(request_for())
    assert unknown.value.code == "no_answer"
    # when we ask, then the refund is found and nothing is sent again
    assert gateway.fetch(request_for()).state == "succeeded"
    assert standin.requests_by_number["refunddesk-payout-1"] == 1


def test_an_answer_not_signed_by_alipay_is_not_believed_and_is_logged(standin, caplog):
    # given an answer signed with a key that is not Alipay's
    standin.add_payment(TRADE, 90000, behaviour="forged_answer")
    gateway = gateway_for(standin)
    with (caplog.at_level(logging.ERROR, logger="refunddesk.payouts.gateways.alipay"),
          pytest.raises(OutcomeUnknown) as unknown):
        gateway.refund(request_for())
    # then the outcome counts as unknown (never a success, never a refusal), and is logged
    assert unknown.value.code == "untrusted_answer"
    assert "cannot be trusted" in caplog.text
    # and asking (answered honestly) settles it
    assert gateway.fetch(request_for()).state == "succeeded"


def test_asking_about_a_number_alipay_never_refunded_is_resource_missing(standin):
    standin.add_payment(TRADE, 90000)
    with pytest.raises(RetryableError) as missing:
        gateway_for(standin).fetch(request_for(payout_id=404))
    assert missing.value.code == "resource_missing"


def test_asking_about_a_trade_alipay_does_not_know_is_resource_missing(standin):
    with pytest.raises(RetryableError) as missing:
        gateway_for(standin).fetch(request_for(reference="2026000000000000000000000000"))
    assert missing.value.code == "resource_missing"


# -- refusals ----------------------------------------------------------------------------


@pytest.mark.parametrize(("behaviour", "code"), [
    ("trade_finished", "ACQ.TRADE_HAS_FINISHED"),
    ("not_allow_refund", "ACQ.TRADE_NOT_ALLOW_REFUND")])
def test_a_trade_alipay_will_no_longer_refund_closes_the_original_route(standin, behaviour,
                                                                        code):
    standin.add_payment(TRADE, 90000, behaviour=behaviour)
    with pytest.raises(RouteClosed) as closed:
        gateway_for(standin).refund(request_for())
    assert closed.value.code == code
    assert standin.refunds_of(TRADE) == []


def test_a_merchant_balance_too_low_needs_finance_and_then_goes_through_unchanged(standin):
    standin.add_payment(TRADE, 90000, behaviour="balance_not_enough_once")
    gateway = gateway_for(standin)
    with pytest.raises(NeedsFinance) as waiting:
        gateway.refund(request_for())
    assert waiting.value.code == "ACQ.SELLER_BALANCE_NOT_ENOUGH"
    assert gateway.refund(request_for()).state == "succeeded"
    first, second = refund_requests(standin)
    assert first == second


def test_alipays_rate_limit_is_rate_limited_and_retryable(standin):
    standin.add_payment(TRADE, 90000, behaviour="rate_limited_once")
    gateway = gateway_for(standin)
    with pytest.raises(RateLimited) as limited:
        gateway.refund(request_for())
    assert limited.value.code == "isv.method-call-limited"
    assert gateway.refund(request_for()).state == "succeeded"


def test_a_trade_alipay_does_not_know_is_refused_for_good(standin):
    with pytest.raises(TerminalError) as refused:
        gateway_for(standin).refund(request_for(reference="2026000000000000000000000000"))
    assert refused.value.code == "ACQ.TRADE_NOT_EXIST"


def test_a_payout_in_a_currency_the_account_does_not_refund_in_is_refused_without_asking(
        standin):
    standin.add_payment(TRADE, 90000)
    with pytest.raises(TerminalError) as refused:
        gateway_for(standin).refund(request_for(currency="USD"))
    assert refused.value.code == "currency_not_supported"
    assert "CNY" in refused.value.message and "USD" in refused.value.message
    assert standin.request_count == 0


def test_a_cross_border_account_names_the_refund_currency(standin):
    standin.add_payment(TRADE, 9000, currency="USD")
    gateway = gateway_for(standin, currencies=["CNY", "USD"])
    assert gateway.refund(request_for(amount=1500, currency="USD")).state == "succeeded"
    assert refund_requests(standin)[0]["refund_currency"] == "USD"
    assert refund_requests(standin)[0]["refund_amount"] == "15.00"


# -- configuration -----------------------------------------------------------------------


def test_a_gateway_without_credentials_waits_without_calling_alipay(standin):
    gateway = AlipayGateway("alipay", server_url=standin.url, refund_window_days=365)
    for call in (gateway.refund, gateway.fetch):
        with pytest.raises(RetryableError) as waiting:
            call(request_for())
        assert waiting.value.code == "gateway_not_configured"
        assert "ALIPAY_PRIVATE_KEY" in waiting.value.message
    assert standin.request_count == 0


def test_a_key_that_cannot_be_read_waits_and_says_which(standin):
    gateway = gateway_for(standin, alipay_public_key="not a key")
    with pytest.raises(RetryableError) as waiting:
        gateway.refund(request_for())
    assert waiting.value.code == "gateway_not_configured"
    assert "public key" in waiting.value.message


@pytest.mark.parametrize("options", [{"private_key": private_pem(key_pair("forger"))},
                                     {"app_id": "2021000000009999"}])
def test_a_key_or_app_id_alipay_does_not_accept_waits_for_an_operator(standin, options):
    # given a request signed with a key Alipay does not have (or another app's id)
    standin.add_payment(TRADE, 90000)
    gateway = gateway_for(standin, **options)
    # when we refund or ask, then Alipay refuses it (40002, unsigned) and the payout waits
    for call in (gateway.refund, gateway.fetch):
        with pytest.raises(RetryableError) as waiting:
            call(request_for())
        assert waiting.value.code == "gateway_not_configured"
        assert not isinstance(waiting.value, OutcomeUnknown)
    assert standin.refunds_of(TRADE) == []


def test_an_unreachable_alipay_is_safe_to_send_again_and_to_ask_again(standin):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    gateway = gateway_for(standin, server_url=f"http://127.0.0.1:{closed_port}/gateway.do")
    with pytest.raises(RetryableError) as unreachable:
        gateway.refund(request_for())
    assert not isinstance(unreachable.value, OutcomeUnknown)
    assert unreachable.value.code == "unreachable"
    with pytest.raises(RetryableError):
        gateway.fetch(request_for())


def test_the_server_urls_port_is_where_requests_go(standin):
    # the reason for our own client: an SDK that drops the port could not reach this
    standin.add_payment(TRADE, 90000)
    assert ":" in standin.url.split("//", 1)[1].split("/", 1)[0]
    gateway_for(standin).refund(request_for())
    assert standin.request_count == 1


def test_a_refund_request_without_a_payment_reference_is_refused_for_good(standin):
    with pytest.raises(TerminalError) as refused:
        gateway_for(standin).refund(replace(request_for(), payment_reference=""))
    assert refused.value.code == "missing_payment_reference"


def test_refunddesk_check_names_half_a_set_of_alipay_credentials(settings):
    settings.REFUNDDESK_GATEWAYS["alipay"]["OPTIONS"].update(app_id="2021000000000001")
    [error] = gateways_are_usable()
    assert error.id == "payouts.E002"
    assert "gateway 'alipay': ALIPAY_PRIVATE_KEY, ALIPAY_PUBLIC_KEY not set" in error.msg


def test_refunddesk_check_names_a_key_that_cannot_be_read(settings, standin):
    settings.REFUNDDESK_GATEWAYS["alipay"]["OPTIONS"] = {
        **standin.gateway_options(), "private_key": "-----BEGIN PRIVATE KEY-----\nxx"}
    [error] = gateways_are_usable()
    assert "gateway 'alipay': the private key cannot be read" in error.msg


def test_refunddesk_check_names_an_unknown_kind_of_payment_reference(settings, standin):
    settings.REFUNDDESK_GATEWAYS["alipay"]["OPTIONS"] = {
        **standin.gateway_options(), "payment_reference": "order_id"}
    [error] = gateways_are_usable()
    assert "ALIPAY_PAYMENT_REFERENCE is 'order_id'" in error.msg
    # and its payouts wait, saying why, rather than guessing
    with pytest.raises(RetryableError) as waiting:
        gateway_for(standin, payment_reference="order_id").refund(request_for())
    assert "ALIPAY_PAYMENT_REFERENCE" in waiting.value.message
    assert standin.request_count == 0
