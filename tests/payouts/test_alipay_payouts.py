"""Cases paid by Alipay, refunded by the worker through the alipay gateway against the local
stand-in: paid once whatever Alipay answers, sent to the balance when Alipay closes the
route, and no notification endpoint (alipay.trade.refund sends none)."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from refunddesk.cases.states import State
from refunddesk.payouts import gateways
from refunddesk.payouts.models import Payout, PayoutState
from refunddesk.payouts.runner import run_pass
from tests.payouts.alipay_standin import REFUND, AlipayStandIn
from tests.payouts.builders import approved_case

pytestmark = pytest.mark.django_db

TRADE = "2026030122001404680500054321"


@pytest.fixture
def standin(settings):
    with AlipayStandIn(slow_seconds=2.0) as server:
        settings.REFUNDDESK_GATEWAYS["alipay"]["OPTIONS"] = server.gateway_options(timeout=1.0)
        gateways.reset()
        yield server
    gateways.reset()


def alipay_case(standin: AlipayStandIn, behaviour: str = "succeed", **payment):
    standin.add_payment(TRADE, 90000, behaviour=behaviour)
    return approved_case(gateway="alipay", reference=TRADE, **payment)


def later(hours: float = 2) -> timezone.datetime:
    return timezone.now() + timedelta(hours=hours)


def test_a_case_paid_by_alipay_goes_approved_paying_refunded(standin):
    # given an approved case whose 900.00 CNY came by Alipay
    case = alipay_case(standin)
    # when the worker makes a pass
    run_pass()
    # then Alipay refunded it once under the payout's key, which is the stored refund id
    payout = Payout.objects.get(case=case)
    assert (payout.state, payout.gateway, payout.gateway_refund_id) == (
        PayoutState.SUCCEEDED, "alipay", payout.idempotency_key)
    [refund] = standin.refunds_of(TRADE)
    assert (refund.out_request_no, refund.amount_minor) == (payout.idempotency_key, 90000)
    case.refresh_from_db()
    assert case.state == State.REFUNDED


def test_a_lost_answer_is_asked_about_and_the_refund_made_is_found_not_made_again(standin):
    # given Alipay makes the refund but answers ACQ.SYSTEM_ERROR
    case = alipay_case(standin, behaviour="system_error_after_refund")
    run_pass()
    payout = Payout.objects.get(case=case)
    assert (payout.state, payout.last_error_code) == (PayoutState.UNKNOWN, "ACQ.SYSTEM_ERROR")
    # when the worker comes back to it
    run_pass(now=later())
    # then it asked first, found the refund, and sent nothing again
    payout.refresh_from_db()
    assert payout.state == PayoutState.SUCCEEDED
    assert standin.requests_by_number[payout.idempotency_key] == 1
    assert standin.refunds_made[payout.idempotency_key] == 1


def test_a_system_error_with_no_refund_made_is_sent_again_with_the_same_number_and_amount(
        standin):
    case = alipay_case(standin, behaviour="system_error_once")
    run_pass()
    run_pass(now=later())
    payout = Payout.objects.get(case=case)
    assert payout.state == PayoutState.SUCCEEDED
    sent = [biz for method, biz in standin.received if method == REFUND]
    assert len(sent) == 2 and sent[0] == sent[1]
    assert standin.refunds_made[payout.idempotency_key] == 1


def test_an_answer_that_never_came_is_asked_about_before_anything_is_sent_again(standin):
    case = alipay_case(standin, behaviour="slow")
    run_pass()
    payout = Payout.objects.get(case=case)
    assert (payout.state, payout.last_error_code) == (PayoutState.UNKNOWN, "no_answer")
    run_pass(now=later())
    payout.refresh_from_db()
    assert payout.state == PayoutState.SUCCEEDED
    assert standin.requests_by_number[payout.idempotency_key] == 1


def test_a_trade_past_alipays_refund_period_is_paid_to_the_balance_instead(standin):
    # given Alipay says the trade is finished (past the contract's refund period)
    case = alipay_case(standin, behaviour="trade_finished")
    # when the worker sends it, and then the replacement
    run_pass()
    run_pass()
    # then the Alipay payout failed with Alipay's code and a balance payout replaced it
    by_gateway = {p.gateway: p for p in Payout.objects.filter(case=case)}
    assert by_gateway["alipay"].state == PayoutState.FAILED
    assert by_gateway["alipay"].last_error_code == "ACQ.TRADE_HAS_FINISHED"
    assert by_gateway["balance"].state == PayoutState.SUCCEEDED
    case.refresh_from_db()
    assert case.state == State.REFUNDED


def test_a_payment_older_than_the_contracts_refund_period_is_planned_to_the_balance(
        settings, standin):
    # given a contract allowing refunds for 30 days, and a payment 40 days old
    settings.REFUNDDESK_GATEWAYS["alipay"]["OPTIONS"]["refund_window_days"] = 30
    gateways.reset()
    case = alipay_case(standin, paid_at="2026-01-23T10:00:00+08:00")
    # then the approval planned it to the balance, saying why, and Alipay is never asked
    payout = Payout.objects.get(case=case)
    assert (payout.destination, payout.gateway, payout.fallback_reason) == (
        "balance", "balance", "too_old")
    run_pass()
    assert standin.request_count == 0


def test_a_merchant_balance_too_low_waits_for_finance_then_is_sent_unchanged(standin):
    case = alipay_case(standin, behaviour="balance_not_enough_once")
    run_pass()
    payout = Payout.objects.get(case=case)
    assert (payout.state, payout.last_error_code) == (
        PayoutState.REQUIRES_ACTION, "ACQ.SELLER_BALANCE_NOT_ENOUGH")
    run_pass(now=later())
    payout.refresh_from_db()
    assert payout.state == PayoutState.SUCCEEDED
    sent = [biz for method, biz in standin.received if method == REFUND]
    assert len(sent) == 2 and sent[0] == sent[1]


def test_a_refund_alipay_is_still_paying_is_followed_until_it_arrives(standin):
    case = alipay_case(standin, behaviour="pending")
    run_pass()
    payout = Payout.objects.get(case=case)
    assert payout.state == PayoutState.SUBMITTED
    run_pass(now=later())
    payout.refresh_from_db()
    assert payout.state == PayoutState.SUBMITTED
    standin.settle(payout.idempotency_key)
    run_pass(now=later(4))
    payout.refresh_from_db()
    assert payout.state == PayoutState.SUCCEEDED
    assert standin.refunds_made[payout.idempotency_key] == 1


def test_a_worker_without_alipay_credentials_leaves_the_payout_waiting(settings):
    settings.REFUNDDESK_GATEWAYS["alipay"]["OPTIONS"] = {"refund_window_days": 365}
    gateways.reset()
    case = approved_case(gateway="alipay", reference=TRADE)
    run_pass()
    payout = Payout.objects.get(case=case)
    assert (payout.state, payout.last_error_code) == (PayoutState.PENDING,
                                                      "gateway_not_configured")


def test_alipay_sends_no_refund_notifications_so_its_endpoint_answers_404(client, standin):
    response = client.post(reverse("payouts:notify", args=["alipay"]),
                           data=b"notify_type=trade_status_sync&sign=x",
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 404


WORKER_SIDE = """
import django, os, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "refunddesk.settings")
django.setup()
from refunddesk.payouts.gateways import gateway
from refunddesk.payouts.gateways.base import RefundRequest
status = gateway("alipay").refund(RefundRequest(
    payout_id=9, idempotency_key="refunddesk-payout-9", amount_minor=4200, currency="CNY",
    destination="original", method="alipay", payment_reference=sys.argv[1], paid_at=None,
    account="acct-1", account_pk=1, case="RD-1"))
print(status.state, status.refund_id)
"""


def test_the_stand_ins_environment_points_a_separate_process_at_it(standin, tmp_path):
    # given the environment a `refunddesk worker` would be started with
    standin.add_payment(TRADE, 90000)
    environment = {**os.environ, **standin.environment(tmp_path / "keys"),
                   "PYTHONPATH": os.pathsep.join(sys.path)}
    # when a process configured only by it refunds through the alipay gateway
    done = subprocess.run([sys.executable, "-c", WORKER_SIDE, TRADE], env=environment,
                          capture_output=True, text=True, timeout=60, check=False)
    # then it reached the stand-in with keys read from the files
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["succeeded", "refunddesk-payout-9"]
    assert standin.refunds_made == {"refunddesk-payout-9": 1}
