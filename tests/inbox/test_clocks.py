"""The deadline sweep tells a case's assignee once that its clock is about to run out and
once that it has, per case and deadline; never again each minute."""

from datetime import timedelta

import pytest

from refunddesk.cases import actions
from refunddesk.cases.models import RefundCase
from refunddesk.cases.sweeping import sweep_deadlines
from refunddesk.inbox.clocks import tell_clocks
from refunddesk.inbox.models import Notice
from refunddesk.inbox.presenting import describe
from tests.cases.conftest import AFTER_FIVE_DAYS
from tests.inbox.conftest import notices

pytestmark = pytest.mark.django_db


@pytest.fixture
def claimed(reviewed, staff):
    return actions.claim(reviewed, actor=staff["agent-a"], now=AFTER_FIVE_DAYS)


def test_the_assignee_is_told_once_when_the_first_response_is_due_soon(claimed, settings):
    settings.REFUNDDESK_SLA_WARNING_MINUTES = 120
    due = claimed.sla_due_at
    assert due == claimed.first_response_due

    assert tell_clocks(due - timedelta(hours=3)) == 0  # not yet
    assert tell_clocks(due - timedelta(hours=1)) == 1
    assert tell_clocks(due - timedelta(minutes=59)) == 0  # the next minute: told already
    assert tell_clocks(due - timedelta(minutes=1)) == 0

    assert notices() == [("agent-a", "sla_due_soon")]
    notice = Notice.objects.get()
    assert (notice.due_at, notice.data["clock"]) == (due, "first_response")
    assert describe(notice).startswith(
        f"The first response on case {claimed.tracking_number} is due at ")


def test_an_overdue_clock_is_told_once_then_never_again(claimed):
    due = claimed.sla_due_at

    for minutes in range(1, 6):
        tell_clocks(due + timedelta(minutes=minutes))

    assert notices() == [("agent-a", "sla_overdue")]
    assert "overdue" in describe(Notice.objects.get())


def test_a_new_deadline_is_a_new_clock_told_again(claimed, staff):
    first_due = claimed.sla_due_at
    tell_clocks(first_due + timedelta(minutes=1))
    # the agent answers: the first response is done, the decision's clock is what is owed
    case = actions.post_message(claimed, actor=staff["agent-a"], body="Looking.",
                                now=first_due + timedelta(minutes=2)).case
    case = RefundCase.objects.get(pk=case.pk)
    assert case.sla_due_at == case.review_due != first_due

    tell_clocks(case.sla_due_at + timedelta(minutes=1))

    assert notices() == [("agent-a", "sla_overdue"), ("agent-a", "sla_overdue")]
    assert [notice.data["clock"] for notice in Notice.objects.order_by("id")] == [
        "first_response", "decision"]


def test_unassigned_cases_tell_nobody(reviewed, staff):
    tell_clocks(reviewed.sla_due_at + timedelta(minutes=1))

    assert notices() == []


def test_the_sweep_tells_the_assignee_before_it_escalates_the_overdue_review(claimed, staff):
    # given the agent answered, so the decision's clock is what runs out
    case = actions.post_message(claimed, actor=staff["agent-a"], body="Looking.",
                                now=AFTER_FIVE_DAYS).case
    case = RefundCase.objects.get(pk=case.pk)

    result = sweep_deadlines(case.review_due + timedelta(minutes=1))

    assert (result.staff_told, result.escalated) == (1, 1)
    assert notices() == [("agent-a", "sla_overdue")]
    assert RefundCase.objects.get(pk=case.pk).assignee is None
    # and the next minute's sweep tells nobody again
    assert sweep_deadlines(case.review_due + timedelta(minutes=2)).staff_told == 0
