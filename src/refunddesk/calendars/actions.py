"""Changing a country's kept calendar: the one way it is done. Each change is one function
with a keyword-only `actor` (an admin), one transaction, one CalendarChange row saying who
changed what and when, and the readers' cache dropped (reading.py). Bad input raises
CalendarError and changes nothing."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django_stubs_ext import StrOrPromise

from refunddesk.calendars import reading
from refunddesk.calendars.countries import is_keepable
from refunddesk.calendars.date_lists import MAX_NAME, ListedDay, in_schedule_of
from refunddesk.calendars.models import (
    CalendarChange,
    CalendarDay,
    ChangeKind,
    DayKind,
    EnteredYear,
)
from refunddesk.calendars.permissions import require_keep
from refunddesk.cases.actors import SystemActor
from refunddesk.core import invalidation

# Years a schedule may be entered for: far enough either way for any desk, near enough
# that a typo (20277) is caught.
FIRST_YEAR, LAST_YEAR = 2000, 2100


class CalendarError(ValueError):
    """Why a calendar change was refused; the message is for the person who asked."""

    def __init__(self, message: StrOrPromise):
        self.message = message
        super().__init__(str(message))


CONCURRENT = gettext_noop("Someone changed this calendar at the same moment; nothing was "
                          "changed by you. Look at it again and repeat.")


def _check_country(country: str) -> None:
    if not is_keepable(country):
        raise CalendarError(_("%(code)s is not a country with a business calendar.")
                            % {"code": country})


def _check_year(year: int) -> None:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise CalendarError(_("The year must be between %(first)s and %(last)s.")
                            % {"first": FIRST_YEAR, "last": LAST_YEAR})


def _day_json(day: date, kind: str, name: str) -> dict[str, str]:
    return {"day": day.isoformat(), "kind": kind, "name": name}


def _audit(country: str, kind: str, details: dict[str, Any], *, actor: object,
           now: datetime) -> CalendarChange:
    invalidation.written(invalidation.CALENDAR_CHANGES)
    return CalendarChange.objects.create(
        at=now, changed_by=actor if isinstance(actor, User) else None,
        actor_name=str(actor) if isinstance(actor, SystemActor) else "",
        country=country, kind=kind, details=details)


def _changed() -> None:
    # Now, not at commit: a reader in this process must not keep the old days, and one
    # that reads again before the commit merely builds the calendar once more.
    reading.forget()


# -- single days ----------------------------------------------------------------------------

def add_day(country: str, day: date, kind: str, name: str = "", *, actor: object,
            now: datetime | None = None) -> CalendarDay:
    """Keep `day` as a holiday or a make-up working day of `country`."""
    require_keep(actor)
    _check_country(country)
    if kind not in DayKind.values:
        raise CalendarError(_("Choose whether the day is a holiday or a make-up working day."))
    name = name.strip()
    if len(name) > MAX_NAME:
        raise CalendarError(_("The name is longer than %(count)s characters.")
                            % {"count": MAX_NAME})
    _check_year(day.year)
    now = now or timezone.now()
    try:
        with transaction.atomic():
            kept = CalendarDay.objects.filter(country=country, day=day).first()
            if kept is not None:
                raise CalendarError(
                    _("%(day)s is already kept as a %(kind)s; remove it first to change it.")
                    % {"day": day.isoformat(), "kind": kept.get_kind_display()})
            entry = CalendarDay.objects.create(country=country, day=day, kind=kind, name=name)
            _audit(country, ChangeKind.DAY_ADDED, _day_json(day, kind, name), actor=actor,
                   now=now)
            _changed()
    except IntegrityError:
        raise CalendarError(_(CONCURRENT)) from None
    return entry


def remove_day(country: str, day_id: int, *, actor: object, now: datetime | None = None
               ) -> CalendarDay:
    """Stop keeping one day; the packaged data decides its date again. Returns the row as
    it was."""
    require_keep(actor)
    now = now or timezone.now()
    with transaction.atomic():
        entry = (CalendarDay.objects.select_for_update()
                 .filter(country=country, pk=day_id).first())
        if entry is None:
            raise CalendarError(_("This day is not kept (any more); reload the page."))
        entry.delete()
        _audit(country, ChangeKind.DAY_REMOVED, _day_json(entry.day, entry.kind, entry.name),
               actor=actor, now=now)
        _changed()
    return entry


# -- a year's schedule ----------------------------------------------------------------------

@dataclass
class ImportPlan:
    """What importing a year's list does to what is kept: the preview shows it, the import
    carries it out."""

    country: str
    year: int
    added: list[ListedDay] = field(default_factory=list)
    changed: list[tuple[CalendarDay, ListedDay]] = field(default_factory=list)
    unchanged: list[ListedDay] = field(default_factory=list)
    removed: list[CalendarDay] = field(default_factory=list)
    was_entered: bool = False

    @property
    def listed(self) -> int:
        return len(self.added) + len(self.changed) + len(self.unchanged)

    @property
    def changes_anything(self) -> bool:
        return bool(self.added or self.changed or self.removed) or not self.was_entered


def plan_import(country: str, year: int, days: Sequence[ListedDay], *,
                for_update: bool = False) -> ImportPlan:
    """Importing the schedule of `year` replaces the country's kept days of that year
    (those not listed are removed) and keeps the listed days of December before it, over
    whatever was kept on their dates."""
    _check_country(country)
    _check_year(year)
    if not days:
        raise CalendarError(_("The list has no dates."))
    outside = [listed for listed in days if not in_schedule_of(listed.day, year)]
    if outside:
        raise CalendarError(_("%(day)s is not part of the %(year)s schedule.")
                            % {"day": outside[0].day.isoformat(), "year": year})
    rows = CalendarDay.objects.filter(country=country)
    if for_update:
        rows = rows.select_for_update()
    listed_days = [listed.day for listed in days]
    kept = {row.day: row for row in rows.filter(day__year=year)}
    kept.update({row.day: row for row in rows.filter(day__in=listed_days)})
    plan = ImportPlan(country, year, was_entered=EnteredYear.objects.filter(
        country=country, year=year).exists())
    for listed in days:
        row = kept.pop(listed.day, None)
        if row is None:
            plan.added.append(listed)
        elif (row.kind, row.name) != (listed.kind, listed.name):
            plan.changed.append((row, listed))
        else:
            plan.unchanged.append(listed)
    plan.removed = sorted((row for row in kept.values() if row.day.year == year),
                          key=lambda row: row.day)
    return plan


def import_year(country: str, year: int, days: Sequence[ListedDay], *, actor: object,
                now: datetime | None = None) -> ImportPlan:
    """Take `days` as the whole schedule of `year` for `country` (see plan_import) and mark
    the year as entered: from now on the country's calendar counts as known for it."""
    require_keep(actor)
    now = now or timezone.now()
    try:
        with transaction.atomic():
            plan = plan_import(country, year, days, for_update=True)
            CalendarDay.objects.filter(pk__in=[row.pk for row in plan.removed]).delete()
            for row, listed in plan.changed:
                row.kind, row.name = listed.kind, listed.name
                row.save(update_fields=["kind", "name"])
            CalendarDay.objects.bulk_create(
                CalendarDay(country=country, day=listed.day, kind=listed.kind,
                            name=listed.name) for listed in plan.added)
            person = actor if isinstance(actor, User) else None
            EnteredYear.objects.update_or_create(
                country=country, year=year, defaults={"entered_at": now, "entered_by": person})
            _audit(country, ChangeKind.YEAR_IMPORTED, {
                "year": year, "lines": len(days),
                "added": [_day_json(d.day, d.kind, d.name) for d in plan.added],
                "changed": [_day_json(d.day, d.kind, d.name) for _, d in plan.changed],
                "removed": [_day_json(r.day, r.kind, r.name) for r in plan.removed]},
                actor=actor, now=now)
            _changed()
    except IntegrityError:
        raise CalendarError(_(CONCURRENT)) from None
    return plan


def withdraw_year(country: str, year: int, *, actor: object, now: datetime | None = None
                  ) -> None:
    """The year is no longer marked as entered (its kept days stay): deadlines counted into
    it are flagged again until it is imported anew."""
    require_keep(actor)
    now = now or timezone.now()
    with transaction.atomic():
        deleted, _rows = EnteredYear.objects.filter(country=country, year=year).delete()
        if not deleted:
            raise CalendarError(_("%(year)s is not marked as entered; reload the page.")
                                % {"year": year})
        _audit(country, ChangeKind.YEAR_WITHDRAWN, {"year": year}, actor=actor, now=now)
        _changed()
