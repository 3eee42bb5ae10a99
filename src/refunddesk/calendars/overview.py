"""What the calendars page shows of a country: how far its calendar is known and where the
data comes from, and the record of changes in words."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _
from django_stubs_ext import StrOrPromise

from refunddesk.calendars.countries import calendars_in_use, country_name, is_keepable
from refunddesk.calendars.models import (
    CalendarChange,
    CalendarDay,
    ChangeKind,
    DayKind,
    EnteredYear,
)
from refunddesk.calendars.reading import calendar_for
from refunddesk.cases.actors import system_label

RECENT_CHANGES = 20


@dataclass(frozen=True)
class CountrySummary:
    code: str
    name: str
    known_through: date | None
    needed_through: date
    packaged_years: tuple[int, int] | None
    entered_years: list[int]
    kept: int
    policies: list[str]

    @property
    def is_short(self) -> bool:
        """Known for less than deadlines may reach (what the system check warns about)."""
        return self.known_through is None or self.known_through < self.needed_through

    @property
    def is_in_use(self) -> bool:
        return bool(self.policies)


def today() -> date:
    return timezone.localdate()


def summary(code: str, *, in_use: dict[str, list[str]] | None = None,
            kept: int | None = None) -> CountrySummary:
    in_use = calendars_in_use() if in_use is None else in_use
    calendar = calendar_for(code)
    now = today()
    return CountrySummary(
        code=code, name=country_name(code), known_through=calendar.covered_through(now),
        needed_through=now + timedelta(days=settings.REFUNDDESK_CALENDAR_HORIZON_DAYS),
        packaged_years=calendar.packaged_years,
        entered_years=list(EnteredYear.objects.filter(country=code)
                           .values_list("year", flat=True)),
        kept=CalendarDay.objects.filter(country=code).count() if kept is None else kept,
        policies=in_use.get(code, []))


def all_summaries() -> list[CountrySummary]:
    """The countries the policies in use count on, then every other with kept days."""
    in_use = calendars_in_use()
    kept = dict(CalendarDay.objects.values_list("country").annotate(count=Count("id"))
                .order_by())
    entered = set(EnteredYear.objects.values_list("country", flat=True))
    codes = [code for code in in_use if is_keepable(code)]
    codes += sorted((set(kept) | entered) - set(codes))
    return [summary(code, in_use=in_use, kept=kept.get(code, 0)) for code in codes]


# -- changes in words -------------------------------------------------------------------------

def kind_label(kind: str) -> StrOrPromise:
    return DayKind(kind).label if kind in DayKind.values else kind


def _day_words(details: dict[str, Any]) -> str:
    words = f"{details.get('day', '')} ({kind_label(details.get('kind', ''))})"
    return f"{words} {details['name']}" if details.get("name") else words


@dataclass(frozen=True)
class ChangeLine:
    change: CalendarChange
    who: str
    what: str
    days: list[str]


def describe(change: CalendarChange) -> ChangeLine:
    details = change.details or {}
    if change.changed_by is not None:
        who = change.changed_by.get_username()
    else:
        who = str(system_label(change.actor_name.removeprefix("system:")))
    days: list[str] = []
    if change.kind == ChangeKind.DAY_ADDED:
        what = _("Added %(day)s") % {"day": _day_words(details)}
    elif change.kind == ChangeKind.DAY_REMOVED:
        what = _("Removed %(day)s") % {"day": _day_words(details)}
    elif change.kind == ChangeKind.YEAR_IMPORTED:
        added, changed, removed = (details.get(key, []) for key in ("added", "changed",
                                                                    "removed"))
        what = _("Imported the %(year)s schedule (%(lines)s dates): %(added)s added, "
                 "%(changed)s changed, %(removed)s removed") % {
            "year": details.get("year"), "lines": details.get("lines", 0),
            "added": len(added), "changed": len(changed), "removed": len(removed)}
        days = ([_("added: %(day)s") % {"day": _day_words(day)} for day in added]
                + [_("changed: %(day)s") % {"day": _day_words(day)} for day in changed]
                + [_("removed: %(day)s") % {"day": _day_words(day)} for day in removed])
    elif change.kind == ChangeKind.YEAR_WITHDRAWN:
        what = _("%(year)s no longer marked as entered") % {"year": details.get("year")}
    else:
        what = change.kind
    return ChangeLine(change, who, what, days)


def recent_changes(code: str) -> list[ChangeLine]:
    return [describe(change) for change in CalendarChange.objects.filter(country=code)
            .select_related("changed_by")[:RECENT_CHANGES]]
