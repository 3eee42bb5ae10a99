"""The one reader business-day arithmetic asks for a calendar: the packaged data amended by
the days admins keep (policy/business_days.py does the arithmetic and stays pure; this
module reads the database and passes the days in).

Each process keeps the calendars it built, tagged with the latest CalendarChange row (its
id and time): every change of kept days writes one (actions.py), so a call that finds
another tag (one look-up by primary key) builds afresh, and a change made in another
process is seen by the next call here. The time is part of the tag because SQLite hands a
rolled-back row's id out again; the process making a change also forgets at once.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from threading import Lock

from refunddesk.calendars.models import CalendarChange, CalendarDay, DayKind, EnteredYear
from refunddesk.core import invalidation
from refunddesk.policy.business_days import (
    BusinessCalendar,
    CalendarAmendments,
    business_calendar,
)

# Calendars that take no amendments: the plain weekday rule has no country.
UNAMENDED = frozenset({"none"})

_lock = Lock()
Stamp = tuple[int, datetime] | None
_stamp: Stamp = None
_built: dict[str, BusinessCalendar] = {}


def _latest_change() -> Stamp:
    # Kept by the process until a change is announced (core/invalidation.py); looked up
    # each call where nothing is announced (SQLite).
    return invalidation.kept(
        invalidation.CALENDAR_CHANGES, "latest",
        lambda: CalendarChange.objects.order_by("-pk").values_list("pk", "at").first())


def amendments_for(code: str) -> CalendarAmendments:
    """What admins keep for `code`, read from the database now (no cache)."""
    holidays: set[date] = set()
    working_days: set[date] = set()
    for day, kind in CalendarDay.objects.filter(country=code).values_list("day", "kind"):
        (holidays if kind == DayKind.HOLIDAY else working_days).add(day)
    years = EnteredYear.objects.filter(country=code).values_list("year", flat=True)
    return CalendarAmendments(frozenset(holidays), frozenset(working_days), frozenset(years))


def calendar_for(code: str) -> BusinessCalendar:
    """The business calendar for `code` ("CN", "none", an ISO 3166 code): the packaged one
    with what admins keep on top. Raises ValueError for an unknown code, like
    business_calendar."""
    global _stamp
    base = business_calendar(code)
    if code in UNAMENDED:
        return base
    stamp = _latest_change()
    with _lock:
        if stamp != _stamp:
            _built.clear()
            _stamp = stamp
        found = _built.get(code)
    if found is not None:
        return found
    built = base.amended(amendments_for(code))
    with _lock:
        if _stamp == stamp:
            _built[code] = built
    return built


def calendars_for(codes: Iterable[str]) -> dict[str, BusinessCalendar]:
    return {code: calendar_for(code) for code in dict.fromkeys(codes)}


def was_known(code: str, first: date, last: date, at: datetime) -> bool:
    """Whether every day from `first` to `last` was known to `code`'s calendar at `at`: in
    the packaged data's years, or in years admins had entered by then. A deadline counted
    at `at` over those days was exact; otherwise it is the weekday rule's estimate, even if
    the year was entered since (deadlines are not counted again)."""
    base = business_calendar(code)
    missing = {year for year in range(min(first, last).year, max(first, last).year + 1)
               if not base.covers_year(year)}
    if not missing or code in UNAMENDED:
        return True
    entered = EnteredYear.objects.filter(country=code, year__in=missing, entered_at__lte=at)
    return set(entered.values_list("year", flat=True)) == missing


def forget() -> None:
    """Drop what this process built: the kept days are changing (actions.py calls it)."""
    global _stamp
    with _lock:
        _built.clear()
        _stamp = None
