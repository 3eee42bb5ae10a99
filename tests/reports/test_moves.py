"""The worker's daily counts of state changes (reports/moves.py) give the backlog the same
figures as the events they were counted from, and are used only where they hold."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import translation

from refunddesk.reports import catalogue, moves
from refunddesk.reports.filters import ReportFilters
from refunddesk.reports.models import DailyMoves, MovesMark
from refunddesk.reports.timings import refresh_timings
from tests.reports.desk import CST, NOW, build

pytestmark = pytest.mark.django_db

@pytest.fixture(autouse=True)
def desk_in_shanghai(settings):
    settings.TIME_ZONE = "Asia/Shanghai"
    with translation.override("en"):
        yield


@pytest.fixture
def desk():
    made = build()
    refresh_timings(NOW)
    return made


def backlog(desk, **filters):
    return catalogue.table("backlog", desk.context(**filters)).rows


def roll_all(now):
    days = 0
    while rolled := moves.roll_moves(now):
        days += rolled
    return days


def test_the_backlog_is_the_same_from_the_counts_as_from_the_events(desk):
    from_events = backlog(desk)
    assert roll_all(NOW) == 21  # 20 March, the first event, to 9 April
    assert MovesMark.objects.get().until == date(2026, 4, 10)
    assert DailyMoves.objects.filter(day=date(2026, 4, 7)).exists()
    assert backlog(desk) == from_events
    # and they are what was read: a count changed changes the walk
    DailyMoves.objects.filter(day=date(2026, 4, 7), to_state="approved").update(count=9)
    assert backlog(desk) != from_events


@pytest.mark.parametrize("narrowed", [
    {"channel": "portal"}, {"currency": "USD"}, {"version": "tencent-cloud@1"},
    {"policy": "tencent-cloud"}, {"policy": "alibaba-cloud"}])
def test_the_counts_narrow_as_the_events_do(desk, narrowed):
    from_events = backlog(desk, **narrowed)
    roll_all(NOW)
    assert backlog(desk, **narrowed) == from_events


def test_a_filter_the_counts_do_not_hold_reads_the_events(desk):
    from_events = backlog(desk, product="vpn")
    roll_all(NOW)
    DailyMoves.objects.all().delete()  # were they read, the walk would change
    assert backlog(desk, product="vpn") == from_events
    assert backlog(desk, agent_id=desk.agent.pk) is not None
    assert moves.counted_until(desk.context(agent_id=desk.agent.pk).filters) is None


def test_a_viewer_in_another_time_zone_reads_the_events(desk):
    filters = ReportFilters(start=date(2026, 4, 1), end=date(2026, 4, 10), tz=ZoneInfo("UTC"))
    roll_all(NOW)
    assert moves.counted_until(filters) is None


def test_a_day_is_counted_once_it_is_over_and_late_commits_have_had_time():
    build()
    midnight = datetime(2026, 4, 10, 0, 0, tzinfo=CST)
    roll_all(midnight + timedelta(minutes=5))
    assert MovesMark.objects.get().until == date(2026, 4, 9)  # 9 April not yet
    assert moves.roll_moves(midnight + timedelta(minutes=11)) == 1
    assert MovesMark.objects.get().until == date(2026, 4, 10)
    rows = DailyMoves.objects.count()
    assert moves.roll_moves(midnight + timedelta(minutes=12)) == 0
    assert DailyMoves.objects.count() == rows


def test_the_past_is_counted_a_few_weeks_per_call(monkeypatch):
    build()
    monkeypatch.setattr(moves, "DAYS_PER_CALL", 7)
    assert moves.roll_moves(NOW) == 7
    assert MovesMark.objects.get().until == date(2026, 3, 27)
    assert roll_all(NOW) == 14


def test_an_empty_desk_counts_nothing_and_waits_for_its_first_event():
    assert moves.roll_moves(NOW) == 0
    assert MovesMark.objects.get().until is None
