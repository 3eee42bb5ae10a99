"""Which webhooks the changes of cases and payouts emit, when, to whom, and what they say:
each written in the transaction of its change, only for active endpoints subscribed to it,
with the case exactly as the REST API shows it."""

from __future__ import annotations

import copy
import json
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django_tasks_db.models import DBTaskResult

from refunddesk.api.keys import make_key
from refunddesk.cases import actions
from refunddesk.cases.actors import COMMAND_LINE, customer_of
from refunddesk.cases.models import RefundCase
from refunddesk.cases.states import InvalidTransition
from refunddesk.notifications.models import DeliveryState, WebhookDelivery
from refunddesk.notifications.webhook_events import emit, emit_case
from refunddesk.payouts.actions import record_paid_outside
from refunddesk.payouts.models import PayoutState
from tests.cases.conftest import AFTER_FIVE_DAYS, INSIDE_FIVE_DAYS, import_order
from tests.cases.decision_builders import case_in_review, large_huawei_order
from tests.conftest import EXAMPLE_ORDER
from tests.notifications.webhook_receiver import subscribe
from tests.payouts.paid_cases import pay, vpn_case
from tests.portal.builders import pdf
from tests.staff import rejection_reason, staff_member

pytestmark = pytest.mark.django_db

@pytest.fixture(autouse=True)
def media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def order(db):
    """The DESIGN example order (Tencent Cloud's policy)."""
    return import_order(copy.deepcopy(EXAMPLE_ORDER))


def bodies(endpoint=None, event_type=None):
    """The event bodies written so far (for one endpoint, of one type), oldest first."""
    deliveries = WebhookDelivery.objects.order_by("id")
    if endpoint is not None:
        deliveries = deliveries.filter(endpoint=endpoint)
    if event_type is not None:
        deliveries = deliveries.filter(event_type=event_type)
    return [json.loads(delivery.payload) for delivery in deliveries]


def types(endpoint=None):
    return [body["type"] for body in bodies(endpoint)]


def submit(order, now):
    return actions.submit(account=order.account, order=order, line_ids=["1"],
                          actor=customer_of(order.account),
                          channel="portal", now=now)


# -- cases ----------------------------------------------------------------------------------

def test_an_automatic_approval_emits_submitted_then_decided_with_the_case_as_it_was(order):
    # given an endpoint listening to every event
    endpoint = subscribe()

    # when a customer applies inside the five days (approved at once)
    case = submit(order, INSIDE_FIVE_DAYS)

    # then the case's two events were written, in order, each with its own id and the
    # case's state at that moment (then the server's service ends: subscription.ended)
    submitted, decided, ended = bodies(endpoint)
    assert ended["type"] == "subscription.ended"
    assert (submitted["type"], decided["type"]) == ("case.submitted", "case.decided")
    assert submitted["id"].startswith("evt_") and decided["id"].startswith("evt_")
    assert submitted["id"] != decided["id"]
    assert submitted["created_at"] == "2026-03-04T04:00:00Z"
    assert submitted["data"]["case"]["state"] == "submitted"
    assert decided["data"]["case"]["state"] == "approved"
    assert decided["data"]["case"]["tracking_number"] == case.tracking_number
    assert decided["data"]["case"]["approved_total"] == "900.00"
    assert decided["data"]["decision"] == {"outcome": "approved", "automatic": True,
                                           "appeal": False, "four_eyes": False,
                                           "reason": "", "note": ""}
    [payout] = decided["data"]["case"]["payouts"]
    assert (payout["state"], payout["amount"]) == ("pending", "900.00")


def test_the_case_in_an_event_is_what_the_api_returns_for_it(order):
    endpoint = subscribe(events=["case.decided"])
    case = submit(order, INSIDE_FIVE_DAYS)
    _key, secret = make_key(name="test", scopes=["cases:read"], actor=COMMAND_LINE)

    api = Client(HTTP_AUTHORIZATION=f"Bearer {secret}").get(
        f"/api/v1/cases/{case.tracking_number}")

    assert api.status_code == 200
    [decided] = bodies(endpoint)
    assert decided["data"]["case"] == api.json()


def test_only_active_endpoints_subscribed_to_the_event_get_a_delivery(order):
    everything = subscribe(description="all")
    decisions_only = subscribe(events=["case.decided"])
    payouts_only = subscribe(events=["payout.succeeded", "payout.failed"])
    disabled = subscribe(is_active=False)

    submit(order, INSIDE_FIVE_DAYS)

    assert types(everything) == ["case.submitted", "case.decided", "subscription.ended"]
    assert types(decisions_only) == ["case.decided"]
    assert types(payouts_only) == []
    assert types(disabled) == []
    # one event, one id, however many endpoints receive it
    ids = {body["id"] for body in bodies(event_type="case.decided")}
    assert len(ids) == 1 and WebhookDelivery.objects.filter(event_type="case.decided").count() == 2


def test_each_delivery_is_pending_and_due_at_once_with_no_task_row(order):
    endpoint = subscribe(events=["case.submitted"])

    submit(order, AFTER_FIVE_DAYS)

    [delivery] = WebhookDelivery.objects.filter(endpoint=endpoint)
    assert (delivery.state, delivery.attempts, delivery.next_attempt_at) == (
        DeliveryState.PENDING, 0, AFTER_FIVE_DAYS)  # due at once
    assert not DBTaskResult.objects.exists()  # the deliveries are the queue


def test_with_no_endpoint_emitting_costs_one_query_and_builds_no_payload():
    subscribe(is_active=False)

    def payload():
        raise AssertionError("the payload is built only for someone listening")

    with CaptureQueriesContext(connection) as queries:
        assert emit("case.submitted", payload) == []

    assert len(queries) == 1


def test_a_misspelt_event_type_fails_the_change_that_emits_it():
    with pytest.raises(ValueError):
        emit("case.approved", {})


class Boom(Exception):
    pass


def test_a_change_that_rolls_back_leaves_no_delivery(order):
    subscribe()
    case = submit(order, AFTER_FIVE_DAYS)
    deliveries = WebhookDelivery.objects.count()

    with pytest.raises(Boom), transaction.atomic():
        emit_case("case.withdrawn", RefundCase.objects.get(pk=case.pk))
        assert WebhookDelivery.objects.count() == deliveries + 1  # written in it
        raise Boom

    assert WebhookDelivery.objects.count() == deliveries


def test_a_refused_action_emits_nothing(order):
    endpoint = subscribe()
    case = submit(order, INSIDE_FIVE_DAYS)  # approved: no longer withdrawable
    before = WebhookDelivery.objects.count()

    with pytest.raises(InvalidTransition):
        actions.withdraw(case, actor=customer_of(case.account))

    assert WebhookDelivery.objects.count() == before
    assert types(endpoint) == ["case.submitted", "case.decided", "subscription.ended"]


def test_a_case_sent_to_review_emits_only_submitted_until_a_person_decides(order):
    endpoint = subscribe()
    reviewer = staff_member("reviewer", "reviewer")

    case = case_in_review(order)
    assert types(endpoint) == ["case.submitted"]

    actions.approve(case, actor=reviewer, note="Prorated as the policy says.")

    decided = bodies(endpoint, "case.decided")[-1]
    assert decided["data"]["case"]["state"] == "approved"
    assert decided["data"]["decision"] == {
        "outcome": "approved", "automatic": False, "appeal": False, "four_eyes": False,
        "reason": "", "note": "Prorated as the policy says."}


def test_a_rejection_and_its_appeal_and_the_decision_on_appeal_are_each_emitted(order):
    endpoint = subscribe()
    agent, reviewer = staff_member("agent", "agent"), staff_member("reviewer", "reviewer")
    case = case_in_review(order)

    case = actions.reject(case, actor=agent, reason=rejection_reason(), message="Used.")
    rejected = bodies(endpoint, "case.decided")[-1]
    assert rejected["data"]["case"]["state"] == "rejected"
    assert rejected["data"]["decision"] == {
        "outcome": "rejected", "automatic": False, "appeal": False, "four_eyes": False,
        "reason": "not_eligible", "note": "Used."}

    case = actions.appeal(case, actor=customer_of(case.account), text="It never worked.",
                          uploads=[pdf()], now=case.decided_at + timedelta(days=1))
    [appealed] = bodies(endpoint, "case.appealed")
    assert appealed["data"]["case"]["state"] == "appealed"

    actions.reject(case, actor=reviewer, reason=rejection_reason(), message="Still no.")
    closed = bodies(endpoint, "case.decided")[-1]
    assert closed["data"]["case"]["state"] == "closed"
    assert closed["data"]["decision"]["appeal"] is True
    assert closed["data"]["decision"]["outcome"] == "rejected"
    assert types(endpoint) == ["case.submitted", "case.decided", "case.appealed",
                               "case.decided"]


def test_a_withdrawal_is_emitted(order):
    endpoint = subscribe(events=["case.withdrawn"])
    case = case_in_review(order)

    actions.withdraw(case, actor=customer_of(case.account))

    [withdrawn] = bodies(endpoint)
    assert withdrawn["data"]["case"]["state"] == "withdrawn"


def test_four_eyes_emit_the_decision_at_the_confirmation_not_the_proposal():
    endpoint = subscribe(events=["case.decided"])
    first, second = (staff_member("reviewer-a", "reviewer"),
                     staff_member("reviewer-b", "reviewer"))
    case = case_in_review(large_huawei_order())

    case = actions.approve(case, actor=first, note="Checked.")
    assert bodies(endpoint) == []  # waiting for a second person

    actions.confirm_approval(case, actor=second)

    [decided] = bodies(endpoint)
    assert decided["data"]["case"]["state"] == "approved"
    assert decided["data"]["decision"]["four_eyes"] is True
    assert decided["data"]["decision"]["automatic"] is False


# -- payouts --------------------------------------------------------------------------------

def test_a_payout_that_arrives_emits_payout_succeeded_then_case_refunded():
    endpoint = subscribe(events=["payout.succeeded", "payout.failed", "case.refunded"])
    case = vpn_case()

    case = pay(case)

    assert case.state == "refunded"
    succeeded, refunded = bodies(endpoint)
    assert (succeeded["type"], refunded["type"]) == ("payout.succeeded", "case.refunded")
    payout = case.payouts.get()
    assert succeeded["data"]["payout"] == {
        "id": payout.pk, "destination": "original", "amount": "300.00", "currency": "CNY",
        "state": "succeeded",
        "expected_at": succeeded["data"]["payout"]["expected_at"],
        "settled_at": succeeded["data"]["payout"]["settled_at"]}
    assert succeeded["data"]["payout"]["settled_at"] is not None
    assert succeeded["data"]["case"]["tracking_number"] == case.tracking_number
    assert refunded["data"]["case"]["state"] == "refunded"
    assert refunded["data"]["case"]["payouts"][0]["state"] == "succeeded"


def test_a_refused_payout_emits_payout_failed_with_the_gateways_reason():
    endpoint = subscribe(events=["payout.failed", "case.refunded"])

    case = pay(vpn_case(reference="expired_card-4242"))

    assert case.state == "payout_failed"
    [failed] = bodies(endpoint)
    assert failed["type"] == "payout.failed"
    assert failed["data"]["payout"]["state"] == "failed"
    assert failed["data"]["error"]["code"] == "expired_card"
    assert failed["data"]["case"]["state"] == "payout_failed"


def test_a_payout_still_on_its_way_emits_nothing():
    endpoint = subscribe()
    case = vpn_case(reference="balance_low-1")
    already = len(bodies(endpoint))

    pay(case)

    assert len(bodies(endpoint)) == already


def test_a_payout_recorded_as_paid_outside_emits_payout_succeeded_and_case_refunded():
    endpoint = subscribe(events=["payout.succeeded", "case.refunded"])
    case = pay(vpn_case(reference="expired_card-4242"))
    finance = staff_member("finance", "finance")

    new = record_paid_outside(case.payouts.get(), actor=finance, reference="BANK-2026-1")

    succeeded, refunded = bodies(endpoint)
    assert succeeded["data"]["payout"]["id"] == new.pk
    assert succeeded["data"]["payout"]["state"] == PayoutState.SUCCEEDED
    assert refunded["data"]["case"]["state"] == "refunded"


def test_a_batch_of_payouts_looks_at_the_endpoints_once():
    endpoint = subscribe(events=["payout.succeeded", "case.refunded"])
    cases = [vpn_case(f"VPN-BATCH-{number}") for number in range(3)]

    from refunddesk.payouts.runner import run_pass

    with CaptureQueriesContext(connection) as queries:
        run_pass(case_ids=[case.pk for case in cases])

    looks = [query for query in queries
             if 'FROM "notifications_webhookendpoint"' in query["sql"]]
    assert len(looks) == 1
    assert sorted(types(endpoint)) == ["case.refunded"] * 3 + ["payout.succeeded"] * 3
