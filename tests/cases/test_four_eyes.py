"""Four eyes: above the policy's threshold an approval waits for a second staff member,
never the same person, before the case leaves review."""

from datetime import timedelta

import pytest

from refunddesk.cases import actions
from refunddesk.cases.models import RefundCase
from refunddesk.notifications.models import EmailDelivery
from tests.cases.conftest import AFTER_FIVE_DAYS
from tests.cases.decision_builders import case_in_review, large_huawei_order
from tests.staff import rejection_reason, staff_member

pytestmark = pytest.mark.django_db

LATER = AFTER_FIVE_DAYS + timedelta(hours=1)


@pytest.fixture
def large_case():
    case = case_in_review(large_huawei_order())
    assert case.assessed_total_minor > 5000000  # above huawei-cloud's 50,000.00 CNY
    return case


@pytest.fixture
def reviewers():
    return staff_member("reviewer-a", "reviewer"), staff_member("reviewer-b", "reviewer")


def test_an_approval_above_the_threshold_waits_for_a_second_person(large_case, reviewers):
    first, _ = reviewers

    case = actions.approve(large_case, actor=first, note="Checked.", now=LATER)

    assert case.state == "in_review"
    assert case.proposed_by == first
    assert case.proposal["total"] == large_case.assessed_total_minor
    assert case.approved_total_minor is None
    event = case.events.last()
    assert (event.action, event.is_customer_visible) == ("approval_proposed", False)
    assert not EmailDelivery.objects.filter(case=case, kind="decided").exists()


def test_the_same_person_cannot_confirm_their_own_approval(large_case, reviewers):
    first, _ = reviewers
    case = actions.approve(large_case, actor=first, now=LATER)

    with pytest.raises(actions.NotPermitted, match="second person"):
        actions.confirm_approval(case, actor=first, now=LATER)

    assert RefundCase.objects.get(pk=case.pk).state == "in_review"


def test_a_second_reviewer_confirms_and_the_case_is_approved(large_case, reviewers):
    first, second = reviewers
    case = actions.approve(large_case, actor=first, note="Checked.", now=LATER)

    case = actions.confirm_approval(case, actor=second, now=LATER + timedelta(minutes=5))

    assert (case.state, case.approved_total_minor) == ("approved",
                                                      large_case.assessed_total_minor)
    assert (case.decided_by, case.proposal) == (first, None)
    event = case.events.get(action="approved")
    assert (event.actor, event.data["proposed_by"]) == (second, "reviewer-a")
    assert EmailDelivery.objects.filter(case=case, kind="decided").exists()


def test_an_agent_cannot_confirm(large_case, reviewers):
    first, _ = reviewers
    case = actions.approve(large_case, actor=first, now=LATER)

    with pytest.raises(actions.NotPermitted, match="does not confirm"):
        actions.confirm_approval(case, actor=staff_member("agent-1", "agent"), now=LATER)


def test_a_declined_approval_is_dropped_and_the_case_can_be_decided_again(large_case,
                                                                          reviewers):
    first, second = reviewers
    case = actions.approve(large_case, actor=first, now=LATER)

    with pytest.raises(actions.CaseError, match="Say why"):
        actions.decline_approval(case, actor=second, note=" ", now=LATER)
    case = actions.decline_approval(case, actor=second, note="Usage was higher.", now=LATER)

    assert (case.state, case.proposal, case.proposed_by) == ("in_review", None, None)
    assert case.events.last().data["reason"] == "Usage was higher."
    case = actions.reject(case, actor=second, reason=rejection_reason(), message="No.",
                          now=LATER)
    assert case.state == "rejected"


def test_while_an_approval_waits_nobody_approves_or_rejects_around_it(large_case, reviewers):
    first, second = reviewers
    case = actions.approve(large_case, actor=first, now=LATER)

    with pytest.raises(actions.CaseError, match="waiting for a second person"):
        actions.approve(case, actor=second, now=LATER)
    with pytest.raises(actions.CaseError, match="decline it before rejecting"):
        actions.reject(case, actor=second, reason=rejection_reason(), message="No.",
                       now=LATER)


def test_an_approval_at_or_below_the_threshold_needs_one_person(large_case, reviewers):
    first, _ = reviewers

    case = actions.approve(large_case, actor=first, amounts={"1": 5000000}, now=LATER)

    assert (case.state, case.approved_total_minor) == ("approved", 5000000)


def test_a_policy_without_a_threshold_never_waits(order, reviewers):
    # tencent-cloud sets no four_eyes_above
    first, _ = reviewers

    case = actions.approve(case_in_review(order), actor=first, now=LATER)

    assert case.state == "approved"


def test_nobody_asks_the_customer_while_an_approval_waits(large_case, reviewers):
    first, second = reviewers
    case = actions.approve(large_case, actor=first, now=LATER)

    with pytest.raises(actions.CaseError, match="waiting for a second person"):
        actions.request_info(case, actor=second, questions="Receipt?",
                             due=LATER + timedelta(days=3), now=LATER)


def test_the_proposer_may_take_back_their_own_approval_without_a_reason(large_case,
                                                                       reviewers):
    first, _ = reviewers
    case = actions.approve(large_case, actor=first, now=LATER)

    case = actions.decline_approval(case, actor=first, note="", now=LATER)

    assert case.proposal is None


def test_an_approval_that_changed_since_it_was_shown_is_not_confirmed(large_case,
                                                                     reviewers):
    first, second = reviewers
    shown = actions.approve(large_case, actor=first, now=LATER).proposal["at"]
    actions.decline_approval(large_case, actor=first, note="", now=LATER)
    actions.approve(large_case, actor=first, amounts={"1": 5100000},
                    now=LATER + timedelta(minutes=1))

    with pytest.raises(actions.CaseError, match="has changed since you opened the page"):
        actions.confirm_approval(large_case, actor=second, seen=shown, now=LATER)

    assert RefundCase.objects.get(pk=large_case.pk).state == "in_review"
