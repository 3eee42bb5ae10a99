"""Business time: the hours of business days between two moments, and spending them, so
an SLA clock that pauses resumes with exactly what it had left."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from refunddesk.policy.business_days import business_calendar

BEIJING = ZoneInfo("Asia/Shanghai")
NEW_YORK = ZoneInfo("America/New_York")
CN = business_calendar("CN")


def beijing(*args):
    return datetime(*args, tzinfo=BEIJING)


def test_business_time_leaves_out_the_national_day_holiday():
    # 30 Sept 16:00 → 8 Oct 16:00: 8 hours on the 30th, nothing 1–7 Oct, 16 on the 8th
    assert CN.business_time_between(beijing(2026, 9, 30, 16), beijing(2026, 10, 8, 16),
                                     BEIJING) == timedelta(hours=24)


def test_the_make_up_saturday_counts_and_the_sunday_after_does_not():
    assert CN.business_time_between(beijing(2026, 10, 10), beijing(2026, 10, 12),
                                     BEIJING) == timedelta(hours=24)


def test_spending_business_time_jumps_over_closed_days():
    assert CN.add_business_time(beijing(2026, 9, 30, 16), timedelta(hours=9),
                                BEIJING) == beijing(2026, 10, 8, 1)


def test_business_time_from_a_closed_day_starts_at_the_next_opening():
    assert CN.add_business_time(beijing(2026, 10, 3, 12), timedelta(0),
                                BEIJING) == beijing(2026, 10, 8)


def test_a_negative_duration_is_refused():
    with pytest.raises(ValueError, match="must not be negative"):
        CN.add_business_time(beijing(2026, 10, 8), timedelta(hours=-1), BEIJING)


def test_business_hours_are_real_hours_across_a_daylight_saving_change():
    us = business_calendar("none")
    # Sunday 8 March 2026 is not a business day; Monday 9 March is, a full 24 hours
    start = datetime(2026, 3, 6, 12, tzinfo=NEW_YORK)  # Friday noon
    end = datetime(2026, 3, 9, 12, tzinfo=NEW_YORK)  # Monday noon
    assert us.business_time_between(start, end, NEW_YORK) == timedelta(hours=24)


moments = st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2026, 12, 1),
                       timezones=st.just(BEIJING))


@given(moments, st.integers(min_value=0, max_value=10 * 24 * 3600))
def test_spending_then_measuring_business_time_gives_it_back(start, seconds):
    spent = timedelta(seconds=seconds)
    end = CN.add_business_time(start, spent, BEIJING)
    assert end >= start
    assert CN.business_time_between(start, end, BEIJING) == spent
