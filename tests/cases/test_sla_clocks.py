"""SLA clocks count business days on the policy's calendar (mainland China's holidays and
make-up working days for the Tencent Cloud preset), pause while the desk waits for the
customer, and resume with the time they had left."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from refunddesk.cases import actions
from refunddesk.cases.actors import customer_of
from refunddesk.cases.sweeping import sweep_deadlines
from refunddesk.notifications.models import EmailDelivery
from tests.cases.decision_builders import case_in_review
from tests.staff import rejection_reason, staff_member

pytestmark = pytest.mark.django_db

BEIJING = ZoneInfo("Asia/Shanghai")


def beijing(*args):
    return datetime(*args, tzinfo=BEIJING)


# 2026: National Day closes the desk from Thursday 1 to Wednesday 7 October; Saturday
# 10 October is a make-up working day, Sunday 11 October is not.
EVE_OF_NATIONAL_DAY = beijing(2026, 9, 30, 15, 0)


@pytest.fixture
def agent():
    return staff_member("agent-sla", "agent")


def test_the_clocks_skip_the_national_day_holiday_and_count_its_make_up_saturday(order):
    # given tencent-cloud's SLA: first response in 1 business day, decision in 3
    case = case_in_review(order, now=EVE_OF_NATIONAL_DAY)

    # then the first response is due on the first working day after the holiday, and the
    # decision three working days on, which includes the make-up Saturday
    assert case.first_response_due == beijing(2026, 10, 8, 15, 0)
    assert case.review_due == beijing(2026, 10, 10, 15, 0)
    assert case.sla_due_at == case.first_response_due


def test_a_first_response_moves_the_due_time_to_the_decision(order, agent):
    case = case_in_review(order, now=EVE_OF_NATIONAL_DAY)

    actions.post_message(case, actor=agent, body="We are looking.",
                         now=EVE_OF_NATIONAL_DAY + timedelta(minutes=30))
    case.refresh_from_db()

    assert case.first_responded_at == EVE_OF_NATIONAL_DAY + timedelta(minutes=30)
    assert case.sla_due_at == case.review_due


def test_an_internal_note_is_not_a_response_to_the_customer(order, agent):
    case = case_in_review(order, now=EVE_OF_NATIONAL_DAY)

    actions.post_message(case, actor=agent, body="Checking usage.", is_internal=True,
                         now=EVE_OF_NATIONAL_DAY + timedelta(minutes=30))
    case.refresh_from_db()

    assert case.first_responded_at is None
    assert case.sla_due_at == case.first_response_due


def test_the_clock_pauses_while_waiting_for_the_customer_and_resumes_with_what_was_left(
        order, agent):
    # given a case whose decision is due Saturday 10 October 15:00
    case = case_in_review(order, now=EVE_OF_NATIONAL_DAY)

    # when the agent asks a question at 16:00 on 30 September
    case = actions.request_info(case, actor=agent, questions="Which instance failed?",
                                due=beijing(2026, 10, 20, 18, 0),
                                now=beijing(2026, 9, 30, 16, 0))
    # then the clock is paused: nothing is due from the desk
    assert (case.sla_paused_at, case.sla_due_at) == (beijing(2026, 9, 30, 16, 0), None)

    # when the customer answers on Monday 12 October at 10:00
    case = actions.supplement(case, actor=customer_of(case.account), message="ins-7f3a",
                              now=beijing(2026, 10, 12, 10, 0))

    # then the 71 business hours left (8 on 30 Sept, 24 + 24 on 8 and 9 Oct, 15 on the
    # make-up Saturday) run from Monday: 14 + 24 + 24 + 9 hours, Thursday 09:00
    assert case.review_due == beijing(2026, 10, 15, 9, 0)
    assert (case.sla_paused_at, case.sla_due_at) == (None, case.review_due)


def test_a_case_already_overdue_when_paused_stays_overdue(order, agent):
    case = case_in_review(order, now=EVE_OF_NATIONAL_DAY)
    due = case.review_due

    case = actions.request_info(case, actor=agent, questions="Receipt?",
                                due=beijing(2026, 10, 30, 18, 0),
                                now=beijing(2026, 10, 12, 9, 0))
    case = actions.supplement(case, actor=customer_of(case.account), message="Here.",
                              now=beijing(2026, 10, 13, 9, 0))

    assert case.review_due == due


def test_the_sweep_escalates_an_overdue_case_once_to_the_reviewers_queue(order, agent):
    case = case_in_review(order, now=EVE_OF_NATIONAL_DAY)
    actions.claim(case, actor=agent, now=EVE_OF_NATIONAL_DAY)
    just_after = case.first_response_due + timedelta(seconds=1)

    assert sweep_deadlines(case.first_response_due).escalated == 0
    assert sweep_deadlines(just_after).escalated == 1
    assert sweep_deadlines(just_after + timedelta(hours=1)).escalated == 0

    case.refresh_from_db()
    event = case.events.get(action="escalated")
    assert (case.state, case.escalated_at, case.assignee) == ("in_review", just_after, None)
    assert (event.actor, event.data["reason"], event.is_customer_visible) == (None, "overdue",
                                                                              False)


def test_a_customer_who_misses_the_information_deadline_has_the_case_closed_with_a_notice(
        order, agent):
    case = case_in_review(order, now=EVE_OF_NATIONAL_DAY)
    deadline = beijing(2026, 10, 12, 18, 0)
    actions.request_info(case, actor=agent, questions="Receipt?", due=deadline,
                         now=beijing(2026, 9, 30, 16, 0))

    assert sweep_deadlines(deadline).closed_after_info_deadline == 0
    assert sweep_deadlines(deadline + timedelta(minutes=1)).closed_after_info_deadline == 1

    case.refresh_from_db()
    assert case.state == "closed"
    assert not case.lines.filter(holds_line=True).exists()  # the customer may apply again
    assert case.events.last().action == "closed_info_deadline"
    assert EmailDelivery.objects.filter(case=case, kind="closed").exists()


def test_a_rejection_nobody_appealed_becomes_final_when_the_window_closes(order, agent):
    from tests.staff import approval_limit

    approval_limit("agent", "CNY", 100000)
    case = actions.reject(case_in_review(order, now=EVE_OF_NATIONAL_DAY), actor=agent,
                          reason=rejection_reason(), message="No.",
                          now=beijing(2026, 10, 8, 10, 0))
    closes = beijing(2026, 10, 23, 10, 0)  # tencent-cloud: 15 days to appeal

    assert sweep_deadlines(closes).closed_after_appeal_window == 0
    assert sweep_deadlines(closes + timedelta(seconds=1)).closed_after_appeal_window == 1
    case.refresh_from_db()
    assert case.state == "closed"


def test_the_worker_runs_the_sweep_in_batch_mode(order, agent):
    from django.core.management import call_command

    case = case_in_review(order, now=EVE_OF_NATIONAL_DAY)
    actions.request_info(case, actor=agent, questions="Receipt?",
                         due=beijing(2026, 10, 12, 18, 0), now=beijing(2026, 9, 30, 16, 0))

    call_command("sweep")  # today is long after the deadline

    case.refresh_from_db()
    assert case.state == "closed"
