"""Who acts is always a value: a person, a customer without a login, or a named part of
the system with a short list of what it may do. A missing actor is refused, never read as
"the system, which may do anything"."""

from datetime import timedelta

import pytest

from refunddesk.api.keys import make_key, revoke
from refunddesk.api.models import ApiKey
from refunddesk.cases import actions
from refunddesk.cases.actors import (
    AUTO_DECISION,
    COMMAND_LINE,
    DEADLINES,
    PAYOUT_RUNNER,
    SYSTEM_ACTORS,
    AccountHolder,
    customer_of,
)
from refunddesk.cases.models import CaseEvent, Message, RefundCase
from refunddesk.policies import actions as policy_actions
from tests.cases.conftest import AFTER_FIVE_DAYS
from tests.cases.decision_builders import case_in_review
from tests.staff import rejection_reason, staff_member

pytestmark = pytest.mark.django_db

LATER = AFTER_FIVE_DAYS + timedelta(hours=1)


def pdf():
    from tests.cases.test_actions import pdf as a_pdf

    return a_pdf()


# Every case action a caller can reach, called on a case in review by `actor`.
CASE_ACTIONS = {
    "approve": lambda case, actor: actions.approve(case, actor=actor, now=LATER),
    "approve_in_part": lambda case, actor: actions.approve(
        case, actor=actor, amounts={"1": 100}, now=LATER),
    "reject": lambda case, actor: actions.reject(
        case, actor=actor, reason=rejection_reason(), message="No.", now=LATER),
    "request_info": lambda case, actor: actions.request_info(
        case, actor=actor, questions="Your receipt?", due=LATER + timedelta(days=3),
        now=LATER),
    "assign": lambda case, actor: actions.assign(
        case, actor=actor, assignee=staff_member("agent-a", "agent"), now=LATER),
    "claim": lambda case, actor: actions.claim(case, actor=actor, now=LATER),
    "escalate": lambda case, actor: actions.escalate(
        case, actor=actor, reason="Too large.", now=LATER),
    "post_message": lambda case, actor: actions.post_message(
        case, actor=actor, body="Hello.", now=LATER),
    "withdraw": lambda case, actor: actions.withdraw(case, actor=actor, now=LATER),
    "add_documents": lambda case, actor: actions.add_documents(
        case, actor=actor, uploads=[pdf()], now=LATER),
}


def unchanged(case, events, messages):
    fresh = RefundCase.objects.get(pk=case.pk)
    return (fresh.state, fresh.assignee_id, fresh.decided_at,
            CaseEvent.objects.filter(case=case).count(),
            Message.objects.filter(case=case).count()) == (
        case.state, case.assignee_id, case.decided_at, events, messages)


@pytest.mark.parametrize("name", sorted(CASE_ACTIONS))
def test_a_case_action_without_an_actor_is_refused_and_changes_nothing(order, name, tmp_path,
                                                                       settings):
    # given a case in review
    settings.MEDIA_ROOT = tmp_path
    case = case_in_review(order)
    events, messages = CaseEvent.objects.filter(case=case).count(), case.messages.count()

    # when anything is done to it with no actor, then it is refused
    with pytest.raises(actions.NotPermitted):
        CASE_ACTIONS[name](case, None)

    # and nothing changed
    assert unchanged(case, events, messages)


def test_approving_with_no_actor_no_longer_skips_the_limits_and_four_eyes(order):
    # given a case in review (the finding: actor=None approved any amount, unchecked)
    case = case_in_review(order)

    # when it is approved far above the assessment with no actor
    with pytest.raises(actions.NotPermitted):
        actions.approve(case, actor=None, amounts={"1": 96000}, justification="x", now=LATER)

    # then it stays in review, undecided
    fresh = RefundCase.objects.get(pk=case.pk)
    assert (fresh.state, fresh.approved_total_minor) == ("in_review", None)


@pytest.mark.parametrize("system", SYSTEM_ACTORS, ids=lambda actor: actor.name)
@pytest.mark.parametrize("name", sorted(CASE_ACTIONS))
def test_a_system_actor_outside_its_list_is_refused_and_changes_nothing(
        order, name, system, tmp_path, settings):
    # given a case in review, and a part of the system none of whose powers is a staff
    # member's or the customer's
    settings.MEDIA_ROOT = tmp_path
    case = case_in_review(order)
    events, messages = CaseEvent.objects.filter(case=case).count(), case.messages.count()

    # when it tries a person's action, then it is refused and nothing changes
    with pytest.raises(actions.NotPermitted):
        CASE_ACTIONS[name](case, system)
    assert unchanged(case, events, messages)


DEADLINE_ACTIONS = {
    "close_after_info_deadline": actions.close_after_info_deadline,
    "close_after_appeal_window": actions.close_after_appeal_window,
    "escalate_overdue": actions.escalate_overdue,
}


@pytest.mark.parametrize("name", sorted(DEADLINE_ACTIONS))
def test_only_the_deadlines_actor_runs_the_deadline_actions(order, name):
    case = case_in_review(order)
    much_later = LATER + timedelta(days=60)
    reviewer = staff_member("reviewer-d", "reviewer")

    for someone in (None, reviewer, PAYOUT_RUNNER, AUTO_DECISION, COMMAND_LINE,
                    AccountHolder(case.account_id)):
        with pytest.raises(actions.NotPermitted):
            DEADLINE_ACTIONS[name](case, actor=someone, now=much_later)
    # the deadlines actor is let through (whether there is anything to do is its own check)
    DEADLINE_ACTIONS[name](case, actor=DEADLINES, now=much_later)


def test_the_sweep_acts_as_the_deadlines_actor_and_the_audit_says_so(order):
    from refunddesk.cases.sweeping import sweep_deadlines

    case = case_in_review(order)

    assert sweep_deadlines(case.sla_due_at + timedelta(minutes=1)).escalated == 1

    escalated = CaseEvent.objects.get(case=case, action="escalated")
    assert (escalated.actor, escalated.actor_kind) == (None, "system")
    assert escalated.data["system"] == "deadlines"


def test_an_automatic_first_move_is_recorded_as_the_auto_decision_actor(order):
    case = case_in_review(order)

    routed = CaseEvent.objects.get(case=case, action="routed_to_review")

    assert (routed.actor_kind, routed.data["system"]) == ("system", "auto_decision")


def test_a_customer_without_a_login_acts_as_the_holder_of_their_account(order):
    # given an account whose customer never logged in to the portal
    assert order.account.user_id is None
    holder = customer_of(order.account)

    # when they apply through an integration, then the case is theirs, with no user row
    case = actions.submit(account=order.account, order=order, line_ids=["1"], actor=holder,
                          channel="api", now=AFTER_FIVE_DAYS)
    submitted = CaseEvent.objects.get(case=case, action="submitted")
    assert holder == AccountHolder(order.account.pk)
    assert (submitted.actor, submitted.actor_kind) == (None, "customer")
    # and such a customer decides nothing
    with pytest.raises(actions.NotPermitted):
        actions.approve(case, actor=holder, now=LATER)


def test_api_keys_are_made_by_an_admin_or_the_command_line_never_by_nobody(db):
    with pytest.raises(actions.NotPermitted):
        make_key(name="nobody", scopes=["cases:read"], actor=None)
    with pytest.raises(actions.NotPermitted):
        make_key(name="runner", scopes=["cases:read"], actor=PAYOUT_RUNNER)
    assert not ApiKey.objects.exists()

    key, _secret = make_key(name="cli", scopes=["cases:read"], actor=COMMAND_LINE)
    with pytest.raises(actions.NotPermitted):
        revoke(key, actor=None)
    revoke(key, actor=COMMAND_LINE)
    assert ApiKey.objects.get(pk=key.pk).revoked_at is not None


def test_refund_policies_are_never_written_by_nobody(db):
    from tests.policies.conftest import tencent

    with pytest.raises(actions.NotPermitted):
        policy_actions.save_draft("tencent-cloud", tencent(2), actor=None)
