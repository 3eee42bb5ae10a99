"""Two workers at the same moment: one digest per recipient and hour, one SLA notice per
case and deadline. Real concurrency needs two connections and real locks, so this runs on
PostgreSQL (CI runs the suite there too)."""

import threading
from datetime import datetime, timedelta

import pytest
from django.db import connection

from refunddesk.cases import actions
from refunddesk.inbox.clocks import tell_clocks
from refunddesk.inbox.digests import send_digests
from refunddesk.inbox.models import Notice, NoticeKind
from refunddesk.inbox.telling import tell
from refunddesk.notifications.models import EmailDelivery, Kind
from tests.cases.conftest import AFTER_FIVE_DAYS

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL"),
    pytest.mark.django_db(transaction=True),
]

TEN = datetime.fromisoformat("2026-06-04T10:00:00+00:00")


def at_once(work, count=2):
    """Run `work()` in `count` threads released together; their results."""
    start = threading.Barrier(count)
    results = []

    def run():
        from django.db import connection as thread_connection

        try:
            start.wait()
            results.append(work())
        finally:
            thread_connection.close()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_two_workers_sending_the_hours_digests_at_once_send_each_once(reviewed, staff):
    for name in ("agent-a", "agent-b", "reviewer-a"):
        tell([staff[name]], NoticeKind.ASSIGNED, case=reviewed,
             now=TEN + timedelta(minutes=5), data={"by": "admin-a"})

    results = at_once(lambda: send_digests(TEN + timedelta(hours=1, seconds=30)))

    assert sum(results) == 3
    digests = EmailDelivery.objects.filter(kind=Kind.STAFF_DIGEST)
    assert sorted(digests.values_list("to_address", flat=True)) == [
        "agent-a@staff.example", "agent-b@staff.example", "reviewer-a@staff.example"]
    assert not Notice.objects.filter(digest__isnull=True).exists()


def test_two_sweeps_at_once_tell_an_overdue_clock_once(reviewed, staff):
    case = actions.claim(reviewed, actor=staff["agent-a"], now=AFTER_FIVE_DAYS)

    results = at_once(lambda: tell_clocks(case.sla_due_at + timedelta(minutes=1)))

    assert sum(results) == 1
    assert Notice.objects.filter(kind=NoticeKind.SLA_OVERDUE).count() == 1
