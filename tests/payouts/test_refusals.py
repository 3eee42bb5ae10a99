"""Two refusals that call for their own next step: a provider that closed the original
route for good (past its refund period) sends the money to the policy's fallback by itself;
one waiting for finance (the merchant account lacks funds) keeps the payout as needing
action and sends the same request again later."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from refunddesk.cases.states import State
from refunddesk.inbox.models import Notice
from refunddesk.payouts import gateways
from refunddesk.payouts.gateways.base import (
    Gateway,
    NeedsFinance,
    OutcomeUnknown,
    RefundStatus,
    RouteClosed,
)
from refunddesk.payouts.models import Payout, PayoutState
from refunddesk.payouts.runner import run_pass
from tests.payouts.builders import approved_case
from tests.staff import staff_member

pytestmark = pytest.mark.django_db

REQUESTS: list[tuple[str, int]] = []


class PastItsPeriod(Gateway):
    def refund(self, request):
        raise RouteClosed("ACQ.TRADE_HAS_FINISHED", "the trade is past its refund period")

    def fetch(self, request):
        raise AssertionError("never asked")


class ShortOfFundsOnce(Gateway):
    """Refuses the first request for want of funds; takes the next."""

    def refund(self, request):
        REQUESTS.append((request.idempotency_key, request.amount_minor))
        if len(REQUESTS) == 1:
            raise NeedsFinance("ACQ.SELLER_BALANCE_NOT_ENOUGH", "the merchant balance is low")
        return RefundStatus("succeeded", request.idempotency_key)

    def fetch(self, request):
        raise AssertionError("a refund never taken is sent again, not asked about")


@pytest.fixture
def provider(settings):
    def configure(backend):
        settings.REFUNDDESK_GATEWAYS["provider"] = {
            "BACKEND": f"tests.payouts.test_refusals.{backend}"}
        gateways.reset()
        return "provider"
    yield configure
    gateways.reset()


def test_a_closed_route_sends_the_money_to_the_policys_fallback(provider):
    # given an Alibaba Cloud refund (its policy falls back to the balance) whose provider
    # says the payment is past its refund period
    staff_member("finance-watch", "finance")
    case = approved_case(gateway=provider("PastItsPeriod"))

    # when the worker sends it, then sends what replaced it
    run_pass()
    run_pass()

    # then the refused payout is replaced by a balance credit, paid, and the case refunded
    refused, credit = Payout.objects.filter(case=case).order_by("id")
    assert (refused.state, refused.last_error_code) == (PayoutState.FAILED,
                                                        "ACQ.TRADE_HAS_FINISHED")
    assert (credit.replaces_id, credit.destination, credit.gateway, credit.state) == (
        refused.pk, "balance", "balance", PayoutState.SUCCEEDED)
    assert credit.amount_minor == refused.amount_minor
    case.refresh_from_db()
    assert case.state == State.REFUNDED
    actions = list(case.events.values_list("action", flat=True))
    assert "payout_fell_back" in actions and "payout_failed" not in actions
    fell_back = case.events.get(action="payout_fell_back")
    assert fell_back.data["system"] == "payout_runner"
    assert fell_back.data["error"] == "ACQ.TRADE_HAS_FINISHED"
    # finance has nothing to do: nobody is told of a failed payout
    assert not Notice.objects.filter(kind="payout_failed").exists()


def test_a_closed_route_without_a_fallback_fails_for_finance(provider):
    # given a VPN refund: its policy has no fallback
    case = approved_case(gateway=provider("PastItsPeriod"), policy="vpn-30-day")

    run_pass()

    payout = Payout.objects.get(case=case)
    assert payout.state == PayoutState.FAILED
    case.refresh_from_db()
    assert case.state == State.PAYOUT_FAILED


def test_a_refund_waiting_for_finance_is_sent_again_unchanged(provider):
    REQUESTS.clear()
    case = approved_case(gateway=provider("ShortOfFundsOnce"))
    now = timezone.now()

    run_pass(now=now)
    payout = Payout.objects.get(case=case)
    assert (payout.state, payout.last_error_code) == (PayoutState.REQUIRES_ACTION,
                                                      "ACQ.SELLER_BALANCE_NOT_ENOUGH")
    assert payout.next_attempt_at is not None

    # when finance topped up and the payout is due again
    run_pass(now=now + timedelta(hours=2))

    payout.refresh_from_db()
    assert payout.state == PayoutState.SUCCEEDED
    assert [(payout.idempotency_key, payout.amount_minor)] * 2 == REQUESTS


def test_a_provider_asking_to_wait_for_ever_waits_at_most_our_longest_wait(settings):
    from refunddesk.payouts.runner import retry_delay
    longest = settings.REFUNDDESK_PAYOUT_RETRY_MAX_SECONDS
    assert retry_delay(1, float("inf")).total_seconds() == longest
    assert retry_delay(1, 1e15).total_seconds() == longest


class ShortOfFundsThenSilent(Gateway):
    """Refuses for want of funds, then takes the request without an answer arriving."""

    def refund(self, request):
        REQUESTS.append((request.idempotency_key, request.amount_minor))
        if len(REQUESTS) == 1:
            raise NeedsFinance("NOT_ENOUGH", "the merchant balance is low")
        raise OutcomeUnknown("no_answer", "timed out after sending")

    def fetch(self, request):
        return RefundStatus("succeeded", "found-by-asking")


def test_a_resend_after_a_finance_wait_that_gets_no_answer_is_asked_about_first(provider):
    REQUESTS.clear()
    case = approved_case(gateway=provider("ShortOfFundsThenSilent"))
    now = timezone.now()
    run_pass(now=now)
    run_pass(now=now + timedelta(hours=2))
    payout = Payout.objects.get(case=case)
    assert payout.state == PayoutState.UNKNOWN  # not "needs action": never resent blindly

    run_pass(now=now + timedelta(hours=4))

    payout.refresh_from_db()
    assert (payout.state, payout.gateway_refund_id) == (PayoutState.SUCCEEDED,
                                                        "found-by-asking")
    assert len(REQUESTS) == 2
