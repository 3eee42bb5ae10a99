"""Months, windows, calendar periods and business days (refunddesk.policy.calendar).

The China dates below are the State Council's schedules as the chinesecalendar package
records them:
- National Day 2025: 1–8 Oct off (with Mid-Autumn on 6 Oct); Sun 28 Sep and Sat 11 Oct
  are make-up working days.
- National Day 2026: 1–7 Oct off; Sun 20 Sep and Sat 10 Oct are make-up working days
  (Mid-Autumn 2026 is 25–27 Sep, off).
- Spring Festival 2026: 15–23 Feb off; Sat 14 Feb and Sat 28 Feb are make-up working days.
"""

import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from refunddesk.policy.business_days import BusinessCalendar, business_calendar
from refunddesk.policy.calendar import (
    add_months,
    calendar_month_bounds,
    calendar_year_bounds,
    is_within,
    rolling_months_start,
    same_calendar_month,
    window_end,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
NEW_YORK = ZoneInfo("America/New_York")


def shanghai(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=SHANGHAI)


def new_york(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, *, fold: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=NEW_YORK, fold=fold)


# --- month arithmetic ---------------------------------------------------------------


def test_one_month_after_january_31st_is_february_28th_in_a_common_year() -> None:
    assert add_months(shanghai(2026, 1, 31, 10, 5), 1) == shanghai(2026, 2, 28, 10, 5)


def test_one_month_after_january_31st_is_february_29th_in_a_leap_year() -> None:
    assert add_months(shanghai(2024, 1, 31, 10, 5), 1) == shanghai(2024, 2, 29, 10, 5)


def test_one_month_after_december_is_january_of_the_next_year() -> None:
    assert add_months(shanghai(2026, 12, 15, 8, 0), 1) == shanghai(2027, 1, 15, 8, 0)


def test_negative_months_go_back_and_clamp_too() -> None:
    assert add_months(shanghai(2026, 3, 31, 9, 0), -1) == shanghai(2026, 2, 28, 9, 0)
    assert add_months(shanghai(2026, 1, 15, 9, 0), -13) == shanghai(2024, 12, 15, 9, 0)


def test_twelve_months_after_a_leap_day_is_february_28th() -> None:
    assert add_months(shanghai(2024, 2, 29, 0, 0), 12) == shanghai(2025, 2, 28, 0, 0)


def test_adding_months_keeps_the_time_zone_and_the_wall_clock_time() -> None:
    # Given a moment in winter time in New York, when moved into summer time,
    # then it still reads 09:00 on the clock (so the UTC offset changes).
    moved = add_months(new_york(2026, 1, 10, 9, 0), 6)
    assert moved.tzinfo is NEW_YORK
    assert (moved.hour, moved.minute) == (9, 0)
    assert moved.utcoffset() == timedelta(hours=-4)


def test_a_month_landing_in_the_skipped_dst_hour_moves_forward_to_a_real_time() -> None:
    # 2026-03-08 02:30 does not exist in New York (clocks jump from 02:00 to 03:00).
    moved = add_months(new_york(2026, 2, 8, 2, 30), 1)
    assert moved.astimezone(UTC) == datetime(2026, 3, 8, 7, 30, tzinfo=UTC)
    assert (moved.hour, moved.minute) == (3, 30)


def test_the_rolling_window_of_twelve_months_starts_a_year_earlier() -> None:
    assert rolling_months_start(shanghai(2026, 3, 4, 12), 12) == shanghai(2025, 3, 4, 12)


def test_a_naive_datetime_is_refused_everywhere() -> None:
    naive = datetime(2026, 3, 1, 10, 0)
    aware = shanghai(2026, 3, 1, 10, 0)
    with pytest.raises(ValueError, match="timezone-aware"):
        add_months(naive, 1)
    with pytest.raises(ValueError, match="timezone-aware"):
        window_end(naive, days=5)
    with pytest.raises(ValueError, match="as_of"):
        is_within(naive, aware, aware, inclusive_end=True)
    with pytest.raises(ValueError, match="timezone-aware"):
        calendar_year_bounds(naive, SHANGHAI)
    with pytest.raises(ValueError, match="timezone-aware"):
        business_calendar("CN").add_business_days(naive, 1, SHANGHAI)


@given(
    moment=st.datetimes(
        min_value=datetime(1990, 1, 1), max_value=datetime(2100, 12, 31), timezones=st.just(UTC)
    ),
    months=st.integers(min_value=-240, max_value=240),
)
def test_adding_then_removing_months_returns_to_the_same_month_within_the_clamp(
    moment: datetime, months: int
) -> None:
    # Given any moment, when moved n months and back, then it is in the same month at
    # the same time of day, on the same day unless a shorter month clamped it.
    back = add_months(add_months(moment, months), -months)
    assert (back.year, back.month, back.time()) == (moment.year, moment.month, moment.time())
    assert back.day <= moment.day
    if moment.day <= 28:
        assert back == moment


# --- windows ------------------------------------------------------------------------


def test_an_exact_window_of_five_days_is_five_times_24_hours_to_the_second() -> None:
    opened = shanghai(2026, 3, 1, 14, 30, 30)
    assert window_end(opened, days=5) == shanghai(2026, 3, 6, 14, 30, 30)
    assert window_end(opened, hours=120) == window_end(opened, days=5)
    assert window_end(opened, days=1, hours=2) == shanghai(2026, 3, 2, 16, 30, 30)


def test_exact_hours_are_absolute_across_a_dst_change() -> None:
    # Given a purchase at noon the day before New York springs forward, when a 24-hour
    # window runs, then it ends 24 real hours later, which the clock shows as 13:00.
    opened = new_york(2026, 3, 7, 12, 0)
    end = window_end(opened, hours=24)
    assert end.astimezone(UTC) - opened.astimezone(UTC) == timedelta(hours=24)
    assert (end.day, end.hour) == (8, 13)
    assert window_end(opened, days=1) == end


def test_seven_inclusive_calendar_days_end_at_midnight_after_the_seventh_day() -> None:
    # Given a purchase at 23:50 on 1 March in Shanghai, when it has 7 calendar days,
    # then the window closes at the midnight after 8 March.
    purchased = shanghai(2026, 3, 1, 23, 50)
    end = window_end(purchased, days=7, calendar_days=True, tz=SHANGHAI)
    assert end == shanghai(2026, 3, 9, 0, 0)
    assert is_within(shanghai(2026, 3, 8, 23, 59, 59), purchased, end, inclusive_end=False)
    assert not is_within(shanghai(2026, 3, 9, 0, 0, 0), purchased, end, inclusive_end=False)


def test_calendar_days_are_counted_in_the_given_zone_not_in_the_moments_own() -> None:
    # The same purchase stored in UTC (15:50Z on 1 March) is still 1 March in Shanghai.
    purchased = datetime(2026, 3, 1, 15, 50, tzinfo=UTC)
    end = window_end(purchased, days=7, calendar_days=True, tz=SHANGHAI)
    assert end == shanghai(2026, 3, 9, 0, 0)


def test_calendar_days_across_spring_forward_end_at_local_midnight_one_hour_short() -> None:
    # Given a purchase at noon on Saturday 7 March 2026 in New York, when it has one
    # calendar day, then it ends at midnight after Sunday 8 March, which is 35 real hours
    # away because that Sunday had only 23 hours.
    purchased = new_york(2026, 3, 7, 12, 0)
    end = window_end(purchased, days=1, calendar_days=True, tz=NEW_YORK)
    assert end == new_york(2026, 3, 9, 0, 0)
    assert end.astimezone(UTC) - purchased.astimezone(UTC) == timedelta(hours=35)


def test_calendar_days_need_a_time_zone_and_refuse_hours() -> None:
    opened = shanghai(2026, 3, 1, 10, 0)
    with pytest.raises(ValueError, match="tz"):
        window_end(opened, days=7, calendar_days=True)
    with pytest.raises(ValueError, match="hours"):
        window_end(opened, hours=3, calendar_days=True, tz=SHANGHAI)


def test_a_window_of_months_is_counted_on_the_calendar_of_the_given_zone() -> None:
    # 2026-01-31T20:00Z is already 1 February in Shanghai: a month later is 1 March there.
    opened = datetime(2026, 1, 31, 20, 0, tzinfo=UTC)
    assert window_end(opened, months=1, tz=SHANGHAI) == shanghai(2026, 3, 1, 4, 0)
    assert window_end(opened, months=1) == datetime(2026, 2, 28, 20, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("offset", "inclusive_end", "expected"),
    [
        (timedelta(seconds=-1), False, True),
        (timedelta(0), False, False),
        (timedelta(0), True, True),
        (timedelta(seconds=1), True, False),
    ],
)
def test_a_moment_one_second_either_side_of_the_end_is_inside_or_outside(
    offset: timedelta, inclusive_end: bool, expected: bool
) -> None:
    start, end = shanghai(2026, 3, 1, 10, 0), shanghai(2026, 3, 6, 10, 0)
    assert is_within(end + offset, start, end, inclusive_end=inclusive_end) is expected


def test_the_start_itself_is_inside_and_one_second_before_it_is_not() -> None:
    start, end = shanghai(2026, 3, 1, 10, 0), shanghai(2026, 3, 6, 10, 0)
    assert is_within(start, start, end, inclusive_end=False)
    assert not is_within(start - timedelta(seconds=1), start, end, inclusive_end=True)


def test_is_within_orders_the_repeated_dst_hour_by_real_time() -> None:
    # On 1 Nov 2026 New York shows 01:00–02:00 twice; 01:10 EST comes after 01:30 EDT.
    start = new_york(2026, 11, 1, 1, 30, fold=0)
    later = new_york(2026, 11, 1, 1, 10, fold=1)
    end = new_york(2026, 11, 1, 3, 0)
    assert is_within(later, start, end, inclusive_end=False)


# --- calendar periods ---------------------------------------------------------------


def test_the_year_is_taken_in_the_zone_when_utc_is_still_in_the_previous_year() -> None:
    # Given 2026-12-31T16:30Z, which is 00:30 on 1 January 2027 in Shanghai,
    # then the calendar year is 2027 there.
    start, end = calendar_year_bounds(datetime(2026, 12, 31, 16, 30, tzinfo=UTC), SHANGHAI)
    assert (start, end) == (shanghai(2027, 1, 1), shanghai(2028, 1, 1))
    assert start.astimezone(UTC) == datetime(2026, 12, 31, 16, 0, tzinfo=UTC)


def test_the_month_bounds_run_from_the_first_to_the_next_first_in_the_zone() -> None:
    start, end = calendar_month_bounds(shanghai(2026, 12, 15, 9), SHANGHAI)
    assert (start, end) == (shanghai(2026, 12, 1), shanghai(2027, 1, 1))
    start, end = calendar_month_bounds(datetime(2026, 2, 28, 16, 0, tzinfo=UTC), SHANGHAI)
    assert (start, end) == (shanghai(2026, 3, 1), shanghai(2026, 4, 1))


def test_two_moments_are_in_the_same_month_in_one_zone_but_not_in_another() -> None:
    # 20:00Z and 15:00Z on 31 March: both March in New York, but the first is already
    # 1 April in Shanghai.
    a = datetime(2026, 3, 31, 20, 0, tzinfo=UTC)
    b = datetime(2026, 3, 31, 15, 0, tzinfo=UTC)
    assert same_calendar_month(a, b, NEW_YORK)
    assert not same_calendar_month(a, b, SHANGHAI)


# --- business days: China -----------------------------------------------------------


def test_national_day_2025_and_its_make_up_days_are_known() -> None:
    cn = business_calendar("CN")
    assert all(not cn.is_business_day(date(2025, 10, d)) for d in range(1, 9))
    assert cn.is_business_day(date(2025, 9, 28))  # a Sunday, worked
    assert cn.is_business_day(date(2025, 10, 11))  # a Saturday, worked
    assert not cn.is_business_day(date(2025, 10, 12))  # an ordinary Sunday


def test_one_business_day_after_the_eve_of_national_day_2025_is_9_october() -> None:
    # Given a request on Tuesday 30 Sep 2025 at 10:00, the last working day before the
    # holiday, when one business day is added, then it is due on Thursday 9 Oct at 10:00.
    cn = business_calendar("CN")
    assert cn.add_business_days(shanghai(2025, 9, 30, 10), 1, SHANGHAI) == shanghai(2025, 10, 9, 10)


def test_the_saturday_make_up_day_counts_as_a_business_day() -> None:
    # Thursday 9 Oct + 2 business days is Saturday 11 Oct 2025, a make-up working day.
    cn = business_calendar("CN")
    assert cn.add_business_days(shanghai(2025, 10, 9, 10), 2, SHANGHAI) == shanghai(
        2025, 10, 11, 10
    )
    assert cn.add_business_days(shanghai(2025, 10, 9, 10), 3, SHANGHAI) == shanghai(
        2025, 10, 13, 10
    )


def test_business_days_between_count_the_sunday_make_up_day_and_skip_the_holiday() -> None:
    # (Fri 26 Sep, Sun 12 Oct 2025]: Sun 28 Sep, Mon 29, Tue 30, Thu 9 Oct, Fri 10, Sat 11.
    cn = business_calendar("CN")
    assert cn.business_days_between(date(2025, 9, 26), date(2025, 10, 12)) == 6
    assert cn.business_days_between(date(2025, 10, 12), date(2025, 9, 26)) == -6
    assert cn.business_days_between(date(2025, 10, 1), date(2025, 10, 1)) == 0


def test_national_day_2026_lands_on_8_october_and_counts_the_10th() -> None:
    cn = business_calendar("CN")
    assert cn.is_business_day(date(2026, 9, 20))  # Sunday, make-up day
    assert cn.add_business_days(shanghai(2026, 9, 30, 17, 45), 1, SHANGHAI) == shanghai(
        2026, 10, 8, 17, 45
    )
    # (Fri 2 Oct, Sat 10 Oct 2026]: Thu 8, Fri 9 and the make-up Saturday 10.
    assert cn.business_days_between(date(2026, 10, 2), date(2026, 10, 10)) == 3


def test_spring_festival_2026_is_bridged_by_its_make_up_saturday() -> None:
    # Friday 13 Feb + 1 is Saturday 14 Feb (worked); + 2 skips 15–23 Feb to Tuesday 24th.
    cn = business_calendar("CN")
    friday = shanghai(2026, 2, 13, 9, 0)
    assert cn.add_business_days(friday, 1, SHANGHAI) == shanghai(2026, 2, 14, 9, 0)
    assert cn.add_business_days(friday, 2, SHANGHAI) == shanghai(2026, 2, 24, 9, 0)
    assert cn.is_business_day(date(2026, 2, 28))


def test_a_request_arriving_during_a_holiday_starts_counting_at_the_next_opening() -> None:
    # Given a request on Saturday 4 Oct 2025 at 15:00 (National Day), then the clock
    # starts at 00:00 on Thursday 9 Oct, and one business day later is 00:00 on the 10th.
    cn = business_calendar("CN")
    arrived = shanghai(2025, 10, 4, 15, 0)
    assert cn.add_business_days(arrived, 0, SHANGHAI) == shanghai(2025, 10, 9, 0, 0)
    assert cn.add_business_days(arrived, 1, SHANGHAI) == shanghai(2025, 10, 10, 0, 0)


def test_a_business_day_moment_plus_zero_days_is_itself() -> None:
    cn = business_calendar("CN")
    moment = datetime(2026, 3, 4, 2, 0, tzinfo=UTC)
    assert cn.add_business_days(moment, 0, SHANGHAI) == moment


def test_business_days_are_counted_on_the_date_in_the_given_zone() -> None:
    # 2025-09-30T17:00Z is already 1 Oct (a holiday) in Shanghai.
    cn = business_calendar("CN")
    arrived = datetime(2025, 9, 30, 17, 0, tzinfo=UTC)
    assert cn.add_business_days(arrived, 0, SHANGHAI) == shanghai(2025, 10, 9, 0, 0)


def test_years_the_package_does_not_cover_fall_back_to_weekdays_and_say_so() -> None:
    # chinesecalendar starts in 2004 and ends with the last published schedule.
    cn = business_calendar("CN")
    assert cn.covers(date(2025, 10, 1))
    assert not cn.covers(date(2003, 10, 1))
    assert not cn.covers(date(2099, 10, 1))
    assert cn.is_business_day(date(2003, 10, 1))  # a Wednesday, by the weekday rule
    assert not cn.is_business_day(date(2099, 10, 3))  # a Saturday


def test_negative_counts_and_datetimes_for_dates_are_refused() -> None:
    cn = business_calendar("CN")
    with pytest.raises(ValueError, match="negative"):
        cn.add_business_days(shanghai(2026, 3, 4, 10), -1, SHANGHAI)
    with pytest.raises(TypeError, match="date"):
        cn.is_business_day(shanghai(2026, 3, 4, 10))


@given(
    moment=st.datetimes(
        min_value=datetime(2024, 1, 1), max_value=datetime(2026, 11, 30), timezones=st.just(UTC)
    ),
    count=st.integers(min_value=0, max_value=30),
)
def test_adding_business_days_lands_on_a_business_day_and_grows_with_the_count(
    moment: datetime, count: int
) -> None:
    # Given any moment in the covered years, when n and n+1 business days are added, then
    # both land on business days, n+1 strictly later, and exactly n business days apart
    # from the start's (opening) day.
    cn = business_calendar("CN")
    due = cn.add_business_days(moment, count, SHANGHAI)
    due_next = cn.add_business_days(moment, count + 1, SHANGHAI)
    assert cn.is_business_day(due.astimezone(SHANGHAI).date())
    assert cn.is_business_day(due_next.astimezone(SHANGHAI).date())
    assert moment <= due < due_next
    opening = cn.add_business_days(moment, 0, SHANGHAI).astimezone(SHANGHAI).date()
    assert cn.business_days_between(opening, due.astimezone(SHANGHAI).date()) == count


@given(
    first=st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2026, 11, 30)),
    gap=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=20)),
    count=st.integers(min_value=0, max_value=10),
)
def test_a_later_arrival_is_never_due_earlier(first: datetime, gap: timedelta, count: int) -> None:
    cn = business_calendar("CN")
    earlier = first.replace(tzinfo=SHANGHAI)
    later = earlier + gap
    assert cn.add_business_days(earlier, count, SHANGHAI) <= cn.add_business_days(
        later, count, SHANGHAI
    )


# --- business days: other codes -----------------------------------------------------


def test_independence_day_is_not_a_us_business_day_nor_its_observed_friday() -> None:
    us = business_calendar("US")
    assert not us.is_business_day(date(2025, 7, 4))  # a Friday
    assert not us.is_business_day(date(2026, 7, 3))  # observed for Saturday 4 July 2026
    assert us.add_business_days(new_york(2026, 7, 2, 10), 1, NEW_YORK) == new_york(2026, 7, 6, 10)


def test_the_none_calendar_counts_only_weekdays_and_ignores_holidays() -> None:
    plain = business_calendar("none")
    assert plain.is_business_day(date(2025, 10, 1))  # National Day, but a Wednesday
    assert not plain.is_business_day(date(2025, 10, 11))  # a Saturday, worked in China
    assert plain.business_days_between(date(2026, 10, 2), date(2026, 10, 9)) == 5
    # A Saturday arrival starts on Monday's opening: + 1 is Tuesday 00:00.
    assert plain.add_business_days(shanghai(2026, 3, 7, 15), 1, SHANGHAI) == shanghai(
        2026, 3, 10, 0, 0
    )


def test_other_countries_come_from_the_holidays_package() -> None:
    assert not business_calendar("DE").is_business_day(date(2025, 10, 3))  # Unity Day, a Friday
    assert not business_calendar("HK").is_business_day(date(2026, 7, 1))  # HKSAR Day
    assert isinstance(business_calendar("SG"), BusinessCalendar)


@pytest.mark.parametrize("code", ["XX", "us", "cn", "None", "", "USA"])
def test_an_unknown_calendar_code_is_refused_by_name(code: str) -> None:
    with pytest.raises(ValueError, match=f"unknown business calendar {code!r}"):
        business_calendar(code)


def test_calendars_are_cached_per_code() -> None:
    assert business_calendar("CN") is business_calendar("CN")
    assert business_calendar("US") is not business_calendar("DE")


# --- purity -------------------------------------------------------------------------


def test_the_calendar_modules_import_nothing_from_django() -> None:
    code = (
        "import sys, refunddesk.policy.calendar, refunddesk.policy.business_days; "
        "assert not any(m.startswith('django') for m in sys.modules), 'django imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
