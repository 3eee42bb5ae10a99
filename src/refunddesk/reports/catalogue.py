"""Every report the console shows and the command line prints, in the order of the page,
and every table they have (each table's name is what its export and `refunddesk report`
are called by)."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from refunddesk.reports.figures import agents, money, outcomes, service, volume
from refunddesk.reports.sections import Builder, Context, Section
from refunddesk.reports.tables import Table


@dataclass(frozen=True)
class Report:
    name: str
    title: StrOrPromise
    build: Builder
    tables: tuple[str, ...]


REPORTS: dict[str, Report] = {report.name: report for report in (
    Report("volume", _("Volume"), volume.volume, ("volume", "backlog")),
    Report("outcomes", _("Outcomes"), outcomes.outcomes, ("outcomes", "approvals")),
    Report("reasons", _("Reasons"), outcomes.reasons, ("reasons", "rejection_reasons")),
    Report("service", _("Service times"), service.service, ("service_times", "overdue")),
    Report("money", _("Money"), money.money,
           ("refunded", "refunded_by_route", "approved_by_product", "approved_by_rule",
            "failed_payouts")),
    Report("agents", _("Staff"), agents.agents, ("agents",)),
    Report("appeals", _("Appeals"), outcomes.appeals, ("appeals",)),
)}

# table name → the report it belongs to
TABLES: dict[str, str] = {table: report.name for report in REPORTS.values()
                          for table in report.tables}


def build(name: str, context: Context) -> list[Section]:
    return REPORTS[name].build(context)


def table(name: str, context: Context) -> Table:
    """One table by its name (for its export and the command line)."""
    for section in build(TABLES[name], context):
        if section.table.name == name:
            return section.table
    raise KeyError(name)
