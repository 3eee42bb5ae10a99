"""Business days: which dates a desk works, and deadlines counted in them.

`business_calendar(code)` gives one calendar per code, cached:
- "CN": mainland China from the `chinesecalendar` package, which knows both the public
  holidays and the make-up working days (调休, weekend days that are working days);
- "none": Monday to Friday, no holidays;
- any other ISO 3166 country code ("US", "DE", "HK", "SG", …): the `holidays` package's
  public holidays (with observed days) and that country's weekend.

Nothing here reads the clock or a file: the packages carry their data in code, and every
moment and zone is passed in.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import chinese_calendar
import holidays

from refunddesk.policy.calendar import at_wall_clock, require_aware, start_of_day

__all__ = ["BusinessCalendar", "business_calendar"]

_ONE_DAY = timedelta(days=1)


def _days_of_year(year: int) -> list[date]:
    first = date(year, 1, 1)
    return [first + timedelta(days=n) for n in range((date(year + 1, 1, 1) - first).days)]


def _weekends_of_year(year: int) -> frozenset[date]:
    return frozenset(day for day in _days_of_year(year) if day.weekday() >= 5)


def _require_date(day: date, name: str = "day") -> date:
    # A datetime is a date subclass, but which date it is depends on the zone it is read
    # in; silently taking its own would count business days in the wrong country.
    if isinstance(day, datetime) or not isinstance(day, date):
        raise TypeError(f"{name} must be a date (take .date() in the right zone first)")
    return day


class BusinessCalendar(ABC):
    """The working days of one jurisdiction; `code` is what `business_calendar` was given."""

    def __init__(self, code: str) -> None:
        self.code = code
        # Non-business days per year, filled on first use: is_business_day is then one dict
        # look-up and one set look-up. Two threads may fill a year at once; both compute
        # the same frozenset, so the race is harmless.
        self._closed_by_year: dict[int, frozenset[date]] = {}

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.code!r}>"

    @abstractmethod
    def _closed_days(self, year: int) -> frozenset[date]:
        """Every date of `year` that is not a business day."""

    def covers(self, day: date) -> bool:
        """True when the calendar's holiday data covers day's year (otherwise weekdays only)."""
        return True

    def is_business_day(self, day: date) -> bool:
        _require_date(day)
        closed = self._closed_by_year.get(day.year)
        if closed is None:
            closed = self._closed_by_year[day.year] = self._closed_days(day.year)
        return day not in closed

    def next_business_day(self, day: date) -> date:
        """The first business day strictly after `day`."""
        day = _require_date(day) + _ONE_DAY
        while not self.is_business_day(day):
            day += _ONE_DAY
        return day

    def add_business_days(self, moment: datetime, count: int, tz: ZoneInfo) -> datetime:
        """The moment `count` business days after `moment`, on the wall clock of `tz`.

        From a business day: the same local wall-clock time on the count-th business day
        after moment's local date (moved forward past a DST gap if it falls in one).

        From a non-business day (weekend, holiday): the clock starts at the beginning of the
        next business day, as if the request had arrived when the desk opened, and the
        result is the start of the count-th business day after that one (count=0 gives
        that opening itself). Keeping the Saturday time of day instead would make a request
        sent on Saturday night due later than one sent on Saturday morning for no reason;
        starting at the opening treats every arrival during a closure alike, and the result
        stays monotonic in `moment` (a Friday 23:59 arrival is still due before a Saturday
        one).

        `count` must not be negative: deadlines run forward.
        """
        require_aware(moment)
        if count < 0:
            raise ValueError(f"count of business days must not be negative, got {count}")
        local = moment.astimezone(tz)
        day, wall_time = local.date(), local.time()
        if not self.is_business_day(day):
            day, wall_time = self.next_business_day(day), time(0)
        for _ in range(count):
            day = self.next_business_day(day)
        return at_wall_clock(day, wall_time, tz)

    def business_days_between(self, start: date, end: date) -> int:
        """Business days in (start, end]; negative (the same count) when end is before start."""
        _require_date(start, "start")
        _require_date(end, "end")
        if end < start:
            return -self.business_days_between(end, start)
        count = 0
        day = start + _ONE_DAY
        while day <= end:
            count += self.is_business_day(day)
            day += _ONE_DAY
        return count


    # -- clocks that pause ---------------------------------------------------------------
    # An SLA clock runs only on business days (all 24 hours of them, like the deadlines
    # above) and stops while the desk waits for the customer. These two measure and spend
    # such clock time, so a paused clock resumes with exactly what it had left.

    def business_time_between(self, start: datetime, end: datetime, tz: ZoneInfo
                              ) -> timedelta:
        """The part of [start, end) that falls on business days of `tz`'s calendar."""
        require_aware(start)
        require_aware(end)
        total = timedelta(0)
        day, last = start.astimezone(tz).date(), end.astimezone(tz).date()
        while day <= last:
            if self.is_business_day(day):
                # In UTC: datetimes sharing a tzinfo subtract on the wall clock.
                opens = start_of_day(day, tz).astimezone(UTC)
                closes = start_of_day(day + _ONE_DAY, tz).astimezone(UTC)
                low, high = max(opens, start.astimezone(UTC)), min(closes, end.astimezone(UTC))
                if high > low:
                    total += high - low
            day += _ONE_DAY
        return total

    def add_business_time(self, start: datetime, duration: timedelta, tz: ZoneInfo
                          ) -> datetime:
        """The moment `duration` of business-day time after `start` has passed."""
        require_aware(start)
        if duration < timedelta(0):
            raise ValueError(f"business time must not be negative, got {duration}")
        remaining = duration
        day = start.astimezone(tz).date()
        while True:
            if self.is_business_day(day):
                closes = start_of_day(day + _ONE_DAY, tz).astimezone(UTC)
                low = max(start_of_day(day, tz).astimezone(UTC), start.astimezone(UTC))
                available = closes - low
                if remaining <= available:
                    return (low + remaining).astimezone(tz)
                remaining -= available
            day += _ONE_DAY


class WeekdayCalendar(BusinessCalendar):
    """Monday to Friday, no holidays (code "none")."""

    def _closed_days(self, year: int) -> frozenset[date]:
        return _weekends_of_year(year)


class ChinaCalendar(BusinessCalendar):
    """Mainland China's working days (code "CN"), from the `chinesecalendar` package.

    The package only knows the years whose schedule the State Council has published (it
    raises NotImplementedError outside them). Outside them this calendar falls back to
    Monday to Friday: a deadline must still be computable when the package lags behind a
    new year, and the weekday rule is off only around the festivals. `covers(day)` tells
    callers when that estimate is in use, so they can flag the deadline as provisional.
    """

    def __init__(self) -> None:
        super().__init__("CN")
        self._uncovered_years: set[int] = set()

    def _closed_days(self, year: int) -> frozenset[date]:
        try:
            return frozenset(
                day for day in _days_of_year(year) if not chinese_calendar.is_workday(day)
            )
        except NotImplementedError:
            self._uncovered_years.add(year)
            return _weekends_of_year(year)

    def covers(self, day: date) -> bool:
        self.is_business_day(day)  # loads the year, which records whether it is covered
        return day.year not in self._uncovered_years


class CountryCalendar(BusinessCalendar):
    """A country's public holidays and weekend from the `holidays` package.

    Outside the years the package's rules cover it yields no holidays, so the country's
    plain weekend applies; `covers(day)` says when.
    """

    def __init__(self, code: str) -> None:
        super().__init__(code)
        probe = holidays.country_holidays(code)  # raises NotImplementedError when unknown
        self._first_year: int = probe.start_year
        self._last_year: int = probe.end_year

    def _closed_days(self, year: int) -> frozenset[date]:
        country = holidays.country_holidays(self.code, years=year)
        return frozenset(day for day in _days_of_year(year) if not country.is_working_day(day))

    def covers(self, day: date) -> bool:
        return self._first_year <= _require_date(day).year <= self._last_year


# Bounded only as a guard: a desk uses a handful of codes, each kept with its year caches.
@lru_cache(maxsize=64)
def business_calendar(code: str) -> BusinessCalendar:
    """The business calendar for `code`: "CN", "none", or an ISO 3166 country code."""
    if code == "none":
        return WeekdayCalendar("none")
    if code == "CN":
        return ChinaCalendar()
    if isinstance(code, str) and len(code) == 2 and code.isalpha() and code.isupper():
        try:
            return CountryCalendar(code)
        except NotImplementedError:
            pass
    raise ValueError(
        f"unknown business calendar {code!r}: expected 'none', 'CN' or an ISO 3166 country "
        "code (upper case) that the holidays package knows, such as 'US' or 'DE'"
    )
