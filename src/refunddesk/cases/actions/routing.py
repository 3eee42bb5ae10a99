"""Who works a case: claim it, hand it to a colleague, escalate it to the reviewers.
None of these changes the case's state or anything the customer sees."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from refunddesk.cases import permissions
from refunddesk.cases.actions.base import locked, move, record
from refunddesk.cases.actors import Actor
from refunddesk.cases.errors import CaseError
from refunddesk.cases.events import CaseEventType
from refunddesk.cases.models import RefundCase
from refunddesk.cases.states import TERMINAL_STATES
from refunddesk.inbox.models import NoticeKind
from refunddesk.inbox.telling import tell


def _name(user: Any) -> str:
    return user.get_username() if user is not None else ""


def assign(case: RefundCase, *, actor: Actor, assignee: Any, now: datetime | None = None,
           is_claim: bool = False) -> RefundCase:
    """Give the case to `assignee` (a staff member who works cases), or None to put it back
    in the open queue."""
    now = now or timezone.now()
    permissions.require_work(actor)
    if assignee is not None and not permissions.can_work(assignee):
        raise CaseError(_("%(name)s does not work refund cases.") % {"name": _name(assignee)})
    with transaction.atomic():
        case = locked(case)
        if case.state in TERMINAL_STATES:
            raise CaseError(_("This case is finished; there is nothing to assign."))
        before = case.assignee
        # Checked under the lock: of two agents claiming at once, the second is told.
        if is_claim and before is not None and before.pk != assignee.pk:
            raise CaseError(_("Someone else has taken this case; reassign it if you mean "
                              "to."))
        if (before and before.pk) == (assignee and assignee.pk):
            return case
        case.assignee = assignee
        case.save(update_fields=["assignee", "updated_at"])
        record(case, CaseEventType.ASSIGNED, actor=actor, before=case.state, now=now, visible=False,
               data={"from": _name(before), "to": _name(assignee)})
        # Taking a case oneself tells nobody (tell() leaves out the actor).
        tell([assignee], NoticeKind.ASSIGNED, actor=actor, case=case, now=now,
             data={"by": _name(actor)})
    return case


def claim(case: RefundCase, *, actor: Actor, now: datetime | None = None) -> RefundCase:
    """Take the case for yourself. Someone else's case is not taken silently: reassign it."""
    return assign(case, actor=actor, assignee=actor, now=now, is_claim=True)


def escalate(case: RefundCase, *, actor: Actor, reason: str, assignee: Any = None,
             now: datetime | None = None) -> RefundCase:
    """Hand the case up to the reviewers: to one of them by name, or to their shared queue."""
    now = now or timezone.now()
    if not reason.strip():
        raise CaseError(_("Say why the case goes to a reviewer."))
    permissions.require_work(actor)
    if assignee is not None and not permissions.has(assignee, "hear_appeal"):
        raise CaseError(_("%(name)s is not a reviewer.") % {"name": _name(assignee)})
    with transaction.atomic():
        case = locked(case)
        before = move(case, "escalate")
        case.escalated_at, case.assignee = now, assignee
        case.save()
        record(case, CaseEventType.ESCALATED, actor=actor, before=before, now=now, visible=False,
               data={"reason": reason.strip(), "to": _name(assignee)})
        tell([assignee], NoticeKind.ASSIGNED, actor=actor, case=case, now=now,
             data={"by": _name(actor)})
    return case
