"""Business days with a desk's own days on top of the packaged data, passed in (no database):
kept days decide their dates, entered years make the calendar known past the package, and
every calendar says how far it is known so that a deadline beyond is flagged, not trusted."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from refunddesk.policy.business_days import CalendarAmendments, business_calendar

SHANGHAI = ZoneInfo("Asia/Shanghai")
CN = business_calendar("CN")

# The stories are about 2027, the first year chinesecalendar 1.11 does not know. A release
# that knows it makes them moot: they skip, to be moved to the next year it does not know.
unknown_2027 = pytest.mark.skipif(CN.covers(date(2027, 1, 1)),
                                  reason="chinesecalendar knows 2027 now")


def shanghai(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


def kept(*, holidays=(), working_days=(), years=()) -> CalendarAmendments:
    return CalendarAmendments(frozenset(holidays), frozenset(working_days), frozenset(years))


# An example schedule for 2027 (not the official one): New Year's Day, the Spring Festival
# from its eve (Friday 5 to Thursday 11 February) and a make-up Sunday before it.
EXAMPLE_2027 = kept(
    holidays=[date(2027, 1, 1), *(date(2027, 2, day) for day in range(5, 12))],
    working_days=[date(2027, 1, 31)], years=[2027])


@unknown_2027
def test_the_packaged_china_calendar_knows_up_to_2026_and_not_2027() -> None:
    # chinesecalendar carries the schedules published when it was released.
    assert CN.packaged_years[1] == 2026
    assert CN.covered_through(date(2026, 12, 4)) == date(2026, 12, 31)
    assert not CN.covers(date(2027, 1, 1))


@unknown_2027
def test_without_data_new_years_day_2027_counts_as_a_working_day_and_the_span_says_so() -> None:
    # Given a request on Thursday 31 December 2026, when one business day is added with the
    # packaged data alone, then Friday 1 January is counted (the weekday rule) ...
    due = CN.add_business_days(shanghai(2026, 12, 31, 10), 1, SHANGHAI)
    assert due == shanghai(2027, 1, 1, 10)
    # ... and the calendar says the span from the request to the due date is not known.
    assert not CN.covers_span(date(2026, 12, 31), due.date())


@unknown_2027
def test_a_kept_holiday_in_an_entered_year_moves_the_deadline_and_makes_it_known() -> None:
    amended = CN.amended(EXAMPLE_2027)

    due = amended.add_business_days(shanghai(2026, 12, 31, 10), 1, SHANGHAI)

    assert due == shanghai(2027, 1, 4, 10)  # past New Year's Day and the weekend
    assert amended.covers_span(date(2026, 12, 31), due.date())
    assert amended.covered_through(date(2026, 12, 4)) == date(2027, 12, 31)


def test_a_kept_make_up_sunday_is_worked_and_the_festival_is_not() -> None:
    amended = CN.amended(EXAMPLE_2027)
    assert amended.is_business_day(date(2027, 1, 31))  # a Sunday, worked
    assert not any(amended.is_business_day(date(2027, 2, day)) for day in range(5, 12))
    # Thursday 4 February + 1 business day jumps the festival to Friday 12 February.
    assert amended.add_business_days(shanghai(2027, 2, 4, 9), 1, SHANGHAI) == shanghai(
        2027, 2, 12, 9)


def test_kept_days_override_the_packaged_data_date_by_date() -> None:
    # Given 2026's packaged data: 1 October is a holiday, Sunday 20 September is worked,
    # when an admin keeps 1 October as worked and 20 September as a holiday
    amended = CN.amended(kept(working_days=[date(2026, 10, 1)], holidays=[date(2026, 9, 20)]))

    # then those two dates change and the rest of the package stays as it was
    assert amended.is_business_day(date(2026, 10, 1))
    assert not amended.is_business_day(date(2026, 9, 20))
    assert not amended.is_business_day(date(2026, 10, 2))
    assert CN.is_business_day(date(2026, 9, 20))  # the packaged calendar is not changed


@unknown_2027
def test_a_kept_day_outside_an_entered_year_counts_but_leaves_its_year_unknown() -> None:
    amended = CN.amended(kept(holidays=[date(2027, 1, 1)]))
    assert not amended.is_business_day(date(2027, 1, 1))
    assert not amended.covers(date(2027, 1, 1))
    assert amended.covered_through(date(2026, 12, 4)) == date(2026, 12, 31)


@unknown_2027
def test_known_years_must_follow_each_other_to_extend_the_known_range() -> None:
    amended = CN.amended(kept(years=[2028]))
    assert amended.covered_through(date(2026, 6, 1)) == date(2026, 12, 31)
    assert amended.covered_through(date(2028, 6, 1)) == date(2028, 12, 31)
    assert amended.covered_through(date(2027, 6, 1)) is None
    assert not amended.covers_span(date(2026, 12, 30), date(2028, 1, 3))


def test_no_amendments_give_the_packaged_calendar_itself() -> None:
    assert CN.amended(CalendarAmendments()) is CN


def test_a_date_cannot_be_both_a_holiday_and_a_working_day() -> None:
    with pytest.raises(ValueError, match="both a holiday and a working day: 2027-01-01"):
        kept(holidays=[date(2027, 1, 1)], working_days=[date(2027, 1, 1)])


def test_amendments_take_dates_not_datetimes() -> None:
    with pytest.raises(TypeError, match="must be a date"):
        kept(holidays=[shanghai(2027, 1, 1)])


def test_other_countries_are_known_as_far_as_the_holidays_package_has_rules() -> None:
    us = business_calendar("US")
    assert us.covered_through(date(2026, 12, 4)) == date(us.packaged_years[1], 12, 31)
    amended = us.amended(kept(holidays=[date(2026, 12, 24)]))
    assert not amended.is_business_day(date(2026, 12, 24))  # a Thursday the desk closes


def test_the_weekday_calendar_is_always_known() -> None:
    plain = business_calendar("none")
    assert plain.covered_through(date(2026, 12, 4)) == date.max
    assert plain.covers_span(date(2026, 1, 1), date(2099, 1, 1))
    assert plain.packaged_years is None
