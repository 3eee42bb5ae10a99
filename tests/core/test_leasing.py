"""The claim-and-lease protocol every outbox shares (core/leasing.py), on each outbox's own
queue: payouts, e-mail, webhooks and stored inbound mail. A claimed row is nobody else's
until its lease runs out; then it is due again, and the late answer of the worker that
lost it is refused. On PostgreSQL, two workers claiming at the same moment never take the
same row, and a row another worker is claiming is skipped, not waited for. One wait
between attempts for all of them."""

from __future__ import annotations

import io
import threading
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.db.models import Model, QuerySet
from django.utils import timezone

from refunddesk.core.leasing import (
    Claim,
    RetryPolicy,
    backoff,
    claim_due,
    record_if_current,
    still_claimed,
    time_left,
)
from refunddesk.intake import processing
from refunddesk.intake.models import InboundMail
from refunddesk.notifications import sending, webhook_sending
from refunddesk.notifications.models import EmailDelivery, Kind, WebhookDelivery, WebhookEndpoint
from refunddesk.payouts import runner
from refunddesk.payouts.models import Payout
from tests.outside_probe import held_back

LEASE = timedelta(minutes=2)



def payouts(count: int) -> None:
    call_command("seed_payouts", count=count, stdout=io.StringIO())


def emails(count: int) -> None:
    now = timezone.now()
    EmailDelivery.objects.bulk_create(
        EmailDelivery(kind=Kind.STAFF_NOTICE, to_address=f"agent{n}@example.com",
                      language="en", created_at=now, next_attempt_at=now)
        for n in range(count))


def webhooks(count: int) -> None:
    now = timezone.now()
    endpoint = WebhookEndpoint.objects.create(url="https://hooks.example.com/", secret="s",
                                              events=["case.submitted"], created_at=now)
    WebhookDelivery.objects.bulk_create(
        WebhookDelivery(endpoint=endpoint, event_id=f"evt_{n}", event_type="case.submitted",
                        payload="{}", created_at=now, next_attempt_at=now)
        for n in range(count))


def inbound_mail(count: int) -> None:
    now = timezone.now()
    InboundMail.objects.bulk_create(
        InboundMail(message_key=f"m{n}@example.com", sha256="0" * 64, raw=f"mail/{n}.eml",
                    size=1, source="pipe", received_at=now, next_attempt_at=now)
        for n in range(count))


# Each outbox: how to fill its queue, the queue its worker claims from, its table.
OUTBOXES: dict[str, tuple[Callable[[int], None], Callable[[], QuerySet], type[Model]]] = {
    "payouts": (payouts, runner.waiting, Payout),
    "e-mail": (emails, sending.waiting, EmailDelivery),
    "webhooks": (webhooks, webhook_sending.waiting, WebhookDelivery),
    "inbound mail": (inbound_mail, processing.waiting, InboundMail),
}


@pytest.fixture(params=list(OUTBOXES))
def outbox(request):
    return OUTBOXES[request.param]


@pytest.mark.django_db
def test_a_claimed_row_is_nobody_elses_until_its_lease_runs_out(outbox):
    # given three due rows
    fill, waiting, model = outbox
    fill(3)
    now = timezone.now()

    # when a worker claims them
    first = claim_due(waiting(), now=now, lease=LEASE, limit=10)

    # then each has its attempt counted and is leased; another claim before the lease
    # runs out gets none of them
    assert len(first) == 3
    assert {(row.attempts, row.next_attempt_at) for row in first} == {(1, now + LEASE)}
    assert model.objects.filter(attempts=1, next_attempt_at=now + LEASE).count() == 3
    assert claim_due(waiting(), now=now + LEASE - timedelta(seconds=1), lease=LEASE,
                     limit=10) == []

    # when the lease has run out (the worker died, or is slow), another worker takes them
    second = claim_due(waiting(), now=now + LEASE, lease=LEASE, limit=10)
    assert {row.attempts for row in second} == {2}

    # then the first worker's late answer is refused, the second's is written
    late, current = Claim.of(first[0]), Claim.of(second[0])
    assert record_if_current(model, late, next_attempt_at=None) is False
    with transaction.atomic():
        assert still_claimed(model, [late]) == {}
        assert list(still_claimed(model, [current])) == [current.pk]
    assert record_if_current(model, current, next_attempt_at=None) is True


@pytest.mark.django_db
def test_a_claim_takes_the_rows_due_longest_first_up_to_its_limit(outbox):
    fill, waiting, model = outbox
    fill(5)
    now = timezone.now()
    rows = list(model.objects.order_by("pk"))
    for n, row in enumerate(rows):
        model.objects.filter(pk=row.pk).update(next_attempt_at=now - timedelta(minutes=n))
    model.objects.filter(pk=rows[0].pk).update(next_attempt_at=now + timedelta(minutes=1))

    taken = claim_due(waiting(), now=now, lease=LEASE, limit=3)

    assert [row.pk for row in taken] == [rows[4].pk, rows[3].pk, rows[2].pk]


@pytest.mark.parametrize("outbox_name", list(OUTBOXES))
@pytest.mark.postgres_only
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_two_workers_claiming_at_the_same_moment_never_take_the_same_row(outbox_name):
    # given 120 due rows
    fill, waiting, _model = OUTBOXES[outbox_name]
    fill(120)
    now = timezone.now()
    start = threading.Barrier(2)
    taken: list[list[int]] = [[], []]

    def worker(number: int) -> None:
        from django.db import connection as own_connection

        try:
            start.wait()
            while rows := claim_due(waiting(), now=now, lease=LEASE, limit=7):
                taken[number] += [row.pk for row in rows]
        finally:
            own_connection.close()

    # when two workers claim in small batches at the same moment until none is left
    threads = [threading.Thread(target=worker, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    # then every row was taken once, by one of them
    assert not set(taken[0]) & set(taken[1])
    assert len(taken[0]) + len(taken[1]) == 120


@pytest.mark.parametrize("outbox_name", list(OUTBOXES))
@pytest.mark.postgres_only
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_a_row_another_worker_is_claiming_is_skipped_not_waited_for(outbox_name):
    # given three due rows, one of them locked by another worker in the middle of its claim
    fill, waiting, model = OUTBOXES[outbox_name]
    fill(3)
    busy = model.objects.order_by("pk").first()
    locked, claimed = threading.Event(), threading.Event()

    def other_worker() -> None:
        from django.db import connection as own_connection

        try:
            with transaction.atomic():
                list(model.objects.select_for_update().filter(pk=busy.pk))
                locked.set()
                claimed.wait(timeout=20)
        finally:
            own_connection.close()

    other = threading.Thread(target=other_worker)
    other.start()
    assert locked.wait(timeout=20)

    # when this worker claims
    try:
        taken = claim_due(waiting(), now=timezone.now(), lease=LEASE, limit=10)
    finally:
        claimed.set()
        other.join(timeout=30)

    # then it took the two others at once, without waiting for the locked one
    assert sorted(row.pk for row in taken) == sorted(
        model.objects.exclude(pk=busy.pk).values_list("pk", flat=True))


@pytest.mark.django_db(transaction=True)
def test_the_outside_probe_sees_a_transaction_and_a_row_lock_the_worker_holds():
    # The stand-ins' check (tests/outside_probe.py) would catch a worker that holds on.
    emails(1)
    rows = EmailDelivery.objects.all()
    with transaction.atomic():
        list(rows.select_for_update())
        expected = ["a transaction is open"]
        if connection.vendor == "postgresql":
            expected.append("a row is locked")
        assert held_back(connection, rows) == expected
    assert held_back(connection, rows) == []


# -- one wait between attempts ----------------------------------------------------------------

MINUTE = timedelta(minutes=1)


def test_the_wait_doubles_from_the_first_up_to_the_longest():
    waits = [backoff(n, first=MINUTE, longest=timedelta(hours=4)) for n in range(1, 11)]
    assert waits == [timedelta(minutes=m) for m in (1, 2, 4, 8, 16, 32, 64, 128, 240, 240)]


def test_the_wait_honours_what_the_other_side_asked_up_to_the_longest():
    assert backoff(1, first=MINUTE, longest=timedelta(hours=1), at_least=90) == timedelta(
        seconds=90)
    assert backoff(1, first=MINUTE, longest=timedelta(hours=1),
                   at_least=float("inf")) == timedelta(hours=1)


def test_a_row_retried_for_ever_never_overflows_its_wait():
    assert backoff(10**6, first=MINUTE, longest=timedelta(hours=1)) == timedelta(hours=1)


def test_a_retry_policy_gives_up_after_its_last_attempt():
    policy = RetryPolicy(first=MINUTE, longest=timedelta(hours=1), max_attempts=3)
    assert [policy.is_exhausted(n) for n in (1, 2, 3)] == [False, False, True]
    assert not RetryPolicy(first=MINUTE, longest=MINUTE).is_exhausted(10**6)


def test_a_batch_has_time_for_its_next_row_only_within_most_of_its_lease(monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr("refunddesk.core.leasing.time.monotonic", lambda: clock[0])
    in_time = time_left(timedelta(seconds=100))

    assert in_time()
    clock[0] += 79.9
    assert in_time()
    clock[0] += 0.1  # four fifths of the lease: the rest is kept to record the outcome
    assert not in_time()
    assert not time_left(timedelta(0))()


def test_every_outbox_waits_by_the_same_function():
    # e-mail 1, 2, 4 … minutes; webhooks the same up to 4 hours; payouts from 30 seconds up
    # to an hour (settings); stored mail from a minute
    assert [sending.retry_delay(n) for n in (1, 2, 3)] == [MINUTE, 2 * MINUTE, 4 * MINUTE]
    assert webhook_sending.retry_delay(20) == timedelta(hours=4)
    assert runner.retry_delay(1) == timedelta(seconds=30)
    assert processing.RETRY.delay(2) == 2 * MINUTE
