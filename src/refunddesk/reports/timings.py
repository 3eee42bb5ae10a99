"""Each case's service times in business hours, read from its events into CaseTiming.

A median of "hours to a decision" counted on business days cannot be asked of the
database directly (the calendar is Python's: make-up working days, holidays admins keep),
so the worker works each case's times out once, when its events change, and the reports
take medians of the stored figures in SQL. The times follow the SLA clocks (cases/sla.py):
business-day time on the policy's calendar, in its time zone, with the time the desk waited
for the customer (awaiting_customer) left out.

  first response  submission → the first answer the customer saw (`first_responded_at`)
  decision        submission → the first approval or rejection
  money back      submission → every payout arrived (refunded)

Events are read with an overlap behind the mark, because a transaction that began earlier
may commit its events after a later one's: computing a case again gives the same row.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.db.models import F, QuerySet

from refunddesk.calendars.reading import calendar_for
from refunddesk.cases.models import CaseEvent, RefundCase
from refunddesk.cases.states import State
from refunddesk.policies.store import policy_by_ref
from refunddesk.policy.business_days import BusinessCalendar
from refunddesk.reports.models import CaseTiming, TimingMark

log = logging.getLogger(__name__)

BATCH = 1000
# How far behind the mark events are read again (see above).
OVERLAP = timedelta(minutes=10)
# Cases worked out per call while the timings of existing cases are filled in, so one pass
# of the worker's periodic thread stays short.
BACKFILL_PER_CALL = 20_000

DECISION_STATES = frozenset({State.APPROVED, State.REJECTED})


def state_changes() -> QuerySet[CaseEvent]:
    """The events that move a case from one state to another (notes, messages and
    assignments leave the state as it was); written as the condition of the index that
    holds them (cases.CaseEvent, case_event_move)."""
    return CaseEvent.objects.exclude(to_state="").exclude(to_state=F("from_state"))


@dataclass(frozen=True)
class Clock:
    calendar: BusinessCalendar
    tz: ZoneInfo

    def between(self, start: datetime, end: datetime) -> int:
        if end <= start:
            return 0
        return int(self.calendar.business_time_between(start, end, self.tz).total_seconds())


@dataclass(frozen=True)
class Step:
    at: datetime
    from_state: str
    to_state: str


def _clock_for(policy_ref: str, clocks: dict[str, Clock]) -> Clock:
    clock = clocks.get(policy_ref)
    if clock is None:
        try:
            policy = policy_by_ref(policy_ref)
            clock = Clock(calendar_for(policy.calendar), ZoneInfo(policy.time_zone))
        except Exception:  # a version since removed: count on the weekday rule, in UTC
            log.warning("case timings: policy %s not found; weekdays used", policy_ref)
            clock = Clock(calendar_for("none"), ZoneInfo("UTC"))
        clocks[policy_ref] = clock
    return clock


def timing_of(case_id: int, submitted_at: datetime, first_responded_at: datetime | None,
              steps: Sequence[Step], clock: Clock, now: datetime) -> CaseTiming:
    """A case's times from its state changes, in order."""
    waited = 0  # business seconds spent waiting for the customer so far
    paused_since: datetime | None = None
    decision = money_back = None
    for step in steps:
        if step.to_state == State.AWAITING_CUSTOMER and paused_since is None:
            paused_since = step.at
        elif step.from_state == State.AWAITING_CUSTOMER and paused_since is not None:
            waited += clock.between(paused_since, step.at)
            paused_since = None
        if step.to_state in DECISION_STATES and decision is None:
            decision = clock.between(submitted_at, step.at) - waited
        if step.to_state == State.REFUNDED and money_back is None:
            money_back = clock.between(submitted_at, step.at) - waited
    first_response = (None if first_responded_at is None
                      else clock.between(submitted_at, first_responded_at))
    return CaseTiming(case_id=case_id, submitted_at=submitted_at,
                      first_response_seconds=first_response,
                      decision_seconds=None if decision is None else max(decision, 0),
                      money_back_seconds=None if money_back is None else max(money_back, 0),
                      refreshed_at=now)


def compute(case_ids: Sequence[int], now: datetime, clocks: dict[str, Clock] | None = None
            ) -> int:
    """Work out and store the timings of these cases; returns how many."""
    clocks = {} if clocks is None else clocks
    cases = list(RefundCase.objects.filter(pk__in=case_ids)
                 .values_list("pk", "submitted_at", "first_responded_at", "policy_ref"))
    steps: dict[int, list[Step]] = {}
    for case_id, at, from_state, to_state in (
            state_changes().filter(case_id__in=case_ids).order_by("case_id", "at", "id")
            .values_list("case_id", "at", "from_state", "to_state")):
        steps.setdefault(case_id, []).append(Step(at, from_state, to_state))
    rows = [timing_of(pk, submitted, responded, steps.get(pk, ()), _clock_for(ref, clocks), now)
            for pk, submitted, responded, ref in cases]
    CaseTiming.objects.bulk_create(
        rows, update_conflicts=True, unique_fields=["case"],
        update_fields=["submitted_at", "first_response_seconds", "decision_seconds",
                       "money_back_seconds", "refreshed_at"])
    return len(rows)


def _chunks(ids: Iterable[int], size: int = BATCH) -> Iterable[list[int]]:
    chunk: list[int] = []
    for case_id in ids:
        chunk.append(case_id)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def refresh_timings(now: datetime) -> int:
    """Bring CaseTiming up to date with the events written since the last call; the first
    calls fill in the existing cases, BACKFILL_PER_CALL at a time. Returns the cases
    worked out.

    No transaction spans the work: two workers doing it at once compute the same rows
    twice, which changes nothing, and a long write transaction would stop the desk's own
    writes on SQLite."""
    mark, _ = TimingMark.objects.get_or_create(pk=1, defaults={"backfill_after": 0})
    clocks: dict[str, Clock] = {}
    done = 0
    read_from = (mark.read_until or now) - OVERLAP
    backfill_after = mark.backfill_after
    if backfill_after is not None:
        ids = list(RefundCase.objects.filter(pk__gt=backfill_after).order_by("pk")
                   .values_list("pk", flat=True)[:BACKFILL_PER_CALL])
        for chunk in _chunks(ids):
            done += compute(chunk, now, clocks)
        backfill_after = ids[-1] if len(ids) == BACKFILL_PER_CALL else None
    changed = list(CaseEvent.objects.filter(at__gte=read_from)
                   .values_list("case_id", flat=True).distinct())
    for chunk in _chunks(changed):
        done += compute(chunk, now, clocks)
    TimingMark.objects.filter(pk=mark.pk).update(read_until=now, backfill_after=backfill_after)
    return done
