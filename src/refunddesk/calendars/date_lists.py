"""Reading a year's schedule as admins paste or upload it: one date a line,

    YYYY-MM-DD holiday|workday [name]

e.g. `2026-02-14 workday 春节调休` for a Saturday worked before the Spring Festival. Blank
lines and lines starting with # are skipped. Every line that cannot be taken is reported
with its number and what is wrong; the list is used only when there is none.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from django.utils.translation import gettext as _

from refunddesk.calendars.models import DayKind

MAX_LINES = 500
MAX_NAME = 100
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class ListedDay:
    day: date
    kind: str  # DayKind value
    name: str
    line: int


@dataclass(frozen=True)
class LineError:
    line: int
    text: str
    message: str

    def __str__(self) -> str:
        return _("Line %(line)s: %(message)s") % {"line": self.line, "message": self.message}


@dataclass
class DateList:
    days: list[ListedDay]
    errors: list[LineError]
    # A problem of the whole list (empty, too long), when there is one.
    problem: str = ""

    @property
    def is_valid(self) -> bool:
        return not self.errors and not self.problem


def in_schedule_of(day: date, year: int) -> bool:
    """A year's schedule names its own dates, and may name December days before it: the
    make-up working days of a New Year holiday that starts in the old year."""
    return day.year == year or (day.year == year - 1 and day.month == 12)


def _kind(word: str) -> str | None:
    word = word.lower()
    return word if word in DayKind.values else None


def _line(number: int, text: str, year: int) -> ListedDay | LineError:
    def error(message: str) -> LineError:
        return LineError(number, text, str(message))

    parts = text.split(None, 2)
    if not _DATE.match(parts[0]):
        return error(_("“%(text)s” is not a date; write it as YYYY-MM-DD, e.g. %(year)s-01-01.")
                     % {"text": parts[0], "year": year})
    try:
        day = date.fromisoformat(parts[0])
    except ValueError:
        return error(_("%(text)s is no date of the calendar.") % {"text": parts[0]})
    if len(parts) < 2:
        return error(_("after the date, write “holiday” or “workday”."))
    kind = _kind(parts[1])
    if kind is None:
        return error(_("“%(word)s” is neither “holiday” nor “workday”.") % {"word": parts[1]})
    name = parts[2].strip() if len(parts) > 2 else ""
    if len(name) > MAX_NAME:
        return error(_("the name is longer than %(count)s characters.") % {"count": MAX_NAME})
    if not in_schedule_of(day, year):
        return error(_("%(day)s is not part of the %(year)s schedule (its dates, or December "
                       "before it).") % {"day": day.isoformat(), "year": year})
    return ListedDay(day, kind, name, number)


def parse_date_list(text: str, *, year: int) -> DateList:
    """The days of `text`, the schedule of `year`, with every line's error."""
    days: list[ListedDay] = []
    errors: list[LineError] = []
    lines = text.splitlines()
    if len(lines) > MAX_LINES:
        return DateList([], [], _("The list has %(count)s lines; at most %(most)s are taken.")
                        % {"count": len(lines), "most": MAX_LINES})
    seen: dict[date, int] = {}
    for number, raw in enumerate(lines, start=1):
        stripped = raw.strip().lstrip("\ufeff")
        if not stripped or stripped.startswith("#"):
            continue
        found = _line(number, stripped, year)
        if isinstance(found, LineError):
            errors.append(found)
        elif found.day in seen:
            errors.append(LineError(number, stripped, _(
                "%(day)s is already listed on line %(first)s.")
                % {"day": found.day.isoformat(), "first": seen[found.day]}))
        else:
            seen[found.day] = number
            days.append(found)
    problem = ""
    if not days and not errors:
        problem = _("The list has no dates. Write one date a line: YYYY-MM-DD holiday|workday "
                    "[name].")
    return DateList(sorted(days, key=lambda listed: listed.day), errors, problem)
