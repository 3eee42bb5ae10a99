"""What happens when a clock runs out, done by the system (actor DEADLINES). Each function
re-checks the case under its lock and does nothing if the deadline no longer applies, so
the periodic sweep may run in several workers at once, or twice, safely."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from refunddesk.cases import permissions, sla
from refunddesk.cases.actions.base import locked, move, record
from refunddesk.cases.actors import Actor
from refunddesk.cases.events import CaseEventType
from refunddesk.cases.models import RefundCase
from refunddesk.cases.states import State
from refunddesk.notifications.outbox import notify


def close_after_info_deadline(case: RefundCase, *, actor: Actor, now: datetime) -> bool:
    """The customer did not send what was asked by the deadline: close with a notice."""
    permissions.require_system(actor, CaseEventType.CLOSED_INFO_DEADLINE)
    with transaction.atomic():
        case = locked(case)
        if (case.state != State.AWAITING_CUSTOMER or case.info_due is None
                or case.info_due >= now):
            return False
        before = move(case, "info_deadline_passed")
        missed = case.info_due
        case.sla_paused_at = None
        sla.refresh(case)
        case.save()
        record(case, CaseEventType.CLOSED_INFO_DEADLINE, actor=actor, before=before, now=now,
               data={"due": missed.isoformat()})
        notify(case, "closed")
    return True


def close_after_appeal_window(case: RefundCase, *, actor: Actor, now: datetime) -> bool:
    """A rejection nobody appealed in time becomes final."""
    permissions.require_system(actor, CaseEventType.CLOSED_APPEAL_WINDOW)
    with transaction.atomic():
        case = locked(case)
        if case.state != State.REJECTED:
            return False
        closes = case.appeal_closes_at
        if closes is None or closes >= now:
            return False
        before = move(case, "appeal_window_passed")
        case.save()
        record(case, CaseEventType.CLOSED_APPEAL_WINDOW, actor=actor, before=before, now=now,
               data={"closed": closes.isoformat()})
        # Told, with where they may turn now: the desk's part is over.
        notify(case, "decision_final")
    return True


def escalate_overdue(case: RefundCase, *, actor: Actor, now: datetime) -> bool:
    """A case in review past its due time goes to the reviewers' queue (once)."""
    permissions.require_system(actor, CaseEventType.ESCALATED)
    with transaction.atomic():
        case = locked(case)
        due = case.sla_due_at  # a case without a due time is never overdue
        if (case.state != State.IN_REVIEW or case.escalated_at is not None or due is None
                or not sla.is_overdue(case, now)):
            return False
        before = move(case, "escalate")
        # To the reviewers' shared queue, as a manual escalation without a name does.
        previous = case.assignee.get_username() if case.assignee else ""
        case.escalated_at, case.assignee = now, None
        case.save()
        record(case, CaseEventType.ESCALATED, actor=actor, before=before, now=now, visible=False,
               data={"reason": "overdue", "due": due.isoformat(),
                     "from": previous})
    return True
