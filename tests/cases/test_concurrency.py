"""Two applications for the same order line at the same moment: one case, one refusal.

Real concurrency needs real row locks and two connections, so this runs on PostgreSQL
(CI runs the suite there too)."""

import threading

import pytest
from django.db import connection

from refunddesk.cases import actions
from refunddesk.cases.actors import customer_of
from refunddesk.cases.models import CaseEvent, CaseLine, RefundCase
from tests.cases.conftest import AFTER_FIVE_DAYS

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL"),
    pytest.mark.django_db(transaction=True),
]


def test_two_simultaneous_applications_for_one_line_give_one_case_and_one_refusal(order):
    start = threading.Barrier(2)
    outcomes = []

    def apply():
        from django.db import connection as thread_connection

        try:
            start.wait()
            case = actions.submit(account=order.account, order=order, line_ids=["1"],
                                  actor=customer_of(order.account), channel="portal",
                                  now=AFTER_FIVE_DAYS)
            outcomes.append(("case", case.tracking_number))
        except actions.LinesAlreadyInCase as refusal:
            outcomes.append(("refused", str(refusal.message)))
        finally:
            thread_connection.close()

    threads = [threading.Thread(target=apply) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(kind for kind, _ in outcomes) == ["case", "refused"]
    assert RefundCase.objects.count() == 1
    assert CaseLine.objects.filter(holds_line=True).count() == 1
    assert CaseEvent.objects.filter(action="submitted").count() == 1


def test_two_agents_approving_one_case_at_once_give_one_decision_and_a_clear_message(order):
    # given a case in review and two agents, each allowed to approve it
    from refunddesk.cases.states import InvalidTransition
    from tests.cases.decision_builders import case_in_review
    from tests.staff import approval_limit, staff_member

    approval_limit("agent", "CNY", 100000)
    case = case_in_review(order)
    agents = [staff_member(f"agent-{n}", "agent") for n in (1, 2)]
    start = threading.Barrier(2)
    outcomes = []

    def approve(agent):
        from django.db import connection as thread_connection
        from django.utils import translation

        try:
            start.wait()
            actions.approve(case, actor=agent, now=AFTER_FIVE_DAYS)
            outcomes.append(("approved", agent.username))
        except InvalidTransition as refusal:
            with translation.override("en"):  # (a thread starts in the default language)
                outcomes.append(("refused", str(refusal.message)))
        finally:
            thread_connection.close()

    # when both approve at the same moment
    threads = [threading.Thread(target=approve, args=(agent,)) for agent in agents]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    # then one wins, the other is told the case is already approved, one decision recorded
    assert sorted(kind for kind, _ in outcomes) == ["approved", "refused"]
    refusal = next(text for kind, text in outcomes if kind == "refused")
    assert "now “Approved” and can no longer be approved" in refusal
    assert CaseEvent.objects.filter(case=case, action="approved").count() == 1
    assert RefundCase.objects.get(pk=case.pk).state == "approved"
