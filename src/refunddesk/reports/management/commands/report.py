"""`refunddesk report NAME` — one report table as CSV, Excel or JSON, for scheduled use
(cron, a nightly mail to finance). Recorded like every export."""

from __future__ import annotations

import getpass
import sys
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone, translation

from refunddesk.cases.models import Channel
from refunddesk.reports import catalogue
from refunddesk.reports.exports import export_now
from refunddesk.reports.filters import MAX_DAYS, ReportFilters, preset_range
from refunddesk.reports.models import ExportSource
from refunddesk.reports.sections import Context
from refunddesk.reports.subjects import BadParameters, Listing, filters_from_params

FORMATS = ("csv", "xlsx", "json")


def usage_error(message: str) -> CommandError:
    return CommandError(message, returncode=2)


class Command(BaseCommand):
    help = ("Print one report table (see NAME) for a range of days, as CSV (UTF-8 with BOM), "
            "XLSX or JSON. Exit status 2 on bad input.")
    # Run from cron: the desk's configuration warnings belong to `refunddesk check`.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="the table: " + ", ".join(catalogue.TABLES))
        parser.add_argument("--from", dest="start", help="first day, YYYY-MM-DD "
                            "(default: the first of this month)")
        parser.add_argument("--to", dest="end", help="last day, included (default: today)")
        parser.add_argument("--format", default="csv", choices=FORMATS)
        parser.add_argument("--tz", default=settings.TIME_ZONE,
                            help="time zone the days are counted in (default: TIME_ZONE)")
        parser.add_argument("--language", default="zh-hans", choices=("zh-hans", "en"))
        parser.add_argument("--output", help="file to write (default: standard output)")
        for name in ("product", "policy", "currency"):
            parser.add_argument(f"--{name}", default="")
        parser.add_argument("--policy-version", dest="policy_version", default="",
                            help="one version of a policy, like tencent-cloud@2")
        parser.add_argument("--channel", default="", choices=("", *Channel.values))

    def handle(self, *args: Any, **options: Any) -> None:
        name = options["name"]
        if name not in catalogue.TABLES:
            raise usage_error(f"no report table {name!r}; the tables are: "
                              + ", ".join(catalogue.TABLES))
        try:
            tz = ZoneInfo(options["tz"])
        except (ZoneInfoNotFoundError, ValueError):
            raise usage_error(f"--tz: unknown time zone {options['tz']!r}") from None
        now = timezone.now()
        start, end = preset_range("this_month", now.astimezone(tz).date())
        start = _day(options["start"], "--from") or start
        end = _day(options["end"], "--to") or end
        if end < start:
            raise usage_error("--to is before --from")
        if (end - start).days >= MAX_DAYS:
            raise usage_error(f"the range is longer than {MAX_DAYS} days")
        filters = ReportFilters(start=start, end=end, tz=tz, product=options["product"],
                                policy=options["policy"], version=options["policy_version"],
                                channel=options["channel"],
                                currency=options["currency"].upper())
        params = {**filters.as_params(), "os_user": getpass.getuser()}
        subject = f"report:{name}"
        with translation.override(options["language"]):
            written = self._write(subject, name, params, now, options)
        if options["output"]:
            Path(options["output"]).write_bytes(written.content)
        else:
            sys.stdout.buffer.write(written.content)
            sys.stdout.flush()

    def _write(self, subject: str, name: str, params: dict[str, Any], now: Any,
               options: dict[str, Any]) -> Any:
        try:
            listing = _listing(name, params, now, options["language"])
            written = export_now(subject, params, options["format"], actor=None,
                                 language=options["language"], now=now,
                                 source=ExportSource.COMMAND_LINE, listing=listing)
        except BadParameters as error:
            raise usage_error(str(error)) from None
        return written


def _listing(name: str, params: dict[str, Any], now: Any, language: str) -> Listing:
    # The command line is the operator's own: it sees the whole desk, no role narrows it.
    filters = filters_from_params(params)
    table = catalogue.table(name, Context(filters, now, language))
    return Listing(str(table.title), table.columns, len(table.rows), table.rows)


def _day(text: str | None, option: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise usage_error(f"{option}: {text!r} is not a day like 2026-11-30") from None
