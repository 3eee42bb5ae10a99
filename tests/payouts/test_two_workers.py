"""Two workers at once on PostgreSQL: each takes its own payouts (SKIP LOCKED), so none is
sent twice, and together they pay every one.

Real concurrency needs real row locks and two connections, so this runs on PostgreSQL
(CI runs the suite there too)."""

import io
import threading

import pytest
from django.core.management import call_command
from django.db import connection

from refunddesk.cases.models import RefundCase
from refunddesk.payouts.models import Payout, PayoutState
from refunddesk.payouts.runner import run_pass

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL"),
    pytest.mark.django_db(transaction=True),
]


def test_two_workers_at_once_send_every_payout_exactly_once(sandbox_gateway):
    # given 300 approved payouts due now
    call_command("seed_payouts", count=300, stdout=io.StringIO())
    start = threading.Barrier(2)
    taken: list[int] = []

    def worker():
        from django.db import connection as thread_connection

        try:
            start.wait()
            while (result := run_pass(limit=20)).taken:
                taken.append(result.taken)
        finally:
            thread_connection.close()

    # when two workers pass over them at the same moment, in small batches
    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    # then every payout was taken once and sent once: one request per key at the sandbox
    assert sum(taken) == 300
    refunds = sandbox_gateway().refunds()
    assert len(refunds) == 300 and {r.requests for r in refunds} == {1}
    assert set(Payout.objects.values_list("state", flat=True)) == {PayoutState.SUCCEEDED}
    assert set(RefundCase.objects.values_list("state", flat=True)) == {"refunded"}
