"""The audit trail's event types are one closed list, each with the words staff and
customers read, and every move of the state table writes one of them."""

from datetime import timedelta

import pytest
from django.utils import translation

from refunddesk.cases import actions
from refunddesk.cases.actors import customer_of
from refunddesk.cases.events import (
    CUSTOMER_LABELS,
    EVENT_FOR_TRANSITION,
    CaseEventType,
    customer_label,
    staff_label,
)
from refunddesk.cases.models import CaseEvent
from refunddesk.cases.states import TRANSITIONS
from tests.cases.conftest import AFTER_FIVE_DAYS
from tests.cases.decision_builders import case_in_review
from tests.cases.test_actions import pdf
from tests.staff import rejection_reason, staff_member

LATER = AFTER_FIVE_DAYS + timedelta(hours=1)


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_every_event_type_has_a_staff_label_and_says_what_the_customer_reads(language):
    with translation.override(language):
        for event_type in CaseEventType:
            assert staff_label(event_type) and staff_label(event_type) != event_type.value
            assert event_type in CUSTOMER_LABELS  # a label, or None: staff only
            if CUSTOMER_LABELS[event_type] is not None:
                assert customer_label(event_type)


def test_every_move_of_the_state_table_writes_an_event_of_the_list():
    moves = {action for (_state, action) in TRANSITIONS}

    assert moves == set(EVENT_FOR_TRANSITION)
    assert all(isinstance(kind, CaseEventType) for kind in EVENT_FOR_TRANSITION.values())


def test_labels_are_translated_not_raw_values():
    with translation.override("zh-hans"):
        assert staff_label("approved") == "已批准"
        assert customer_label("rejected") == "未获批准"


def test_an_unknown_event_type_reads_as_words_and_staff_only_types_show_nothing_to_customers():
    assert staff_label("something_old") == "something old"
    assert customer_label("note_added") == ""
    assert customer_label("something_old") == ""


# Each action on a case in review, by whom it is done, and the one event type it declares.
DECLARED = {
    "approve": (lambda case, staff, customer: actions.approve(case, actor=staff, now=LATER),
                CaseEventType.APPROVED),
    "reject": (lambda case, staff, customer: actions.reject(
        case, actor=staff, reason=rejection_reason(), message="No.", now=LATER),
        CaseEventType.REJECTED),
    "request_info": (lambda case, staff, customer: actions.request_info(
        case, actor=staff, questions="Receipt?", due=LATER + timedelta(days=3), now=LATER),
        CaseEventType.INFORMATION_REQUESTED),
    "claim": (lambda case, staff, customer: actions.claim(case, actor=staff, now=LATER),
              CaseEventType.ASSIGNED),
    "escalate": (lambda case, staff, customer: actions.escalate(
        case, actor=staff, reason="Large.", now=LATER), CaseEventType.ESCALATED),
    "message": (lambda case, staff, customer: actions.post_message(
        case, actor=staff, body="On it.", now=LATER), CaseEventType.MESSAGE_POSTED),
    "note": (lambda case, staff, customer: actions.post_message(
        case, actor=staff, body="Checked.", is_internal=True, now=LATER),
        CaseEventType.NOTE_ADDED),
    "withdraw": (lambda case, staff, customer: actions.withdraw(
        case, actor=customer, now=LATER), CaseEventType.WITHDRAWN),
    "add_documents": (lambda case, staff, customer: actions.add_documents(
        case, actor=customer, uploads=[pdf()], now=LATER), CaseEventType.DOCUMENTS_ADDED),
}


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(DECLARED))
def test_every_action_writes_exactly_one_event_of_its_declared_type(order, name, tmp_path,
                                                                    settings):
    settings.MEDIA_ROOT = tmp_path
    case = case_in_review(order)
    before = set(CaseEvent.objects.filter(case=case).values_list("pk", flat=True))
    run, declared = DECLARED[name]

    run(case, staff_member("reviewer-events", "reviewer"), customer_of(case.account))

    written = CaseEvent.objects.filter(case=case).exclude(pk__in=before)
    assert [event.action for event in written] == [declared]


@pytest.mark.django_db
def test_a_misspelt_event_type_fails_the_change_that_writes_it(order):
    from refunddesk.cases.actions.base import event

    case = case_in_review(order)
    with pytest.raises(ValueError):
        event(case, "aproved", actor=staff_member("reviewer-typo", "reviewer"),
              before=case.state, now=LATER)
