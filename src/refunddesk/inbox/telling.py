"""tell(...): write notices for staff in the caller's transaction, and queue the e-mails of
those who want them at once (through the one outbox, notifications/outbox.py).

Written with the change they report: a rolled-back change tells nobody, a committed one is
never forgotten. The person who made the change is never told of it (assigning oneself a
case is not news), nor is anyone no longer active staff.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction

from refunddesk.inbox.models import EmailMode, Notice, NoticeKind, Preference
from refunddesk.notifications.outbox import notify_staff

if TYPE_CHECKING:
    from refunddesk.cases.models import RefundCase
    from refunddesk.payouts.models import Payout


def _people(recipients: Iterable[User | None], actor: object) -> list[User]:
    acting = getattr(actor, "pk", None)
    seen: dict[int, User] = {}
    for user in recipients:
        if (user is None or user.pk is None or user.pk == acting or not user.is_active
                or not user.is_staff):
            continue
        seen.setdefault(user.pk, user)
    return list(seen.values())


def tell(recipients: Iterable[User | None], kind: NoticeKind, *, now: datetime,
         actor: object = None, case: RefundCase | None = None, payout: Payout | None = None,
         data: dict[str, Any] | None = None,
         due_at: datetime | None = None) -> list[Notice]:
    """Tell each of `recipients` (staff users) of `kind` about `case` (or `payout`).

    With `due_at` (an SLA clock) a recipient is told once per case, kind and deadline: a
    notice already written is left alone and nothing is written again."""
    kind = NoticeKind(kind)  # a misspelt kind fails the caller's transaction
    people = _people(recipients, actor)
    if not people:
        return []
    preferences = {preference.user_id: preference for preference in
                   Preference.objects.filter(user__in=[user.pk for user in people])}
    # A payout's notice is about its case too; its id is enough.
    case_id = case.pk if case is not None else getattr(payout, "case_id", None)
    told: list[tuple[Notice, User, Preference]] = []
    for user in people:
        preference = preferences.get(user.pk) or Preference(user=user)
        notice = Notice(recipient=user, kind=kind, case_id=case_id, payout=payout,
                        data=data or {}, due_at=due_at, created_at=now,
                        is_for_digest=preference.email == EmailMode.DIGEST)
        told.append((notice, user, preference))
    if due_at is None:
        Notice.objects.bulk_create([notice for notice, _, _ in told])
    else:
        told = [entry for entry in told if _written_once(entry[0])]
    notify_staff([(notice, user.email, preference.language) for notice, user, preference
                  in told if preference.email == EmailMode.AT_ONCE])
    return [notice for notice, _, _ in told]


def _written_once(notice: Notice) -> bool:
    """Write the notice unless its twin exists (another sweep wrote it first)."""
    if Notice.objects.filter(recipient=notice.recipient, case_id=notice.case_id, kind=notice.kind,
                             due_at=notice.due_at).exists():
        return False
    try:
        with transaction.atomic():
            notice.save(force_insert=True)
    except IntegrityError:
        return False  # written by a concurrent sweep since the look above
    return True
