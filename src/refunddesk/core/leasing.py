"""One way for every outbox to take its work: payouts (payouts/runner.py), e-mail
(notifications/sending.py), webhooks (notifications/webhook_sending.py), stored inbound
e-mail (intake/processing.py) and mass compensation runs (compensation/running.py, whose
worker renews its lease with each customer). Each outbox is a table whose rows carry `attempts` and
`next_attempt_at` (None: nothing left to do); a row is due once `next_attempt_at` has come.

1. Claim, in a short transaction: take due rows (`SELECT … FOR UPDATE SKIP LOCKED` on
   PostgreSQL, so a second worker takes other rows instead of waiting for these), count
   the attempt and move `next_attempt_at` forward by a lease; commit. The attempt count
   after the claim is the claim's fencing token. SQLite has no row locks, but its
   transactions begin IMMEDIATE (settings.py): a claim holds the database's write lock from
   its first statement, so two claims never see the same row as due.
2. Work: talk to the outside (a gateway, an SMTP server, a webhook receiver) with no
   transaction open and no lock held.
3. Record, in a short transaction: only while the claim is still ours, i.e. the row's
   attempt count is still the claim's. A worker that was too slow (its lease ran out and
   another worker took the row) has its answer dropped; the newer one counts.

A worker that dies at any moment leaves its rows claimed until the lease runs out; they
are then due again, and the next claim takes them: crash safety needs nothing else, only
a lease longer than the work can take.

One wait between attempts for all of them: `RetryPolicy` (doubling from a first wait, up
to a longest wait, never shorter than what the other side asked for).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from django.db import models, transaction
from django.db.models import F

M = TypeVar("M", bound=models.Model)


@dataclass(frozen=True)
class Claim:
    """A worker's hold on one row: its id and its attempt count right after the claim."""

    pk: int
    attempt: int

    @classmethod
    def of(cls, row: Any) -> Claim:
        return cls(row.pk, row.attempts)


def claim_due(waiting: models.QuerySet[M], *, now: datetime, lease: timedelta,
              limit: int, order: Iterable[str] = ("next_attempt_at", "pk")) -> list[M]:
    """Take up to `limit` rows of `waiting` that are due at `now`, for one worker, in one
    short transaction; the rows as claimed (their `attempts` counted, their
    `next_attempt_at` the end of the lease). Rows another worker is claiming at this very
    moment are skipped, not waited for."""
    model = waiting.model
    with transaction.atomic():
        rows = list(waiting.select_for_update(skip_locked=True, of=("self",))
                    .filter(next_attempt_at__lte=now).order_by(*order)[:limit])
        if not rows:
            return []
        until = now + lease
        model._default_manager.filter(pk__in=[row.pk for row in rows]).update(
            next_attempt_at=until, attempts=F("attempts") + 1)
    for row in rows:
        row.attempts += 1  # type: ignore[attr-defined]
        row.next_attempt_at = until  # type: ignore[attr-defined]
    return rows


def still_claimed(model: type[M], claims: Iterable[Claim],
                  queryset: models.QuerySet[M] | None = None) -> dict[int, M]:
    """Inside the recording transaction: the claimed rows that are still ours, locked
    (in id order, as every batch locks them), by id. Missing: taken by another worker
    since (or deleted)."""
    held = {claim.pk: claim.attempt for claim in claims}
    rows = (queryset if queryset is not None else model._default_manager.all())
    locked = rows.select_for_update(of=("self",)).filter(pk__in=list(held)).order_by("pk")
    return {row.pk: row for row in locked if row.attempts == held[row.pk]}  # type: ignore[attr-defined]


def record_if_current(model: type[models.Model], claim: Claim, **changes: Any) -> bool:
    """Write `changes` onto the claimed row if the claim is still ours, in one UPDATE (its
    WHERE is the check, so no lock is needed); whether it was."""
    return bool(model._default_manager.filter(pk=claim.pk, attempts=claim.attempt)
                .update(**changes))


def release(model: type[models.Model], claim: Claim, now: datetime) -> bool:
    """Give a claimed row back untouched, due again at once (the work was not started)."""
    return record_if_current(model, claim, next_attempt_at=now)


def time_left(lease: timedelta) -> Callable[[], bool]:
    """For a batch claimed just now: whether there is still time to start on its next row.
    Most of the lease, the rest a margin to record the outcome: a batch kept past its
    lease would be taken by another worker and its rows worked twice. What is left when
    time is up goes back to the queue untouched (`release`)."""
    deadline = time.monotonic() + 0.8 * lease.total_seconds()
    return lambda: time.monotonic() < deadline


def backoff(attempts: int, *, first: timedelta, longest: timedelta,
            at_least: float | None = None) -> timedelta:
    """The wait after the `attempts`-th attempt: `first`, doubling with each attempt, at
    most `longest`; never less than `at_least` seconds (what the other side asked for: a
    Retry-After, which may say "inf"), itself honoured only up to `longest`."""
    # The exponent is capped: a row retried for weeks must not overflow the float.
    seconds = min(first.total_seconds() * 2 ** min(max(attempts - 1, 0), 30),
                  longest.total_seconds())
    if at_least is not None:
        seconds = min(max(seconds, at_least), longest.total_seconds())
    return timedelta(seconds=seconds)


@dataclass(frozen=True)
class RetryPolicy:
    """How an outbox retries: the waits of `backoff`, and how many attempts it makes
    before giving up (None: it decides otherwise, e.g. by a deadline)."""

    first: timedelta
    longest: timedelta
    max_attempts: int | None = None

    def delay(self, attempts: int, at_least: float | None = None) -> timedelta:
        return backoff(attempts, first=self.first, longest=self.longest, at_least=at_least)

    def next_attempt_at(self, attempts: int, now: datetime,
                        at_least: float | None = None) -> datetime:
        return now + self.delay(attempts, at_least)

    def is_exhausted(self, attempts: int) -> bool:
        return self.max_attempts is not None and attempts >= self.max_attempts
