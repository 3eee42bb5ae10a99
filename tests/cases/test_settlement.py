"""Settlement is a case action: the payouts' states move their cases, each move with its
own event by the actor given (the payout runner), the batch in one transaction; a missing
actor or one not allowed to settle changes nothing."""

from datetime import timedelta

import pytest
from django.db import transaction

from refunddesk.cases import actions
from refunddesk.cases.actors import DEADLINES, PAYOUT_RUNNER
from refunddesk.cases.errors import NotPermitted
from refunddesk.cases.models import CaseEvent, RefundCase
from refunddesk.cases.states import State
from refunddesk.notifications.models import EmailDelivery
from refunddesk.payouts.models import Payout, PayoutState
from tests.cases.conftest import INSIDE_FIVE_DAYS
from tests.payouts.builders import approved_case

pytestmark = pytest.mark.django_db

LATER = INSIDE_FIVE_DAYS + timedelta(minutes=5)


def payouts_now(case: RefundCase, state: str) -> None:
    """The case's payouts reached `state` (as the worker records a provider's answer)."""
    Payout.objects.filter(case=case).update(state=state, next_attempt_at=None)


def events_of(case: RefundCase) -> list[tuple[str, str, str, str]]:
    return [(event.action, event.from_state, event.to_state, event.data.get("system", ""))
            for event in CaseEvent.objects.filter(case=case, at=LATER).order_by("id")]


def test_a_batch_of_paid_cases_is_settled_with_each_case_its_own_events():
    # given two approved cases whose payouts arrived, and one whose payout is still pending
    paid = [approved_case(reference=f"settle-{n}") for n in range(2)]
    waiting = approved_case(reference="settle-waiting")
    for case in paid:
        payouts_now(case, PayoutState.SUCCEEDED)

    # when the payout runner settles the three
    settled = actions.settle_cases([case.pk for case in [*paid, waiting]],
                                   actor=PAYOUT_RUNNER, now=LATER)

    # then each paid case went approved → paying → refunded, one event per move by the
    # payout runner, and its customer's "paid" mail is queued; the waiting case is as it was
    assert {case.pk for case in settled.refunded} == {case.pk for case in paid}
    for case in paid:
        case.refresh_from_db()
        assert case.state == State.REFUNDED
        assert events_of(case) == [
            ("payouts_submitted", "approved", "paying", "payout_runner"),
            ("all_settled", "paying", "refunded", "payout_runner")]
        assert EmailDelivery.objects.filter(case=case, kind="paid").count() == 1
    waiting.refresh_from_db()
    assert waiting.state == State.APPROVED and events_of(waiting) == []


def test_a_refused_payout_moves_its_case_to_payout_failed_with_the_reason():
    case = approved_case(reference="settle-refused")
    Payout.objects.filter(case=case).update(state=PayoutState.FAILED, next_attempt_at=None,
                                            last_error_code="expired_card")

    actions.settle_cases([case.pk], actor=PAYOUT_RUNNER, now=LATER)

    case.refresh_from_db()
    assert case.state == State.PAYOUT_FAILED
    [_submitted, failed] = CaseEvent.objects.filter(case=case, at=LATER).order_by("id")
    assert (failed.action, failed.data["error"]) == ("payout_failed", "expired_card")


def test_settling_again_changes_nothing_and_writes_no_event():
    case = approved_case(reference="settle-twice")
    payouts_now(case, PayoutState.SUCCEEDED)
    actions.settle_cases([case.pk], actor=PAYOUT_RUNNER, now=LATER)

    again = actions.settle_cases([case.pk], actor=PAYOUT_RUNNER, now=LATER)

    assert again.moved == [] and len(events_of(case)) == 2


@pytest.mark.parametrize("actor", [None, DEADLINES], ids=["no actor", "deadlines"])
def test_a_settlement_by_no_one_or_by_a_system_actor_not_allowed_to_changes_nothing(actor):
    # given a case whose payout arrived
    case = approved_case(reference="settle-refused-actor")
    payouts_now(case, PayoutState.SUCCEEDED)

    # when someone other than the payout runner settles it, it is refused
    with pytest.raises(NotPermitted), transaction.atomic():
        actions.settle_cases([case.pk], actor=actor, now=LATER)

    # and the case, its events and its mail are as they were
    case.refresh_from_db()
    assert case.state == State.APPROVED
    assert events_of(case) == []
    assert not EmailDelivery.objects.filter(case=case, kind="paid").exists()
