"""A notice is unread until opened; marking read touches only one's own notices."""

from datetime import datetime, timedelta

import pytest

from refunddesk.inbox.models import NoticeKind
from refunddesk.inbox.reading import mark_all_read, mark_read, notices_of, unread_count
from refunddesk.inbox.telling import tell

pytestmark = pytest.mark.django_db

AT = datetime.fromisoformat("2026-06-04T10:00:00+00:00")


def test_a_notice_is_unread_until_it_is_marked_read(reviewed, staff):
    agent = staff["agent-a"]
    [notice] = tell([agent], NoticeKind.ASSIGNED, case=reviewed, now=AT)
    assert (notice.is_read, unread_count(agent)) == (False, 1)

    mark_read(notice, now=AT + timedelta(minutes=1))
    mark_read(notice, now=AT + timedelta(minutes=2))  # read once: the first time stays

    notice.refresh_from_db()
    assert (notice.read_at, unread_count(agent)) == (AT + timedelta(minutes=1), 0)


def test_marking_all_read_leaves_colleagues_notices_unread(reviewed, staff):
    tell([staff["agent-a"], staff["agent-b"]], NoticeKind.ASSIGNED, case=reviewed, now=AT)
    tell([staff["agent-a"]], NoticeKind.CUSTOMER_ANSWERED, case=reviewed, now=AT)

    assert mark_all_read(staff["agent-a"], now=AT) == 2

    assert unread_count(staff["agent-a"]) == 0
    assert unread_count(staff["agent-b"]) == 1
    assert notices_of(staff["agent-a"], is_unread_only=True).count() == 0
    assert notices_of(staff["agent-a"]).count() == 2


def test_a_visitor_has_nothing_unread():
    from django.contrib.auth.models import AnonymousUser

    assert unread_count(AnonymousUser()) == 0
