"""An approval plans its payouts in its own transaction: pending rows, one per route, adding
up to the approved amount, never more than a payment has left after earlier refunds."""

from datetime import timedelta

import pytest

from refunddesk.cases import actions
from refunddesk.cases.actors import customer_of
from refunddesk.payouts.models import Payout
from tests.cases.conftest import AFTER_FIVE_DAYS, INSIDE_FIVE_DAYS
from tests.cases.decision_builders import case_in_review
from tests.staff import staff_member

pytestmark = pytest.mark.django_db

LATER = AFTER_FIVE_DAYS + timedelta(hours=1)


def total(case):
    return sum(case.payouts.values_list("amount_minor", flat=True))


def test_an_approval_at_once_plans_the_assessed_refund_to_the_balance(order):
    # tencent-cloud sends cash refunds to the account balance
    case = actions.submit(account=order.account, order=order, line_ids=["1"],
                          actor=customer_of(order.account),
                          channel="portal", now=INSIDE_FIVE_DAYS)

    payouts = list(case.payouts.all())
    assert case.state == "approved"
    assert total(case) == case.approved_total_minor
    assert {(p.destination, p.gateway, p.state) for p in payouts} >= {
        ("balance", "balance", "pending")}
    assert all(p.payment.order_id == order.pk for p in payouts)


def test_a_partial_approval_plans_exactly_the_approved_amount(order):
    case = case_in_review(order)
    reviewer = staff_member("reviewer-pay", "reviewer")

    case = actions.approve(case, actor=reviewer, amounts={"1": 12345}, now=LATER)

    assert total(case) == 12345


def test_nothing_is_planned_while_an_approval_waits_for_a_second_person():
    from tests.cases.decision_builders import large_huawei_order

    case = case_in_review(large_huawei_order())
    case = actions.approve(case, actor=staff_member("reviewer-a", "reviewer"), now=LATER)

    assert case.proposal is not None
    assert not Payout.objects.exists()
    case = actions.confirm_approval(case, actor=staff_member("reviewer-b", "reviewer"),
                                    now=LATER)
    assert total(case) == case.approved_total_minor


def test_two_refunds_of_one_order_never_plan_more_than_its_payments(two_line_order):
    reviewer = staff_member("reviewer-two", "reviewer")
    first = actions.approve(case_in_review(two_line_order, lines=("1",)), actor=reviewer,
                            now=LATER)
    second = actions.approve(case_in_review(two_line_order, lines=("2",)), actor=reviewer,
                             amounts={"2": 12000}, justification="Backup never used.",
                             now=LATER)

    paid = {p.payment_id: p.amount_minor for p in two_line_order.payments.all()}
    planned = {}
    for payout in Payout.objects.filter(case__in=[first, second]):
        planned[payout.payment.payment_id] = (planned.get(payout.payment.payment_id, 0)
                                              + payout.amount_minor)
    assert total(first) + total(second) == (first.approved_total_minor
                                            + second.approved_total_minor)
    assert all(amount <= paid[payment] for payment, amount in planned.items())
