"""Service times in business hours, kept by the worker from the cases' events."""

from __future__ import annotations

from datetime import timedelta

import pytest

from refunddesk.cases.events import CaseEventType
from refunddesk.cases.models import CaseEvent
from refunddesk.reports import timings
from refunddesk.reports.models import CaseTiming, TimingMark
from refunddesk.reports.percentile import interpolated
from refunddesk.reports.timings import refresh_timings
from tests.reports.desk import NOW, at, build

pytestmark = pytest.mark.django_db

HOUR = 3600


def test_times_count_business_hours_across_a_holiday_and_leave_out_waiting():
    desk = build()
    refresh_timings(NOW)
    a = CaseTiming.objects.get(case=desk.cases["A"])
    # Fri 10:00 → Tue 10:00 over Qingming (4–6 April off): 14 + 10 hours.
    assert (a.first_response_seconds, a.decision_seconds, a.money_back_seconds) == (
        2 * HOUR, 24 * HOUR, 48 * HOUR)
    b = CaseTiming.objects.get(case=desk.cases["B"])
    # 29 hours to the decision, 24 of them waiting for the customer's material.
    assert (b.decision_seconds, b.money_back_seconds) == (5 * HOUR, 6 * HOUR)
    e = CaseTiming.objects.get(case=desk.cases["E"])
    assert (e.first_response_seconds, e.decision_seconds, e.money_back_seconds) == (
        None, None, None)


def test_the_first_calls_fill_in_existing_cases_a_batch_at_a_time(monkeypatch):
    build()
    monkeypatch.setattr(timings, "BACKFILL_PER_CALL", 4)
    refresh_timings(NOW)
    assert CaseTiming.objects.count() == 4
    assert TimingMark.objects.get().backfill_after is not None
    refresh_timings(NOW)
    assert CaseTiming.objects.count() == 7
    assert TimingMark.objects.get().backfill_after is None


def test_later_calls_work_out_only_the_cases_whose_events_came_since():
    desk = build()
    refresh_timings(NOW)
    e = desk.cases["E"]
    later = NOW + timedelta(hours=3)
    e.first_responded_at = at(9, 11)
    e.save()
    CaseEvent.objects.create(case=e, at=later, action=CaseEventType.MESSAGE_POSTED,
                             actor_kind="staff")
    assert refresh_timings(later) == 1
    assert CaseTiming.objects.get(case=e).first_response_seconds == HOUR
    # Nothing new: the overlap behind the mark reads the same event again, and computes the
    # same row; once the mark has moved past it, the case is left alone.
    assert refresh_timings(later + timedelta(minutes=1)) == 1
    assert refresh_timings(later + timedelta(hours=1)) == 1
    assert refresh_timings(later + timedelta(hours=2)) == 0


def test_the_sqlite_percentile_interpolates_like_postgresqls_percentile_cont():
    assert interpolated([], 0.5) is None
    assert interpolated([7.0], 0.9) == 7.0
    assert interpolated([1.0, 2.0, 10.0, 12.0], 0.5) == 6.0
    assert interpolated([1.0, 2.0, 10.0, 12.0], 0.9) == pytest.approx(11.4)
