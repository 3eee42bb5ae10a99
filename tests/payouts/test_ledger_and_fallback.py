"""Credits to the account's own ledger (balance, voucher, gift) happen exactly once, and a
cash refund the original route cannot take goes to the policy's fallback, saying why."""

from datetime import timedelta

import pytest
from django.utils import timezone

from refunddesk.billing.models import BalanceEntry
from refunddesk.cases.actors import customer_of
from refunddesk.cases.states import State
from refunddesk.payouts import gateways
from refunddesk.payouts.gateways.balance import BalanceGateway
from refunddesk.payouts.models import Payout, PayoutState
from refunddesk.payouts.planned import payments_left, route_of
from refunddesk.payouts.planning import PlannedPayout
from refunddesk.payouts.runner import request_for, run_pass
from tests.payouts.builders import approved_case

pytestmark = pytest.mark.django_db


def test_a_balance_refund_is_credited_once_however_often_it_is_sent(order):
    # given a Tencent Cloud refund (its policy pays cash back to the balance)
    from refunddesk.cases import actions
    from tests.cases.conftest import INSIDE_FIVE_DAYS
    case = actions.submit(account=order.account, order=order, line_ids=["1"],
                          actor=customer_of(order.account),
                          channel="portal", now=INSIDE_FIVE_DAYS)
    payout = Payout.objects.get(case=case, destination="balance")

    # when the ledger gateway is asked three times for the same payout
    gateway = BalanceGateway("balance")
    answers = {gateway.refund(request_for(payout)).refund_id for _ in range(3)}

    # then one credit exists, keyed by the payout, and every answer names it
    entry = BalanceEntry.objects.get(reference=payout.idempotency_key)
    assert answers == {f"balance-entry-{entry.pk}"}
    assert (entry.amount_minor, entry.kind, entry.fund) == (payout.amount_minor, "refund",
                                                            "balance")


def test_the_ledger_credits_a_refund_at_the_moment_its_clock_reads(order):
    # given a Tencent Cloud refund and the ledger gateway whose clock reads a moment of the
    # past (as while the demo writes its history)
    from refunddesk.cases import actions
    from tests.cases.conftest import INSIDE_FIVE_DAYS
    case = actions.submit(account=order.account, order=order, line_ids=["1"],
                          actor=customer_of(order.account),
                          channel="portal", now=INSIDE_FIVE_DAYS)
    payout = Payout.objects.get(case=case, destination="balance")
    moment = INSIDE_FIVE_DAYS + timedelta(minutes=3)

    # when it credits the refund
    status = BalanceGateway("balance", clock=moment.timestamp).refund(request_for(payout))

    # then the credit and its settlement are of that moment
    entry = BalanceEntry.objects.get(reference=payout.idempotency_key)
    assert entry.created_at == moment == status.settled_at


def test_the_worker_credits_the_balance_and_the_case_is_refunded(order):
    from refunddesk.cases import actions
    from tests.cases.conftest import INSIDE_FIVE_DAYS
    case = actions.submit(account=order.account, order=order, line_ids=["1"],
                          actor=customer_of(order.account), channel="portal",
                          now=INSIDE_FIVE_DAYS)

    run_pass()

    case.refresh_from_db()
    assert case.state == State.REFUNDED
    credited = BalanceEntry.objects.filter(account=order.account, kind="refund")
    assert sum(credited.values_list("amount_minor", flat=True)) == case.approved_total_minor


def test_a_voucher_funded_share_comes_back_as_voucher_credit_never_as_cash():
    # given a VPN order (its policy refunds vouchers too) paid 900.00 by Alipay and 100.00
    # by voucher, refunded in full
    case = approved_case(policy="vpn-30-day",
                         extra_payments=[{"id": "P2", "method": "voucher",
                                          "funding": "voucher", "amount": "100.00"}])
    # when the worker pays it
    run_pass()

    # then the voucher part is voucher credit in the ledger, the cash part went to Alipay
    by_destination = {p.destination: p for p in Payout.objects.filter(case=case)}
    assert set(by_destination) == {"original", "voucher"}
    voucher = by_destination["voucher"]
    entry = BalanceEntry.objects.get(reference=voucher.idempotency_key)
    assert (entry.fund, entry.amount_minor) == ("voucher", voucher.amount_minor)
    assert not BalanceEntry.objects.filter(account=case.account, fund="balance",
                                           kind="refund").exists()
    assert {p.state for p in by_destination.values()} == {PayoutState.SUCCEEDED}


def test_a_card_payment_older_than_the_gateways_refund_window_goes_to_the_fallback(settings):
    # given the sandbox refunds cards for 365 days, and a payment from 2024
    case = approved_case(paid_at="2024-01-10T10:00:00+08:00", reference="ch_old_4242",
                         method="card")

    # then the approval planned it to the balance (the policy's fallback) and says why
    payout = Payout.objects.get(case=case)
    assert (payout.destination, payout.gateway, payout.fallback_reason) == (
        "balance", "balance", "too_old")


def test_a_method_the_gateway_has_switched_off_goes_to_the_fallback(settings):
    # given the operator marked WeChat Pay refunds unavailable at the sandbox gateway
    settings.REFUNDDESK_GATEWAYS["sandbox"]["OPTIONS"]["unavailable_methods"] = ["wechat_pay"]
    gateways.reset()

    case = approved_case(method="wechat_pay", reference="wx-20260301")

    payout = Payout.objects.get(case=case)
    assert (payout.destination, payout.fallback_reason) == ("balance", "method_unavailable")


def test_a_route_that_works_is_kept(settings):
    case = approved_case(method="alipay")
    payout = Payout.objects.get(case=case)
    assert (payout.destination, payout.gateway, payout.fallback_reason) == (
        "original", "sandbox", "")


def test_a_payment_refunded_as_often_as_its_provider_allows_goes_to_the_fallback(settings):
    # given a provider that refunds a payment once, and a payment refunded once already
    settings.REFUNDDESK_GATEWAYS["sandbox"]["OPTIONS"]["max_refunds_per_payment"] = 1
    gateways.reset()
    case = approved_case(method="alipay")
    [payment] = payments_left(case)
    assert payment.refunds == 1

    # when another refund of it is planned, it goes where the policy sends what the
    # original route cannot take, and says why
    planned = PlannedPayout("P1", "alipay", "cash", "original", 100, fallback="balance")
    assert route_of(planned, payment, timezone.now()) == ("balance", "balance",
                                                          "too_many_refunds")
