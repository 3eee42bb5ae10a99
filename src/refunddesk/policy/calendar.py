"""Time arithmetic for refund windows and quotas: months, windows, calendar periods.

Every datetime here is timezone-aware (a naive one raises ValueError) and time zones are
`zoneinfo.ZoneInfo` objects passed in: nothing reads the clock or guesses a zone, because
"seven days" means something different in Shanghai and in New York. Business days live in
`refunddesk.policy.business_days`, which builds on the helpers here (so this module does not
import it back).

Two kinds of length, on purpose:
- exact lengths (hours, days as 24 h) are absolute durations, so a DST change shortens or
  lengthens neither;
- calendar lengths (months, "inclusive" calendar days, years) are counted on the wall
  calendar of a given zone.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

__all__ = [
    "add_months",
    "at_wall_clock",
    "calendar_month_bounds",
    "calendar_year_bounds",
    "is_within",
    "local_moment",
    "require_aware",
    "rolling_months_start",
    "same_calendar_month",
    "start_of_day",
    "window_end",
]


def require_aware(moment: datetime, name: str = "moment") -> datetime:
    """Return `moment` if it carries a UTC offset, else raise ValueError (naive is a bug)."""
    if not isinstance(moment, datetime):
        raise TypeError(f"{name} must be a datetime, not {type(moment).__name__}")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {moment.isoformat()}")
    return moment


def local_moment(moment: datetime, tz: ZoneInfo | None) -> datetime:
    """`moment` seen on the wall clock of `tz` (or of its own zone when tz is None)."""
    require_aware(moment)
    return moment if tz is None else moment.astimezone(tz)


def _normalised(moment: datetime) -> datetime:
    # A wall-clock time built by hand may not exist (skipped by a DST jump) or be ambiguous.
    # A round trip through UTC turns it into a real instant: a skipped time moves forward by
    # the jump (02:30 on a spring-forward night becomes 03:30), an ambiguous one takes the
    # earlier of its two instants (fold=0), which is also what makes midnight "start of day".
    tz = moment.tzinfo
    return moment.astimezone(UTC).astimezone(tz)


def at_wall_clock(day: date, wall_time: time, tz: ZoneInfo) -> datetime:
    """The instant showing `wall_time` on `day` in `tz` (moved forward past a DST gap)."""
    return _normalised(datetime.combine(day, wall_time, tzinfo=tz))


def start_of_day(day: date, tz: ZoneInfo) -> datetime:
    """The first instant of `day` in `tz` (00:00, or later where midnight is skipped by DST)."""
    return at_wall_clock(day, time(0), tz)


def _days_in_month(year: int, month: int) -> int:
    next_first = date(year + month // 12, month % 12 + 1, 1)
    return (next_first - timedelta(days=1)).day


def _add_months_to_date(day: date, months: int) -> date:
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    if not 1 <= year <= 9999:
        raise ValueError(f"{months} months from {day.isoformat()} is out of range")
    return date(year, month, min(day.day, _days_in_month(year, month)))


def add_months(moment: datetime, months: int) -> datetime:
    """`moment` moved by calendar months, the day clamped to the target month's last day.

    Jan 31 + 1 month is Feb 28 (Feb 29 in a leap year); negative months go back. The
    wall-clock time in moment's own zone is kept (or moved forward past a DST gap).
    """
    require_aware(moment)
    target = _add_months_to_date(moment.date(), months)
    return _normalised(moment.replace(year=target.year, month=target.month, day=target.day))


def window_end(
    start: datetime,
    *,
    hours: int = 0,
    days: int = 0,
    months: int = 0,
    calendar_days: bool = False,
    tz: ZoneInfo | None = None,
) -> datetime:
    """The end of a window opened at `start`.

    Exact (the default): `months` calendar months (in `tz`, or start's own zone), then
    `days` × 24 h plus `hours` × 1 h as absolute durations.

    `calendar_days=True` ("inclusive days", counted by date in `tz`): the window lasts to
    the end of the local date `months` months and `days` days after start's local date,
    i.e. to the next midnight in `tz`; use it as `as_of < end`. `tz` is required then,
    because counting dates in whatever zone the moment happens to carry (often UTC, as
    stored) would quietly move the deadline by a day; `hours` is refused then, because
    "to the end of the day" plus hours has no meaning.
    """
    require_aware(start, "start")
    if calendar_days:
        if tz is None:
            raise ValueError("calendar_days=True needs tz: dates are counted in a time zone")
        if hours:
            raise ValueError("hours cannot be combined with calendar_days=True")
        last_day = _add_months_to_date(start.astimezone(tz).date(), months)
        return start_of_day(last_day + timedelta(days=days + 1), tz)
    moved = add_months(local_moment(start, tz), months) if months else start
    end_utc = moved.astimezone(UTC) + timedelta(days=days, hours=hours)
    return end_utc.astimezone(start.tzinfo)


def is_within(as_of: datetime, start: datetime, end: datetime, *, inclusive_end: bool) -> bool:
    """True when start <= as_of and as_of <= end (inclusive_end) or as_of < end."""
    # Compared in UTC: Python compares two datetimes sharing one tzinfo by wall clock
    # alone, which orders the repeated hour of a DST fall-back wrongly.
    at = require_aware(as_of, "as_of").astimezone(UTC)
    opened = require_aware(start, "start").astimezone(UTC)
    closes = require_aware(end, "end").astimezone(UTC)
    if at < opened:
        return False
    return at <= closes if inclusive_end else at < closes


def calendar_year_bounds(moment: datetime, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """[1 Jan 00:00, next 1 Jan 00:00) of the year `moment` falls in, on the calendar of tz."""
    year = local_moment(moment, tz).year
    return start_of_day(date(year, 1, 1), tz), start_of_day(date(year + 1, 1, 1), tz)


def calendar_month_bounds(moment: datetime, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """[1st 00:00, next month's 1st 00:00) of the month `moment` falls in, in tz."""
    first = local_moment(moment, tz).date().replace(day=1)
    return start_of_day(first, tz), start_of_day(_add_months_to_date(first, 1), tz)


def same_calendar_month(a: datetime, b: datetime, tz: ZoneInfo) -> bool:
    """True when `a` and `b` fall in the same year and month on the calendar of tz."""
    local_a, local_b = local_moment(a, tz), local_moment(b, tz)
    return (local_a.year, local_a.month) == (local_b.year, local_b.month)


def rolling_months_start(moment: datetime, months: int) -> datetime:
    """The start of the rolling window of `months` months that ends at `moment`."""
    return add_months(moment, -months)

