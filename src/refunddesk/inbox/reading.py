"""A staff member reads their own notices: the inbox, its unread count, marking read.
Nobody reads or marks another's notices: every query starts from the recipient."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib.auth.models import User
from django.db.models import QuerySet

from refunddesk.inbox.models import Notice


def notices_of(user: Any, *, is_unread_only: bool = False) -> QuerySet[Notice]:
    found = Notice.objects.filter(recipient=user).select_related("case")
    return found.filter(read_at__isnull=True) if is_unread_only else found


def unread_count(user: object) -> int:
    """One COUNT on the partial index of unread notices (the header asks on every page)."""
    if not isinstance(user, User):  # anonymous, or no request: no inbox
        return 0
    return Notice.objects.filter(recipient=user, read_at__isnull=True).count()


def mark_read(notice: Notice, *, now: datetime) -> None:
    if notice.read_at is None:
        Notice.objects.filter(pk=notice.pk, read_at__isnull=True).update(read_at=now)
        notice.read_at = now


def mark_all_read(user: Any, *, now: datetime) -> int:
    return Notice.objects.filter(recipient=user, read_at__isnull=True).update(read_at=now)
