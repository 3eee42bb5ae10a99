"""The Stripe adapter, driving the real SDK over HTTP against a local stand-in of Stripe."""

from __future__ import annotations

import logging
import socket
import threading
from dataclasses import replace
from typing import Any

import pytest

from refunddesk.payouts.gateways.base import (
    OutcomeUnknown,
    RateLimited,
    RefundRequest,
    RetryableError,
    TerminalError,
    TokenBucket,
)
from refunddesk.payouts.gateways.stripe import StripeGateway
from tests.payouts.stripe_standin import StripeStandIn


@pytest.fixture
def standin():
    with StripeStandIn() as server:
        yield server


def gateway_for(standin: StripeStandIn, **options: Any) -> StripeGateway:
    options = {"api_key": standin.api_key, "api_base": standin.url, "timeout": 5.0, **options}
    return StripeGateway("stripe", **options)


def request_for(charge: str = "ch_1", amount: int = 1000, currency: str = "USD",
                payout_id: int = 1, refund_id: str = "") -> RefundRequest:
    return RefundRequest(
        payout_id=payout_id, idempotency_key=f"refunddesk-payout-{payout_id}",
        amount_minor=amount, currency=currency, destination="original", method="card",
        payment_reference=charge, paid_at=None, account="acct-1001", account_pk=1,
        case="RD-20260301-0001", refund_id=refund_id)


# -- outcomes ----------------------------------------------------------------------------


def test_a_refund_of_a_card_charge_succeeds_with_our_payout_in_its_metadata(standin):
    # given a charge Stripe refunds at once
    standin.add_charge("ch_1", 5000)
    # when we refund part of it
    status = gateway_for(standin).refund(request_for(amount=1000))
    # then the refund succeeded, for that amount, and carries our payout and case
    assert status.state == "succeeded"
    assert status.refund_id.startswith("re_")
    assert status.settled_at is not None
    [refund] = standin.refunds_of("ch_1")
    assert refund["id"] == status.refund_id
    assert refund["amount"] == 1000
    assert refund["currency"] == "usd"
    assert refund["metadata"] == {"refunddesk_payout": "1", "refunddesk_case": "RD-20260301-0001"}
    assert standin.requests_by_key == {"refunddesk-payout-1": 1}


def test_a_payment_intent_is_refunded_by_its_payment_intent_id(standin):
    # given a charge made through a PaymentIntent, known to us by the PaymentIntent's id
    standin.add_charge("ch_2", 3000, payment_intent="pi_2")
    # when we refund it
    status = gateway_for(standin).refund(request_for(charge="pi_2", amount=3000))
    # then Stripe refunded that PaymentIntent's charge
    assert status.state == "succeeded"
    [refund] = standin.refunds_of("ch_2")
    assert refund["payment_intent"] == "pi_2"


def test_a_pending_refund_is_submitted_until_stripe_settles_it(standin):
    # given a refund Stripe holds as pending
    standin.add_charge("ch_1", 5000, behaviour="pending")
    gateway = gateway_for(standin)
    request = request_for()
    submitted = gateway.refund(request)
    assert submitted.state == "submitted"
    assert submitted.settled_at is None
    # when Stripe settles it and we ask again
    standin.settle(submitted.refund_id, "succeeded")
    status = gateway.fetch(replace(request, refund_id=submitted.refund_id))
    # then it has succeeded
    assert status.state == "succeeded"
    assert status.refund_id == submitted.refund_id


def test_a_refund_that_fails_at_stripe_carries_stripes_failure_reason(standin):
    # given a charge whose card can no longer take money back
    standin.add_charge("ch_1", 5000, behaviour="fail")
    # when we refund it
    status = gateway_for(standin).refund(request_for())
    # then the refund failed, with Stripe's reason
    assert status.state == "failed"
    assert status.error_code == "expired_or_canceled_card"


def test_a_refund_canceled_at_stripe_is_failed_with_code_canceled(standin):
    # given a pending refund
    standin.add_charge("ch_1", 5000, behaviour="pending")
    gateway = gateway_for(standin)
    submitted = gateway.refund(request_for())
    # when it is canceled at Stripe
    standin.settle(submitted.refund_id, "canceled")
    status = gateway.fetch(request_for(refund_id=submitted.refund_id))
    # then it is failed, and says why
    assert (status.state, status.error_code) == ("failed", "canceled")


def test_a_refund_that_requires_action_is_reported_as_such(standin):
    standin.add_charge("ch_1", 5000, behaviour="requires_action")
    status = gateway_for(standin).refund(request_for())
    assert status.state == "requires_action"


def test_a_status_stripe_adds_later_is_taken_as_submitted_with_a_warning(standin, caplog):
    # given a refund whose status later becomes one this adapter does not know
    standin.add_charge("ch_1", 5000, behaviour="pending")
    gateway = gateway_for(standin)
    submitted = gateway.refund(request_for())
    standin.settle(submitted.refund_id, "in_review")
    # when we ask about it
    with caplog.at_level(logging.WARNING, logger="refunddesk.payouts.gateways.stripe"):
        status = gateway.fetch(request_for(refund_id=submitted.refund_id))
    # then it counts as still on its way, and someone is told
    assert status.state == "submitted"
    assert "in_review" in caplog.text


def test_an_isk_amount_goes_to_stripe_in_its_two_decimal_units(standin):
    # given a charge in Icelandic krónur, which Stripe's API counts in hundredths
    standin.add_charge("ch_isk", 500_000, currency="isk")
    # when we refund 1,500 krónur (ISO 4217 minor units: whole krónur)
    gateway_for(standin).refund(request_for(charge="ch_isk", amount=1500, currency="ISK"))
    # then Stripe is asked for 150,000 of its units
    [refund] = standin.refunds_of("ch_isk")
    assert refund["amount"] == 150_000


# -- idempotency and unknown outcomes ----------------------------------------------------


def test_a_repeated_refund_with_the_same_key_returns_the_first_refund(standin):
    # given a refund already made for payout 1
    standin.add_charge("ch_1", 5000)
    gateway = gateway_for(standin)
    first = gateway.refund(request_for())
    # when payout 1 is sent again
    second = gateway.refund(request_for())
    # then Stripe answers with the first refund, made once
    assert second.refund_id == first.refund_id
    assert len(standin.refunds_of("ch_1")) == 1
    assert standin.requests_by_key["refunddesk-payout-1"] == 2
    assert standin.replays_by_key["refunddesk-payout-1"] == 1


def test_a_key_reused_with_other_parameters_is_refused_for_good(standin):
    # given payout 1 refunded for 1000
    standin.add_charge("ch_1", 5000)
    gateway = gateway_for(standin)
    gateway.refund(request_for(amount=1000))
    # when the same key asks for another amount
    with pytest.raises(TerminalError) as refused:
        gateway.refund(request_for(amount=2000))
    # then Stripe refuses, and no second refund is made
    assert refused.value.code == "idempotency_key_reused"
    assert len(standin.refunds_of("ch_1")) == 1


def test_an_answer_lost_after_stripe_made_the_refund_is_unknown_until_asked_again(standin):
    # given a charge whose refund is made but whose answer is lost (500)
    standin.add_charge("ch_1", 5000, behaviour="error_500_after_create")
    gateway = gateway_for(standin)
    # when we refund it
    with pytest.raises(OutcomeUnknown):
        gateway.refund(request_for())
    # then asking again with the same key returns the refund made the first time
    status = gateway.refund(request_for())
    [refund] = standin.refunds_of("ch_1")
    assert status.refund_id == refund["id"]
    assert status.state == "succeeded"


def test_a_refund_whose_answer_was_lost_is_found_by_our_payout_id(standin):
    # given a refund made by Stripe whose answer never reached us
    standin.add_charge("ch_1", 5000, behaviour="error_500_after_create")
    standin.add_charge("ch_other", 5000)
    gateway = gateway_for(standin)
    gateway.refund(request_for(charge="ch_other", payout_id=7))
    with pytest.raises(OutcomeUnknown):
        gateway.refund(request_for())
    # when we ask about it without knowing its id
    status = gateway.fetch(request_for())
    # then it is found by the payout id in its metadata, with no second refund made
    [refund] = standin.refunds_of("ch_1")
    assert status.refund_id == refund["id"]
    assert standin.requests_by_key["refunddesk-payout-1"] == 1


def test_a_refund_stripe_never_made_is_not_found_by_our_payout_id(standin):
    standin.add_charge("ch_1", 5000)
    with pytest.raises(RetryableError) as missing:
        gateway_for(standin).fetch(request_for())
    assert missing.value.code == "resource_missing"


def test_a_refund_without_an_answer_in_time_is_unknown(standin):
    # given a charge Stripe refunds but answers slower than our timeout
    standin.add_charge("ch_1", 5000, behaviour="slow")
    gateway = gateway_for(standin, timeout=0.5)
    # when we refund it
    with pytest.raises(OutcomeUnknown):
        gateway.refund(request_for())
    # then the refund was made all the same, and once Stripe has finished, sending
    # again returns it
    standin.wait_for(lambda: standin.is_answered("refunddesk-payout-1"))
    [refund] = standin.refunds_of("ch_1")
    assert gateway.refund(request_for()).refund_id == refund["id"]
    assert len(standin.refunds_of("ch_1")) == 1


def test_a_second_request_while_the_first_still_runs_is_refused_for_now(standin):
    # given a refund of payout 1 still running at Stripe
    standin.add_charge("ch_1", 5000, behaviour="slow")
    gateway = gateway_for(standin)
    first: dict[str, Any] = {}
    worker = threading.Thread(target=lambda: first.update(status=gateway.refund(request_for())))
    worker.start()
    standin.wait_for(lambda: standin.requests_by_key["refunddesk-payout-1"] == 1)
    # when another worker sends payout 1 too
    with pytest.raises(RetryableError) as refused:
        gateway.refund(request_for())
    worker.join()
    # then it is told to come back later (409), and only the first made a refund
    assert refused.value.code == "idempotency_key_in_use"
    assert not isinstance(refused.value, OutcomeUnknown)
    assert [r["id"] for r in standin.refunds_of("ch_1")] == [first["status"].refund_id]


# -- refusals and errors -----------------------------------------------------------------


def test_a_charge_stripe_does_not_know_is_refused_for_good(standin):
    with pytest.raises(TerminalError) as refused:
        gateway_for(standin).refund(request_for(charge="ch_unknown"))
    assert refused.value.code == "resource_missing"


def test_refunding_more_than_a_charge_has_left_is_refused_for_good(standin):
    # given a charge of 1000 with 800 already refunded
    standin.add_charge("ch_1", 1000)
    gateway = gateway_for(standin)
    gateway.refund(request_for(amount=800, payout_id=1))
    # when another 800 is asked for, then Stripe refuses
    with pytest.raises(TerminalError) as too_much:
        gateway.refund(request_for(amount=800, payout_id=2))
    assert "greater than unrefunded amount" in too_much.value.message
    # and once the charge is fully refunded, any further refund is refused as such
    gateway.refund(request_for(amount=200, payout_id=3))
    with pytest.raises(TerminalError) as nothing_left:
        gateway.refund(request_for(amount=1, payout_id=4))
    assert nothing_left.value.code == "charge_already_refunded"


def test_a_rate_limited_refund_waits_for_stripes_retry_after(standin):
    # given Stripe's rate limiter refuses the first request
    standin.add_charge("ch_1", 5000, behaviour="rate_limit_once")
    gateway = gateway_for(standin)
    # when we refund, then we are told to wait as long as Stripe says
    with pytest.raises(RateLimited) as limited:
        gateway.refund(request_for())
    assert limited.value.retry_after == 1.0
    # and the next attempt goes through, making one refund
    assert gateway.refund(request_for()).state == "succeeded"
    assert len(standin.refunds_of("ch_1")) == 1


def test_a_gateway_without_an_api_key_waits_without_calling_stripe(standin):
    standin.add_charge("ch_1", 5000)
    gateway = gateway_for(standin, api_key="")
    with pytest.raises(RetryableError) as waiting:
        gateway.refund(request_for())
    assert waiting.value.code == "gateway_not_configured"
    assert standin.request_count == 0


def test_a_wrong_api_key_waits_for_an_operator_to_fix_it(standin):
    # given a gateway configured with a key Stripe does not accept
    standin.add_charge("ch_1", 5000)
    gateway = gateway_for(standin, api_key="sk_test_wrong")
    # when it refunds or asks about a refund, then the payout waits for the key
    for call in (gateway.refund, gateway.fetch):
        with pytest.raises(RetryableError) as waiting:
            call(request_for(refund_id="re_1"))
        assert waiting.value.code == "gateway_not_configured"
    assert standin.refunds_of("ch_1") == []


def test_an_unreachable_stripe_is_safe_to_ask_again(standin):
    # given nothing listening where Stripe should be
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    gateway = gateway_for(standin, api_base=f"http://127.0.0.1:{closed_port}")
    # when we refund, then the request never left: retryable, not unknown
    with pytest.raises(RetryableError) as unreachable:
        gateway.refund(request_for())
    assert not isinstance(unreachable.value, OutcomeUnknown)
    assert unreachable.value.code == "unreachable"


def test_asking_about_a_refund_stripe_does_not_know_is_retryable(standin):
    with pytest.raises(RetryableError) as missing:
        gateway_for(standin).fetch(request_for(refund_id="re_missing"))
    assert missing.value.code == "resource_missing"


# -- our own rate limit ------------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def send(gateway, request):
    """As the worker sends a refund: a token from the gateway's bucket first."""
    gateway.throttle()
    return gateway.refund(request)


def test_the_rate_limiter_refuses_refunds_beyond_its_burst_without_calling_stripe(standin):
    # given a gateway allowed one write every two seconds, in bursts of two
    standin.add_charge("ch_1", 5000)
    clock = FakeClock()
    gateway = gateway_for(standin)
    gateway.limiter = TokenBucket(0.5, burst=2, clock=clock, sleep=clock.sleep)
    # when three payouts go at once
    send(gateway, request_for(amount=100, payout_id=1))
    send(gateway, request_for(amount=100, payout_id=2))
    with pytest.raises(RateLimited) as limited:
        send(gateway, request_for(amount=100, payout_id=3))
    # then the third is refused before reaching Stripe, told when a token frees up
    assert limited.value.retry_after == pytest.approx(2.0)
    assert "refunddesk-payout-3" not in standin.requests_by_key
    # and goes through once that time has passed
    clock.now += 2.0
    assert send(gateway, request_for(amount=100, payout_id=3)).state == "succeeded"


def test_the_rate_limiter_waits_briefly_for_a_token_rather_than_refusing(standin):
    # given a gateway allowed four writes a second, in bursts of one
    standin.add_charge("ch_1", 5000)
    clock = FakeClock()
    gateway = gateway_for(standin)
    gateway.limiter = TokenBucket(4, burst=1, clock=clock, sleep=clock.sleep)
    # when two payouts go at once, then the second waits a quarter second and goes
    send(gateway, request_for(amount=100, payout_id=1))
    send(gateway, request_for(amount=100, payout_id=2))
    assert clock.now == pytest.approx(0.25)
    assert len(standin.refunds_of("ch_1")) == 2
