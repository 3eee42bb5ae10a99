"""Each kind of notice is written by the change it reports, for the staff it concerns and
nobody else; a person acting on their own case is not told of it."""

from datetime import timedelta

import pytest
from django.utils import translation

from refunddesk.cases import actions
from refunddesk.cases.actors import DEADLINES, customer_of
from refunddesk.inbox.models import Notice, NoticeKind
from refunddesk.inbox.presenting import describe, target
from refunddesk.inbox.telling import tell
from refunddesk.payouts.models import PayoutState
from tests.cases.conftest import AFTER_FIVE_DAYS
from tests.cases.decision_builders import case_in_review, large_huawei_order
from tests.inbox.conftest import notices
from tests.payouts.settlement_builders import failed_payout
from tests.portal.builders import pdf
from tests.staff import rejection_reason

pytestmark = pytest.mark.django_db

LATER = AFTER_FIVE_DAYS + timedelta(hours=1)


def test_a_case_given_to_an_agent_by_a_colleague_tells_that_agent(reviewed, staff):
    actions.assign(reviewed, actor=staff["reviewer-a"], assignee=staff["agent-a"], now=LATER)

    assert notices() == [("agent-a", "assigned")]
    notice = Notice.objects.get()
    assert notice.case == reviewed
    assert describe(notice) == f"reviewer-a gave you case {reviewed.tracking_number}."
    assert target(notice) == f"/console/cases/{reviewed.tracking_number}"


def test_claiming_a_case_oneself_tells_nobody(reviewed, staff):
    actions.claim(reviewed, actor=staff["agent-a"], now=LATER)
    actions.assign(reviewed, actor=staff["agent-a"], assignee=staff["agent-a"], now=LATER)

    assert notices() == []


def test_a_new_case_tells_nobody(reviewed, staff):
    assert reviewed.state == "in_review"
    assert notices() == []


def test_escalating_to_a_named_reviewer_tells_that_reviewer(reviewed, staff):
    actions.escalate(reviewed, actor=staff["agent-a"], reason="Large", now=LATER,
                     assignee=staff["reviewer-b"])

    assert notices() == [("reviewer-b", "assigned")]


def test_an_approval_above_the_threshold_tells_those_who_may_confirm_it_not_the_proposer(
        staff):
    # given a Huawei Cloud case above the four-eyes threshold of 50,000.00 CNY
    case = case_in_review(large_huawei_order())

    # when reviewer-a proposes to approve it
    actions.approve(case, actor=staff["reviewer-a"], now=LATER)

    # then only the other reviewer is asked: agents do not confirm, the proposer may not
    assert notices() == [("reviewer-b", "confirmation_wanted")]
    notice = Notice.objects.get()
    assert "reviewer-a proposes to approve" in describe(notice)
    # and the amount is kept as money, shown in each reader's language
    assert notice.data["currency"] == "CNY" and notice.data["amount_minor"] > 50_000_00
    assert "proposes to approve CN¥" in describe(notice)
    with translation.override("zh-hans"):
        assert "¥" in describe(notice) and "CN¥" not in describe(notice)


def test_an_approval_below_the_threshold_asks_nobody(reviewed, staff):
    actions.approve(reviewed, actor=staff["agent-a"], now=LATER)

    assert notices(kind=NoticeKind.CONFIRMATION_WANTED) == []


def test_an_appeal_tells_the_reviewers_except_the_one_whose_decision_is_appealed(
        reviewed, staff):
    actions.reject(reviewed, actor=staff["reviewer-a"], reason=rejection_reason(),
                   message="Too late.", now=LATER)
    customer = customer_of(reviewed.account)

    actions.appeal(reviewed, actor=customer, text="I was abroad.", uploads=[pdf()],
                   now=LATER + timedelta(hours=1))

    assert notices() == [("reviewer-b", "appeal_waiting")]


def test_the_customers_answer_tells_the_agent_who_works_the_case(reviewed, staff):
    agent = staff["agent-a"]
    actions.claim(reviewed, actor=agent, now=LATER)
    case = actions.request_info(reviewed, actor=agent, questions="The invoice, please.",
                                due=LATER + timedelta(days=3), now=LATER)
    customer = customer_of(case.account)

    actions.supplement(case, actor=customer, message="Attached.", uploads=[pdf()],
                       now=LATER + timedelta(hours=2))
    actions.post_message(case, actor=customer, body="Any news?",
                         now=LATER + timedelta(hours=3))
    actions.add_documents(case, actor=customer, uploads=[pdf("bank.pdf")],
                          now=LATER + timedelta(hours=4))

    assert notices() == [("agent-a", "customer_answered")] * 3
    assert [notice.data["how"] for notice in Notice.objects.order_by("id")] == [
        "information", "message", "documents"]


def test_an_answer_on_an_unassigned_case_tells_whoever_asked(reviewed, staff):
    case = actions.request_info(reviewed, actor=staff["agent-b"], questions="Why?",
                                due=LATER + timedelta(days=3), now=LATER)

    actions.supplement(case, actor=customer_of(case.account), message="Because.",
                       now=LATER + timedelta(hours=1))

    assert notices() == [("agent-b", "customer_answered")]


def test_staff_messages_and_notes_tell_nobody(reviewed, staff):
    agent = staff["agent-a"]
    actions.claim(reviewed, actor=agent, now=LATER)

    actions.post_message(reviewed, actor=agent, body="We are on it.", now=LATER)
    actions.post_message(reviewed, actor=staff["agent-b"], body="Note.", is_internal=True,
                         now=LATER)

    assert notices() == []


def test_a_payout_refused_for_good_tells_finance_only(staff):
    payout = failed_payout()

    assert payout.state == PayoutState.FAILED
    assert notices() == [("finance-a", "payout_failed")]
    notice = Notice.objects.get()
    assert (notice.payout, notice.case) == (payout, payout.case)
    assert target(notice) == f"/console/payouts/{payout.pk}/"
    assert "failed for good" in describe(notice)


def test_a_system_change_is_never_attributed_to_a_person(reviewed, staff):
    # The deadline sweep closing a case tells nobody by itself.
    case = actions.request_info(reviewed, actor=staff["agent-a"], questions="Why?",
                                due=LATER + timedelta(days=1), now=LATER)
    actions.close_after_info_deadline(case, actor=DEADLINES, now=LATER + timedelta(days=2))

    assert notices() == []


def test_an_inactive_staff_member_is_not_told(reviewed, staff):
    staff["agent-a"].is_active = False
    staff["agent-a"].save()

    told = tell([staff["agent-a"], staff["agent-b"]], NoticeKind.ASSIGNED, case=reviewed,
                now=LATER, actor=staff["reviewer-a"])

    assert [notice.recipient for notice in told] == [staff["agent-b"]]
    assert notices() == [("agent-b", "assigned")]
