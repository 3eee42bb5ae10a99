"""An approved refund of a prepaid line stops the service it paid for: the line records
when, the subscription stops renewing, and the merchant's billing system is told by a
`subscription.ended` webhook. Nothing ends while the case is undecided or refused."""

import json
from datetime import timedelta

import pytest

from refunddesk.billing.models import Product
from refunddesk.cases import actions
from refunddesk.cases.actors import customer_of
from refunddesk.cases.errors import NotPermitted
from refunddesk.cases.models import CaseLine
from refunddesk.notifications.models import WebhookDelivery
from refunddesk.policies import actions as policy_actions
from refunddesk.policies.publishing import propose_and_approve
from tests.cases.conftest import AFTER_FIVE_DAYS, INSIDE_FIVE_DAYS
from tests.cases.decision_builders import case_in_review, staff_in_every_role
from tests.notifications.webhook_receiver import subscribe
from tests.policies.conftest import tencent
from tests.portal.builders import line_subscription
from tests.staff import rejection_reason, staff_member

pytestmark = pytest.mark.django_db



@pytest.fixture
def subscription(order):
    """The example order's server runs as a subscription that renews each year."""
    return line_subscription(order)


def ended_bodies():
    return [json.loads(delivery.payload)
            for delivery in WebhookDelivery.objects.filter(event_type="subscription.ended")]


def test_a_whole_refund_approved_at_once_ends_the_service_and_its_renewal_at_once(
        order, subscription):
    case = actions.submit(account=order.account, order=order, line_ids=["1"],
                          actor=customer_of(order.account), channel="portal",
                          now=INSIDE_FIVE_DAYS)

    assert CaseLine.objects.get(case=case).service_ends_at == INSIDE_FIVE_DAYS
    subscription.refresh_from_db()
    assert not subscription.is_auto_renew
    assert subscription.auto_renew_cancelled_at == INSIDE_FIVE_DAYS
    assert subscription.ended_at == INSIDE_FIVE_DAYS
    assert subscription.renews_at is None


def test_a_partial_refund_a_reviewer_approves_ends_the_service_at_once_by_default(
        order, subscription):
    reviewer = staff_in_every_role()["reviewer"]
    case = case_in_review(order)
    decided_at = AFTER_FIVE_DAYS + timedelta(hours=2)

    actions.approve(case, actor=reviewer, now=decided_at)

    assert CaseLine.objects.get(case=case).service_ends_at == decided_at
    subscription.refresh_from_db()
    assert (subscription.is_auto_renew, subscription.ended_at) == (False, decided_at)


def test_a_partial_refund_keeps_the_paid_for_period_where_the_rule_says_so(order,
                                                                           subscription):
    staff = staff_in_every_role()
    keeps = tencent(2).replace('id = "normal_refund"',
                               'id = "normal_refund"\npartial_refund_ends_service = '
                               '"at_period_end"', 1)
    draft = policy_actions.save_draft("tencent-cloud", keeps, actor=staff["admin"])
    # in force a day before the case is asked for
    propose_and_approve(draft, proposed_by=staff["admin"],
                        approved_by=staff_member("admin-2", "admin"),
                        now=AFTER_FIVE_DAYS - timedelta(days=1))
    case = case_in_review(order)
    assert case.policy_ref == "tencent-cloud@2"

    actions.approve(case, actor=staff["reviewer"], now=AFTER_FIVE_DAYS)

    line = CaseLine.objects.select_related("order_line").get(case=case)
    assert line.approved_minor < line.order_line.amount_paid_minor  # a partial refund
    assert line.service_ends_at == line.order_line.service_end
    subscription.refresh_from_db()
    assert not subscription.is_auto_renew
    assert subscription.ended_at == line.order_line.service_end


def test_a_line_approved_at_nothing_keeps_its_service(two_line_order):
    order = two_line_order
    reviewer = staff_in_every_role()["reviewer"]
    case = case_in_review(order, lines=("1", "2"))

    assessed = {line.order_line.line_id: line.assessed_minor
                for line in case.lines.select_related("order_line")}
    actions.approve(case, actor=reviewer, amounts={"1": assessed["1"], "2": 0},
                    now=AFTER_FIVE_DAYS)

    ends = {line.order_line.line_id: line.service_ends_at
            for line in CaseLine.objects.filter(case=case).select_related("order_line")}
    assert ends == {"1": AFTER_FIVE_DAYS, "2": None}


def test_a_refused_or_undecided_case_ends_nothing(order, subscription):
    staff = staff_in_every_role()
    case = case_in_review(order)
    assert CaseLine.objects.get(case=case).service_ends_at is None

    with pytest.raises(NotPermitted):
        actions.approve(case, actor=staff["finance"], now=AFTER_FIVE_DAYS)
    actions.reject(case, actor=staff["reviewer"], reason=rejection_reason(),
                   message="Outside the refund window.", now=AFTER_FIVE_DAYS)

    assert CaseLine.objects.get(case=case).service_ends_at is None
    subscription.refresh_from_db()
    assert (subscription.is_auto_renew, subscription.ended_at) == (True, None)


def test_the_merchant_is_told_which_line_and_subscription_to_stop(order, subscription):
    subscribe(events=["subscription.ended"])

    case = actions.submit(account=order.account, order=order, line_ids=["1"],
                          actor=customer_of(order.account), channel="portal",
                          now=INSIDE_FIVE_DAYS)

    [body] = ended_bodies()
    data = body["data"]
    assert body["type"] == "subscription.ended"
    assert data["order"] == "TC-20260301-0001"
    assert data["line"] == {"id": "1", "sku": "cvm.s5.medium", "product": "cvm"}
    assert data["subscription"] == "SUB-CVM-1"
    assert data["auto_renew"] is False
    assert data["ends_at"] == "2026-03-04T04:00:00Z"
    assert data["case"]["tracking_number"] == case.tracking_number
    assert data["case"]["state"] == "approved"


def test_a_prepaid_line_without_a_subscription_is_still_reported_ended(order):
    subscribe(events=["subscription.ended"])
    assert Product.objects.filter(code="cvm").exists()

    actions.submit(account=order.account, order=order, line_ids=["1"],
                   actor=customer_of(order.account), channel="portal", now=INSIDE_FIVE_DAYS)

    [body] = ended_bodies()
    assert body["data"]["subscription"] is None
    assert body["data"]["line"]["id"] == "1"
