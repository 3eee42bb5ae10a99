"""What reports keep beside the cases: each case's service times in business hours (kept
current by the worker, timings.py), and every export asked for (the audit of who took
which figures out, and the queue of the large ones built in the background)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from refunddesk.cases.models import RefundCase


class CaseTiming(models.Model):
    """How long a case took, in seconds of business-day time on its policy's calendar,
    with the time the desk waited for the customer left out. Derived from the case's
    events (timings.py), so it can always be computed again; empty where the moment has
    not come (no response yet, undecided, money not back)."""

    case = models.OneToOneField(RefundCase, on_delete=models.CASCADE, primary_key=True,
                                related_name="timing")
    # The case's, copied (it never changes): the service times of a range of days are then
    # read from this table alone when no other filter needs the case.
    submitted_at = models.DateTimeField(db_index=True)
    first_response_seconds = models.BigIntegerField(null=True, blank=True)
    decision_seconds = models.BigIntegerField(null=True, blank=True)
    money_back_seconds = models.BigIntegerField(null=True, blank=True)
    refreshed_at = models.DateTimeField()

    class Meta:
        verbose_name = _("case timing")
        verbose_name_plural = _("case timings")
        permissions = [
            ("view_all_reports", "Can see the reports of the whole desk"),
        ]

    def __str__(self) -> str:
        return f"timing of case {self.case_id}"


class TimingMark(models.Model):
    """How far the worker has read the case events into CaseTiming: a single row. While
    `backfill_after` is set, the timings of existing cases are still being computed, in id
    order, from there."""

    read_until = models.DateTimeField(null=True, blank=True)
    backfill_after = models.BigIntegerField(null=True, blank=True)

    def __str__(self) -> str:
        return f"events read until {self.read_until}"


class ExportFormat(models.TextChoices):
    CSV = "csv", "CSV"
    XLSX = "xlsx", "Excel (XLSX)"
    JSON = "json", "JSON"


class ExportState(models.TextChoices):
    QUEUED = "queued", _("Waiting to be built")
    RUNNING = "running", _("Being built")
    DONE = "done", _("Ready")
    FAILED = "failed", _("Failed")


class ExportSource(models.TextChoices):
    CONSOLE = "console", _("console")
    COMMAND_LINE = "command_line", _("command line")


class Export(models.Model):
    """One export: who took which figures or list, with which filters, when. Small exports
    are written at once and only recorded here; large ones are built by the worker, which
    counts its progress here and keeps the file until it is fetched."""

    subject = models.CharField(_("what"), max_length=40)
    params = models.JSONField(_("filters"), default=dict, blank=True)
    format = models.CharField(_("format"), max_length=8, choices=ExportFormat.choices)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("by"),
                                     on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="exports")
    source = models.CharField(_("where"), max_length=16, choices=ExportSource.choices,
                              default=ExportSource.CONSOLE)
    state = models.CharField(_("state"), max_length=8, choices=ExportState.choices)
    rows_total = models.PositiveIntegerField(_("rows"), null=True, blank=True)
    rows_done = models.PositiveIntegerField(_("rows written"), default=0)
    file = models.FileField(_("file"), upload_to="exports/", max_length=200, blank=True)
    error = models.TextField(_("error"), blank=True)
    requested_at = models.DateTimeField(_("asked for"))
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("export")
        verbose_name_plural = _("exports")
        ordering = ["-requested_at", "-id"]
        indexes = [models.Index(fields=["requested_by", "requested_at"])]

    def __str__(self) -> str:
        return f"{self.subject}.{self.format} ({self.state})"

    @property
    def progress_percent(self) -> int:
        if self.state == ExportState.DONE:
            return 100
        if not self.rows_total:
            return 0
        return min(99, self.rows_done * 100 // self.rows_total)


class DailyMoves(models.Model):
    """How many cases moved from one state to another on a past day, per channel, currency
    and policy version: the backlog report's state changes counted once by the worker
    (moves.py) instead of read again, event by event, on every request. A day is a day in
    `time_zone` (the desk's), and is counted when it is over, so its counts never change."""

    time_zone = models.CharField(max_length=64)
    day = models.DateField()
    channel = models.CharField(max_length=8)
    currency = models.CharField(max_length=3)
    policy_ref = models.CharField(max_length=80)
    from_state = models.CharField(max_length=20)
    to_state = models.CharField(max_length=20)
    count = models.PositiveIntegerField()

    class Meta:
        verbose_name = _("state changes of a day")
        verbose_name_plural = _("state changes per day")
        indexes = [models.Index(fields=["time_zone", "day"], name="daily_moves_day")]

    def __str__(self) -> str:
        return f"{self.day} {self.from_state}→{self.to_state}: {self.count}"


class MovesMark(models.Model):
    """The days of one time zone counted into DailyMoves: every day before `until`."""

    time_zone = models.CharField(max_length=64, unique=True)
    until = models.DateField(null=True, blank=True)

    def __str__(self) -> str:
        return f"state changes counted until {self.until} ({self.time_zone})"
