"""Business days: which dates a desk works, and deadlines counted in them.

`business_calendar(code)` gives one calendar per code, cached:
- "CN": mainland China from the `chinesecalendar` package, which knows both the public
  holidays and the make-up working days (调休, weekend days that are working days);
- "none": Monday to Friday, no holidays;
- any other ISO 3166 country code ("US", "DE", "HK", "SG", …): the `holidays` package's
  public holidays (with observed days) and that country's weekend.

A desk can amend a packaged calendar with days it keeps itself (`CalendarAmendments`:
holidays, make-up working days, years whose schedule it entered in full), which override
the package date by date and extend it past the years the package knows:
`business_calendar(code).amended(amendments)`. Where the days are kept is not this module's
business: the caller reads them and passes them in (refunddesk.calendars.reading does).

A calendar says which years it knows (`covers`, `covers_span`, `covered_through`). Outside
them it still answers by the weekday rule, so a deadline stays computable, and callers use
those methods to flag such a deadline instead of trusting it silently.

Nothing here reads the clock or a file: the packages carry their data in code, and every
moment and zone is passed in.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import MAXYEAR, UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import chinese_calendar
import holidays

from refunddesk.policy.calendar import at_wall_clock, require_aware, start_of_day

__all__ = ["BusinessCalendar", "CalendarAmendments", "business_calendar"]

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


@dataclass(frozen=True)
class CalendarAmendments:
    """Days a desk keeps for one calendar on top of the packaged data.

    `holidays` and `working_days` (make-up working days, 调休) each decide their date,
    whatever the package says of it; `complete_years` are the years whose whole schedule
    was entered, so the calendar counts as known there even where the package has no data.
    A date kept but outside a complete year still counts, but does not make its year known:
    one holiday entered says nothing of the others.
    """

    holidays: frozenset[date] = frozenset()
    working_days: frozenset[date] = frozenset()
    complete_years: frozenset[int] = frozenset()

    def __post_init__(self) -> None:
        for day in (*self.holidays, *self.working_days):
            _require_date(day)
        both = self.holidays & self.working_days
        if both:
            listed = ", ".join(sorted(day.isoformat() for day in both))
            raise ValueError(f"a date cannot be both a holiday and a working day: {listed}")

    @property
    def is_empty(self) -> bool:
        return not (self.holidays or self.working_days or self.complete_years)


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

    def closed_days_of(self, year: int) -> frozenset[date]:
        """Every date of `year` that is not a business day (computed once per year)."""
        closed = self._closed_by_year.get(year)
        if closed is None:
            closed = self._closed_by_year[year] = self._closed_days(year)
        return closed

    # -- what the calendar knows ------------------------------------------------------
    # Holiday data comes by year (a package release, a State Council notice), so coverage
    # is a property of years.

    def covers_year(self, year: int) -> bool:
        """True when the calendar's holiday data covers `year` (otherwise weekdays only)."""
        return True

    @property
    def packaged_years(self) -> tuple[int, int] | None:
        """(first, last) year the packaged data knows; None for a calendar without data."""
        return None

    def covers(self, day: date) -> bool:
        """True when the calendar's holiday data covers day's year (otherwise weekdays only)."""
        return self.covers_year(_require_date(day).year)

    def covers_span(self, first: date, last: date) -> bool:
        """True when every day from `first` to `last` (either order) is covered: a deadline
        counted over those days is exact, not an estimate by the weekday rule."""
        low, high = sorted((_require_date(first, "first"), _require_date(last, "last")))
        return all(self.covers_year(year) for year in range(low.year, high.year + 1))

    def covered_through(self, day: date) -> date | None:
        """The last day of the unbroken run of covered days from `day` on; None when `day`
        itself is not covered."""
        year = _require_date(day).year
        if not self.covers_year(year):
            return None
        while year < MAXYEAR and self.covers_year(year + 1):
            year += 1
        return date(year, 12, 31)

    def amended(self, amendments: CalendarAmendments) -> BusinessCalendar:
        """This calendar with a desk's own days on top (itself when there are none)."""
        if amendments.is_empty:
            return self
        return AmendedCalendar(self, amendments)

    def is_business_day(self, day: date) -> bool:
        _require_date(day)
        return day not in self.closed_days_of(day.year)

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

    def covered_through(self, day: date) -> date | None:
        _require_date(day)
        return date.max  # there is nothing to know beyond the weekday rule


class ChinaCalendar(BusinessCalendar):
    """Mainland China's working days (code "CN"), from the `chinesecalendar` package.

    The package only knows the years whose schedule the State Council has published (it
    raises NotImplementedError outside them). Outside them this calendar falls back to
    Monday to Friday: a deadline must still be computable when the package lags behind a
    new year, and the weekday rule is off only around the festivals. `covers(day)` tells
    callers when that estimate is in use, so they can flag the deadline as provisional;
    a desk's own days (`amended`) fill the years the package does not know yet.
    """

    def __init__(self) -> None:
        super().__init__("CN")
        # The package's published tables (public names of its API): their years are the
        # ones it knows, the same bounds its own functions check.
        known: list[date] = [*chinese_calendar.holidays, *chinese_calendar.workdays]
        self._years: tuple[int, int] = (min(known).year, max(known).year)

    @property
    def packaged_years(self) -> tuple[int, int] | None:
        return self._years

    def covers_year(self, year: int) -> bool:
        return self._years[0] <= year <= self._years[1]

    def _closed_days(self, year: int) -> frozenset[date]:
        if not self.covers_year(year):
            return _weekends_of_year(year)
        return frozenset(
            day for day in _days_of_year(year) if not chinese_calendar.is_workday(day)
        )


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

    @property
    def packaged_years(self) -> tuple[int, int] | None:
        return self._first_year, self._last_year

    def covers_year(self, year: int) -> bool:
        return self._first_year <= year <= self._last_year


class AmendedCalendar(BusinessCalendar):
    """A packaged calendar with a desk's own days on top (`BusinessCalendar.amended`).

    Built anew whenever the kept days change, so its year cache never mixes old and new.
    """

    def __init__(self, base: BusinessCalendar, amendments: CalendarAmendments) -> None:
        super().__init__(base.code)
        self.base = base
        self.amendments = amendments

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.code!r} over {self.base!r}>"

    def _closed_days(self, year: int) -> frozenset[date]:
        opened = {day for day in self.amendments.working_days if day.year == year}
        closed = {day for day in self.amendments.holidays if day.year == year}
        return frozenset((self.base.closed_days_of(year) - opened) | closed)

    @property
    def packaged_years(self) -> tuple[int, int] | None:
        return self.base.packaged_years

    def covers_year(self, year: int) -> bool:
        return year in self.amendments.complete_years or self.base.covers_year(year)

    def covered_through(self, day: date) -> date | None:
        if isinstance(self.base, WeekdayCalendar):
            return self.base.covered_through(day)
        return super().covered_through(day)


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
