"""What each staff role may do to a case, enforced by the actions themselves (so the
console, the API and the command line are held to the same rules)."""

from datetime import timedelta

import pytest

from refunddesk.cases import actions
from refunddesk.cases.actors import customer_of
from refunddesk.cases.models import CaseEvent, RefundCase
from tests.cases.conftest import AFTER_FIVE_DAYS
from tests.cases.decision_builders import case_in_review, staff_in_every_role
from tests.staff import approval_limit, rejection_reason, staff_member

pytestmark = pytest.mark.django_db

LATER = AFTER_FIVE_DAYS + timedelta(hours=1)


def note(case, actor):
    return actions.post_message(case, actor=actor, body="Checked usage.", is_internal=True,
                                now=LATER)


def message(case, actor):
    return actions.post_message(case, actor=actor, body="We are on it.", now=LATER)


def ask(case, actor):
    return actions.request_info(case, actor=actor, questions="Your receipt, please.",
                                documents=["payment_proof"], due=LATER + timedelta(days=5),
                                now=LATER)


def claim(case, actor):
    return actions.claim(case, actor=actor, now=LATER)


def escalate(case, actor):
    return actions.escalate(case, actor=actor, reason="Large customer.", now=LATER)


def approve(case, actor):
    return actions.approve(case, actor=actor, now=LATER)


def reject(case, actor):
    return actions.reject(case, actor=actor, reason=rejection_reason(), message="No.",
                          now=LATER)


ACTIONS = {"note": note, "message": message, "ask": ask, "claim": claim,
           "escalate": escalate, "approve": approve, "reject": reject}

# Who may do what: agents and reviewers work and decide (within limits), admins keep the
# desk running (they may work a case but not decide it), finance decides nothing.
ALLOWED = {
    "agent": set(ACTIONS),
    "reviewer": set(ACTIONS),
    "admin": {"note", "message", "ask", "claim", "escalate"},
    "finance": set(),
}


@pytest.mark.parametrize("action", sorted(ACTIONS))
@pytest.mark.parametrize("role", sorted(ALLOWED))
def test_each_role_may_do_exactly_its_share_of_the_work(order, role, action):
    # given a case in review and a staff member in the role
    case = case_in_review(order)
    actor = staff_in_every_role()[role]
    events = CaseEvent.objects.filter(case=case).count()

    if action in ALLOWED[role]:
        # when they act, then it is done and recorded
        ACTIONS[action](case, actor)
        assert CaseEvent.objects.filter(case=case).count() == events + 1
        assert CaseEvent.objects.filter(case=case).last().actor == actor
    else:
        # when they try, then they are refused and nothing changes
        with pytest.raises(actions.NotPermitted):
            ACTIONS[action](case, actor)
        assert CaseEvent.objects.filter(case=case).count() == events
        assert RefundCase.objects.get(pk=case.pk).state == "in_review"


def test_an_agent_over_their_approval_limit_is_refused_and_told_to_escalate(order):
    # given a case assessed above the agent's limit of 100.00 CNY
    case = case_in_review(order)
    approval_limit("agent", "CNY", 10000)
    agent = staff_member("agent-small", "agent")
    assert case.assessed_total_minor > 10000

    # when the agent approves it, then they are refused with the limit named
    with pytest.raises(actions.NotPermitted, match=r"CN¥100\.00: escalate"):
        actions.approve(case, actor=agent, now=LATER)
    # and a part within the limit is theirs to approve
    case = actions.approve(case, actor=agent, amounts={"1": 10000}, now=LATER)
    assert (case.state, case.approved_total_minor) == ("approved", 10000)


def test_without_a_limit_for_the_currency_an_agent_approves_nothing(order):
    case = case_in_review(order)
    agent = staff_member("agent-no-limit", "agent")

    with pytest.raises(actions.NotPermitted, match=r"approval limit of CN¥0\.00"):
        actions.approve(case, actor=agent, amounts={"1": 1}, now=LATER)


def test_reviewers_approve_any_amount(order):
    case = case_in_review(order)
    reviewer = staff_member("reviewer-any", "reviewer")

    case = actions.approve(case, actor=reviewer, now=LATER)

    assert case.approved_total_minor == case.assessed_total_minor


def test_only_a_reviewer_approves_more_than_the_assessment_and_only_with_a_justification(
        order):
    case = case_in_review(order)
    staff = staff_in_every_role()
    more = {"1": case.assessed_total_minor + 100}

    with pytest.raises(actions.NotPermitted, match="Only a reviewer"):
        actions.approve(case, actor=staff["agent"], amounts=more, justification="Goodwill",
                        now=LATER)
    with pytest.raises(actions.CaseError, match="justification"):
        actions.approve(case, actor=staff["reviewer"], amounts=more, now=LATER)

    case = actions.approve(case, actor=staff["reviewer"], amounts=more,
                           justification="Outage on 2026-05-30 confirmed by ops.", now=LATER)

    event = case.events.get(action="approved")
    assert case.approved_total_minor == case.assessed_total_minor + 100
    assert event.data["is_override"] is True
    assert event.data["justification"] == "Outage on 2026-05-30 confirmed by ops."


def test_no_line_gets_more_than_it_cost_nor_a_negative_amount(order):
    case = case_in_review(order)
    reviewer = staff_member("reviewer-x", "reviewer")

    for amounts, message in (({"1": 96001}, "at most CN¥960.00, what the line cost"),
                             ({"1": -1}, "zero or more"),
                             ({"9": 100}, "not part of this case"),
                             ({"1": 0}, "reject the case instead")):
        with pytest.raises(actions.CaseError, match=message):
            actions.approve(case, actor=reviewer, amounts=amounts, justification="x",
                            now=LATER)
    assert RefundCase.objects.get(pk=case.pk).state == "in_review"


def test_a_partial_approval_records_each_lines_amount(two_line_order):
    case = case_in_review(two_line_order, lines=("1", "2"))
    reviewer = staff_member("reviewer-p", "reviewer")

    case = actions.approve(case, actor=reviewer, amounts={"2": 0}, note="Backup was used.",
                           now=LATER)

    approved = dict(case.lines.values_list("order_line__line_id", "approved_minor"))
    assessed = dict(case.lines.values_list("order_line__line_id", "assessed_minor"))
    assert approved == {"1": assessed["1"], "2": 0}
    assert case.approved_total_minor == assessed["1"]
    assert case.events.get(action="approved").data["is_partial"] is True


def test_an_appeal_goes_to_a_reviewer_who_did_not_make_the_decision(order, tmp_path,
                                                                    settings):
    # given a case rejected by a reviewer, and appealed by the customer
    settings.MEDIA_ROOT = tmp_path
    from tests.cases.test_actions import pdf

    staff = staff_in_every_role()
    first, second = staff["reviewer"], staff_member("reviewer-2", "reviewer")
    case = actions.reject(case_in_review(order), actor=first, reason=rejection_reason(),
                          message="Used too long.", now=LATER)
    case = actions.appeal(case,
                          actor=customer_of(case.account), text="It never worked.", uploads=[pdf()],
                          now=LATER + timedelta(days=1))

    # then the agent may not decide it, nor the reviewer who rejected it
    with pytest.raises(actions.NotPermitted, match="reviewer"):
        actions.approve(case, actor=staff["agent"], now=LATER + timedelta(days=2))
    with pytest.raises(actions.NotPermitted, match="another reviewer"):
        actions.approve(case, actor=first, now=LATER + timedelta(days=2))

    # and another reviewer can
    case = actions.approve(case, actor=second, now=LATER + timedelta(days=2))
    assert (case.state, case.decided_by) == ("approved", second)


def test_only_staff_who_work_cases_can_be_assigned(order):
    case = case_in_review(order)
    staff = staff_in_every_role()

    with pytest.raises(actions.CaseError, match="does not work refund cases"):
        actions.assign(case, actor=staff["agent"], assignee=staff["finance"], now=LATER)
    case = actions.assign(case, actor=staff["agent"], assignee=staff["reviewer"], now=LATER)
    assert case.assignee == staff["reviewer"]
    with pytest.raises(actions.CaseError, match="Someone else has taken"):
        actions.claim(case, actor=staff["agent"], now=LATER)


def test_the_agent_who_opened_a_case_for_a_caller_does_not_decide_it(order):
    # given an agent who opened a case for a caller (channel agent)
    staff = staff_in_every_role()
    case = case_in_review(order)
    RefundCase.objects.filter(pk=case.pk).update(channel="agent", opened_by=staff["agent"])
    case.refresh_from_db()

    # then they may not decide it; a colleague may
    with pytest.raises(actions.NotPermitted, match="a colleague decides"):
        actions.approve(case, actor=staff["agent"], amounts={"1": 100}, now=LATER)
    case = actions.approve(case, actor=staff["reviewer"], now=LATER)
    assert case.state == "approved"


def test_a_staff_message_to_the_customer_is_e_mailed_and_a_note_is_not(order):
    from refunddesk.notifications.models import EmailDelivery

    case = case_in_review(order)
    agent = staff_in_every_role()["agent"]

    note(case, agent)
    message(case, agent)

    assert EmailDelivery.objects.filter(case=case, kind="message").count() == 1
