"""The days admins keep per country, the years they entered in full, and the record of every
change. Written only by actions.py (which keeps the audit row and the readers' cache in
step); the administration does not show them."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class DayKind(models.TextChoices):
    HOLIDAY = "holiday", _("holiday")
    WORKDAY = "workday", _("make-up working day")


class CalendarDay(models.Model):
    """One date of a country's calendar as an admin keeps it: a holiday, or a make-up
    working day (a weekend day worked, 调休). It decides its date over the packaged data."""

    country = models.CharField(_("country"), max_length=2)
    day = models.DateField(_("date"))
    kind = models.CharField(_("kind"), max_length=8, choices=DayKind.choices)
    name = models.CharField(_("name"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("calendar day")
        verbose_name_plural = _("calendar days")
        ordering = ["country", "day"]
        constraints = [models.UniqueConstraint(fields=["country", "day"],
                                               name="calendar_day_once_per_country")]

    def __str__(self) -> str:
        return f"{self.country} {self.day.isoformat()} {self.kind}"


class EnteredYear(models.Model):
    """A year whose whole schedule an admin entered (by importing it): the country's
    calendar counts as known for that year, even where the packaged data ends before it."""

    country = models.CharField(_("country"), max_length=2)
    year = models.PositiveSmallIntegerField(_("year"))
    entered_at = models.DateTimeField(_("entered"))
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("entered by"),
                                   on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+")

    class Meta:
        verbose_name = _("entered calendar year")
        verbose_name_plural = _("entered calendar years")
        ordering = ["country", "year"]
        constraints = [models.UniqueConstraint(fields=["country", "year"],
                                               name="calendar_year_once_per_country")]

    def __str__(self) -> str:
        return f"{self.country} {self.year}"


class ChangeKind(models.TextChoices):
    DAY_ADDED = "day_added", _("day added")
    DAY_REMOVED = "day_removed", _("day removed")
    YEAR_IMPORTED = "year_imported", _("year imported")
    YEAR_WITHDRAWN = "year_withdrawn", _("year no longer marked as entered")


class CalendarChange(models.Model):
    """One change of a country's kept calendar: who, when, what. Written in the change's
    own transaction, never edited. Its id also tells the readers' cache that the calendars
    changed (reading.py)."""

    at = models.DateTimeField(_("when"))
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("changed by"),
                                   on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="calendar_changes")
    # How the audit names an actor that is no user (a part of the system).
    actor_name = models.CharField(_("actor"), max_length=64, blank=True)
    country = models.CharField(_("country"), max_length=2)
    kind = models.CharField(_("what"), max_length=16, choices=ChangeKind.choices)
    # day_added / day_removed: {"day", "kind", "name"}; year_imported: {"year", "added",
    # "changed", "removed": [day…], "lines"}; year_withdrawn: {"year"}.
    details = models.JSONField(_("details"), default=dict)

    class Meta:
        verbose_name = _("calendar change")
        verbose_name_plural = _("calendar changes")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["country", "-at", "-id"],
                                name="calendar_change_by_country")]

    def __str__(self) -> str:
        return f"{self.country} {self.kind} {self.at.isoformat()}"
