"""What staff do on the case page: each action for the role allowed it, a clear refusal for
every other, and nothing changed when the input or the moment is wrong."""

from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.db import OperationalError
from django.test import Client
from django.utils import timezone

from refunddesk.cases import actions
from refunddesk.cases.actors import customer_of
from refunddesk.cases.models import Message
from tests.console.case_builders import (
    EN,
    amounts,
    assessed,
    case_url,
    event_count,
    fresh,
    large_case,
    minor,
    page_of,
    post,
    reviewed_case,
)
from tests.portal.builders import pdf
from tests.staff import approval_limit, rejection_reason

pytestmark = pytest.mark.django_db


@pytest.fixture
def case():
    return reviewed_case(lines=("1200.00", "300.00"))


@pytest.fixture
def agent_client(staff_client):
    approval_limit("agent", "CNY", 5000_00)
    return staff_client("agent")


# -- routing ----------------------------------------------------------------------------------

def test_an_agent_claims_an_unassigned_case(agent_client, case):
    response = post(agent_client, case, "claim", follow=True)

    assert response.status_code == 200
    assert "You have taken the case." in response.content.decode()
    assert fresh(case).assignee == agent_client.user
    assert case.events.filter(action="assigned", actor=agent_client.user).exists()


def test_claiming_a_case_someone_else_has_is_refused_and_changes_nothing(
        agent_client, case, make_staff):
    colleague = make_staff("agent", "colleague")
    actions.claim(case, actor=colleague)
    before = event_count(case)

    response = post(agent_client, case, "claim")

    assert response.status_code == 400
    assert "Someone else has taken this case" in response.content.decode()
    assert fresh(case).assignee == colleague
    assert event_count(case) == before


def test_an_agent_reassigns_the_case_to_a_colleague(agent_client, case, make_staff):
    colleague = make_staff("agent", "colleague")

    response = post(agent_client, case, "assign", {"assignee": colleague.pk})

    assert response.status_code == 302
    assert fresh(case).assignee == colleague


def test_a_case_cannot_be_assigned_to_someone_who_does_not_work_cases(agent_client, case,
                                                                        make_staff):
    finance = make_staff("finance", "money")

    response = post(agent_client, case, "assign", {"assignee": finance.pk})

    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    assert fresh(case).assignee is None


def test_an_agent_escalates_to_a_named_reviewer(agent_client, case, reviewer):
    response = post(agent_client, case, "escalate",
                    {"reason": "Customer threatens chargeback", "reviewer": reviewer.pk})

    assert response.status_code == 302
    escalated = fresh(case)
    assert escalated.assignee == reviewer and escalated.escalated_at is not None
    event = escalated.events.get(action="escalated")
    assert event.data == {"reason": "Customer threatens chargeback", "to": "reviewer"}


def test_escalating_without_a_reason_is_a_form_error(agent_client, case):
    response = post(agent_client, case, "escalate", {"reason": " "})

    assert response.status_code == 400
    assert fresh(case).escalated_at is None


# -- the thread -------------------------------------------------------------------------------

def test_an_internal_note_is_kept_from_the_customer(agent_client, case):
    response = post(agent_client, case, "note", {"body": "Checked the logs"}, follow=True)

    note = Message.objects.get(case=case)
    assert note.is_internal and note.body == "Checked the logs"
    assert "Your internal note is added." in response.content.decode()
    assert not case.events.get(action="note_added").is_customer_visible


def test_a_message_to_the_customer_is_the_first_response(agent_client, case):
    response = post(agent_client, case, "message", {"body": "We are on it"})

    assert response.status_code == 302
    message = Message.objects.get(case=case)
    assert not message.is_internal
    assert fresh(case).first_responded_at is not None


def test_an_empty_message_is_a_form_error(agent_client, case):
    response = post(agent_client, case, "message", {"body": ""})

    assert response.status_code == 400
    assert not Message.objects.filter(case=case).exists()


# -- asking for information -------------------------------------------------------------------

def test_an_agent_asks_for_documents_and_questions_by_the_end_of_a_day(agent_client, case):
    day = timezone.localdate() + timedelta(days=3)

    response = post(agent_client, case, "request_info", {
        "documents": ["payment_proof", "usage_records"], "questions": "When did it fail?",
        "due_day": day.isoformat()})

    assert response.status_code == 302
    asked = fresh(case)
    assert asked.state == "awaiting_customer"
    assert asked.requested_documents == ["payment_proof", "usage_records"]
    assert asked.info_due == datetime.combine(day, time(23, 59, 59),
                                              tzinfo=ZoneInfo(settings.TIME_ZONE))
    assert asked.sla_paused_at is not None
    assert Message.objects.get(case=case).body == "When did it fail?"


@pytest.mark.parametrize("days, data, error", [
    (-1, {"questions": "Why?"}, "Choose a day from today on."),
    (3, {}, "Ask a question or pick the documents you need."),
    (3, {"documents": ["passport_scan"]}, "Select a valid choice."),
])
def test_a_bad_request_for_information_is_refused_and_changes_nothing(agent_client, case,
                                                                      days, data, error):
    day = timezone.localdate() + timedelta(days=days)

    response = post(agent_client, case, "request_info", {**data, "due_day": day.isoformat()})

    assert response.status_code == 400
    assert error in response.content.decode()
    assert fresh(case).state == "in_review"
    assert not Message.objects.filter(case=case).exists()


# -- approving --------------------------------------------------------------------------------

def test_an_agent_approves_in_full_within_their_limit(agent_client, case):
    response = post(agent_client, case, "approve", amounts(case, *assessed(case)), follow=True)

    approved = fresh(case)
    assert approved.state == "approved"
    assert approved.approved_total_minor == case.assessed_total_minor
    assert approved.decided_by == agent_client.user
    assert "The case is approved" in response.content.decode()


def test_an_agent_approves_in_part_line_by_line(agent_client, case):
    first, _second = assessed(case)

    post(agent_client, case, "approve",
         {**amounts(case, first, "100.00"), "note": "Second server was used more"})

    approved = fresh(case)
    assert minor(approved) == {"1": int(first.replace(".", "")), "2": 100_00}
    assert approved.approved_total_minor == int(first.replace(".", "")) + 100_00
    assert approved.decision_note == "Second server was used more"
    assert approved.events.get(action="approved").data["is_partial"] is True


def test_an_agent_over_their_limit_is_refused_with_the_reason(staff_client, case):
    approval_limit("agent", "CNY", 500_00)
    client = staff_client("agent")

    response = post(client, case, "approve", amounts(case, "400.00", "200.00"))

    assert response.status_code == 400
    page = response.content.decode()
    assert "above your approval limit of CN¥500.00" in page
    assert 'name="amount_0" value="400.00"' in page  # the form as it was sent
    assert fresh(case).state == "in_review"


def test_an_agent_sees_before_clicking_that_the_assessed_refund_is_above_their_limit(
        staff_client, case):
    approval_limit("agent", "CNY", 500_00)

    page = page_of(staff_client("agent"), case)

    assert "Your approval limit: CN¥500.00." in page
    assert "The assessed refund is above your approval limit of CN¥500.00" in page
    assert "only a reviewer may approve more than assessed" in page


def test_a_reviewer_is_shown_the_justification_field_and_no_limit(client, case, reviewer):
    client.force_login(reviewer)

    page = page_of(client, case)

    assert 'name="justification"' in page
    assert "Your approval limit: no limit." in page
    assert "above your approval limit" not in page


@pytest.mark.parametrize("bad, error", [
    ("abc", "Enter an amount in CNY"),
    ("-5", "Enter an amount in CNY"),
    ("1.234", "at most 2 after the point"),
    ("1e3", "Enter an amount in CNY"),
    ("", "This field is required."),
    ("1300.00", "At most CN¥1,200.00, what the line cost."),
])
def test_a_bad_amount_is_a_form_error_and_changes_nothing(agent_client, case, bad, error):
    before = event_count(case)

    response = post(agent_client, case, "approve", amounts(case, bad, "100.00"))

    assert response.status_code == 400
    assert error in response.content.decode()
    assert fresh(case).state == "in_review"
    assert event_count(case) == before


def test_approving_nothing_is_refused(agent_client, case):
    response = post(agent_client, case, "approve", amounts(case, "0", "0.00"))

    assert response.status_code == 400
    assert "reject the case instead" in response.content.decode()


def test_approving_more_than_assessed_needs_a_reviewer(agent_client, case):
    response = post(agent_client, case, "approve",
                    {**amounts(case, "1200.00", "300.00"), "justification": "Outage"})

    assert response.status_code == 400
    page = response.content.decode()
    first, _second = assessed(case)
    assert (f"At most CN¥{Decimal(first):,}, the assessed refund: only a reviewer may "
            "approve more.") in page
    assert fresh(case).state == "in_review"


def test_a_reviewers_override_needs_a_written_justification(client, case, reviewer):
    client.force_login(reviewer)

    refused = post(client, case, "approve", amounts(case, "1200.00", "300.00"))
    accepted = post(client, case, "approve",
                    {**amounts(case, "1200.00", "300.00"),
                     "justification": "Our outage made the servers useless"})

    assert refused.status_code == 400
    assert "Write why this line gets more than the assessed refund." in \
        refused.content.decode()
    assert accepted.status_code == 302
    approved = fresh(case)
    assert approved.approved_total_minor == 1500_00
    assert approved.events.get(action="approved").data["justification"] == \
        "Our outage made the servers useless"


def test_finance_cannot_decide(staff_client, case):
    client = staff_client("finance")

    response = post(client, case, "approve", amounts(case, *assessed(case)))

    assert response.status_code == 403
    assert fresh(case).state == "in_review"


def test_an_admin_works_cases_but_does_not_decide_them(staff_client, case):
    client = staff_client("admin")

    response = post(client, case, "reject",
                    {"reason": rejection_reason().pk, "message": "No"})

    assert response.status_code == 403
    assert "Your role does not decide refund cases." in response.content.decode()
    assert fresh(case).state == "in_review"


# -- four eyes ----------------------------------------------------------------------------------

def test_a_large_approval_waits_and_its_proposer_cannot_confirm_it(client, reviewer):
    case = large_case()
    client.force_login(reviewer)

    proposed = post(client, case, "approve", amounts(case, *assessed(case)), follow=True)
    own = post(client, case, "confirm", {"proposal_at": fresh(case).proposal["at"]})

    assert "waits for a second person to confirm it" in proposed.content.decode()
    assert own.status_code == 403
    assert "You proposed this approval: a second person must confirm it." in \
        own.content.decode()
    waiting = fresh(case)
    assert waiting.state == "in_review" and waiting.proposed_by == reviewer


def test_a_second_reviewer_confirms_the_large_approval(client, reviewer, second_reviewer):
    case = large_case()
    actions.approve(case, actor=reviewer)
    client.force_login(second_reviewer)

    response = post(client, case, "confirm", {"proposal_at": fresh(case).proposal["at"]},
                    follow=True)

    approved = fresh(case)
    assert approved.state == "approved"
    assert approved.approved_total_minor == case.assessed_total_minor
    assert approved.decided_by == reviewer  # the decision is the proposer's, confirmed
    assert approved.events.get(action="approved").actor == second_reviewer
    assert "The approval is confirmed" in response.content.decode()


def test_confirming_an_approval_other_than_the_one_shown_is_refused(
        client, reviewer, second_reviewer):
    case = large_case()
    actions.approve(case, actor=reviewer)
    shown = fresh(case).proposal["at"]
    actions.decline_approval(case, actor=reviewer, note="")
    actions.approve(case, actor=reviewer, amounts={"1": 60000_00},
                    now=timezone.now() + timedelta(seconds=1))
    client.force_login(second_reviewer)

    response = post(client, case, "confirm", {"proposal_at": shown})

    assert response.status_code == 409
    assert "has changed since you opened the page" in response.content.decode()
    assert fresh(case).state == "in_review"


def test_a_second_reviewer_declines_with_a_reason(client, reviewer, second_reviewer):
    case = large_case()
    actions.approve(case, actor=reviewer)
    client.force_login(second_reviewer)

    shown = {"proposal_at": fresh(case).proposal["at"]}
    unexplained = post(client, case, "decline", shown)
    explained = post(client, case, "decline", {**shown, "note": "The usage logs say otherwise"})

    assert unexplained.status_code == 400
    assert "Say why you decline the approval." in unexplained.content.decode()
    assert explained.status_code == 302
    assert fresh(case).proposal is None
    declined = case.events.get(action="approval_declined")
    assert declined.data["reason"] == "The usage logs say otherwise"


def test_the_proposer_takes_back_their_own_proposal_without_a_reason(client, reviewer):
    case = large_case()
    actions.approve(case, actor=reviewer)
    client.force_login(reviewer)

    response = post(client, case, "decline", {"proposal_at": fresh(case).proposal["at"]})

    assert response.status_code == 302
    assert fresh(case).proposal is None and fresh(case).state == "in_review"


def test_an_agent_cannot_confirm_an_approval(agent_client, reviewer):
    case = large_case()
    actions.approve(case, actor=reviewer)

    response = post(agent_client, case, "confirm",
                    {"proposal_at": fresh(case).proposal["at"]})

    assert response.status_code == 403
    assert "Your role does not confirm approvals." in response.content.decode()


# -- rejecting and appeals --------------------------------------------------------------------

def test_an_agent_rejects_with_a_reason_and_a_message_to_the_customer(agent_client, case):
    reason = rejection_reason("service_consumed")

    response = post(agent_client, case, "reject",
                    {"reason": reason.pk, "message": "The servers ran the whole month."})

    assert response.status_code == 302
    rejected = fresh(case)
    assert rejected.state == "rejected" and rejected.rejection_reason == reason
    assert Message.objects.get(case=case).body == "The servers ran the whole month."


def test_a_rejection_needs_an_active_reason(agent_client, case):
    retired = rejection_reason("retired")
    retired.is_active = False
    retired.save()

    without = post(agent_client, case, "reject", {"message": "No"})
    with_retired = post(agent_client, case, "reject", {"reason": retired.pk, "message": "No"})

    assert without.status_code == 400 and with_retired.status_code == 400
    assert fresh(case).state == "in_review"


def test_an_appeal_is_decided_by_a_reviewer_other_than_the_one_who_rejected(
        client, case, reviewer, second_reviewer):
    actions.reject(case, actor=reviewer, reason=rejection_reason(), message="No")
    actions.appeal(case, actor=customer_of(case.account), text="It never worked", uploads=[pdf()])

    client.force_login(reviewer)
    refused = post(client, case, "approve", amounts(case, *assessed(case)))
    client.force_login(second_reviewer)
    accepted = post(client, case, "approve", amounts(case, *assessed(case)))

    assert refused.status_code == 403
    assert "You made the decision under appeal" in refused.content.decode()
    assert accepted.status_code == 302
    decided = fresh(case)
    assert decided.state == "approved" and decided.decided_by == second_reviewer


# -- the moment, and who may post at all ------------------------------------------------------

def test_a_decision_made_meanwhile_by_a_colleague_gives_a_clear_message(agent_client, case,
                                                                          reviewer):
    # given the agent's page was loaded while the case was in review,
    page = agent_client.get(case_url(case), headers=EN).content.decode()
    assert case_url(case, "console:case_approve") in page
    # and a reviewer rejected it a moment later
    actions.reject(case, actor=reviewer, reason=rejection_reason(), message="No")

    # when the agent sends the approval
    response = post(agent_client, case, "approve", amounts(case, *assessed(case)))

    # then the agent is told, and the one decision stands
    assert response.status_code == 409
    assert "This cannot be done any more: the case is now “Rejected”." in \
        response.content.decode()
    assert fresh(case).state == "rejected"
    assert case.events.filter(action__in=["approved", "rejected"]).count() == 1


def test_a_database_that_refuses_the_lock_gives_a_clear_message(agent_client, case,
                                                                 monkeypatch):
    # given the database gives up waiting for the case's row lock (a colleague holds it)
    def locked_out(*args, **kwargs):
        raise OperationalError("database is locked")

    monkeypatch.setattr(actions, "claim", locked_out)

    response = post(agent_client, case, "claim")

    assert response.status_code == 409
    assert "Someone else was changing this case at the same moment." in \
        response.content.decode()
    assert fresh(case).assignee is None


def test_every_action_taken_is_in_the_audit_timeline(agent_client, case, reviewer):
    post(agent_client, case, "claim")
    post(agent_client, case, "note", {"body": "n"})
    post(agent_client, case, "message", {"body": "m"})
    post(agent_client, case, "escalate", {"reason": "r", "reviewer": reviewer.pk})
    day = timezone.localdate() + timedelta(days=2)
    post(agent_client, case, "request_info", {"questions": "q", "due_day": day.isoformat()})

    page = agent_client.get(case_url(case), headers=EN).content.decode()

    for label in ("Assigned", "Internal note", "Message", "Escalated to a reviewer",
                  "Information requested"):
        assert f"<strong>{label}</strong>" in page, label
    assert list(case.events.values_list("action", flat=True)) == [
        "submitted", "routed_to_review", "assigned", "note_added", "message_posted",
        "escalated", "information_requested"]


def test_actions_take_only_posts(agent_client, case):
    response = agent_client.get(case_url(case, "console:case_claim"))

    assert response.status_code == 405


def test_a_post_without_the_csrf_token_is_refused(make_staff, case):
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_staff("agent", "careful"))

    response = post(client, case, "claim")

    assert response.status_code == 403
    assert fresh(case).assignee is None


@pytest.mark.parametrize("action", ["claim", "assign", "note", "message", "request_info",
                                    "approve", "confirm", "decline", "reject", "escalate"])
def test_strangers_are_sent_to_log_in_and_customers_refused(client, case, action):
    stranger = post(client, case, action)
    client.force_login(case.account.user)
    customer = post(client, case, action)

    assert stranger.status_code == 302
    assert customer.status_code == 403
    assert event_count(case) == 2  # submitted, routed to review


@pytest.mark.parametrize("action", ["claim", "note", "message", "escalate"])
def test_finance_works_no_case(staff_client, case, action):
    response = post(staff_client("finance"), case, action,
                    {"body": "x", "reason": "x"})

    assert response.status_code == 403
    assert event_count(case) == 2
