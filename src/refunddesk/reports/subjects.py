"""What can be exported, by name: each report table ("report:volume"), and the lists other
apps register (the queue's cases, the payouts). A subject rebuilds its rows from the
parameters kept on the Export row, so a background export reads exactly what was asked
for, checked again against the person who asked."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from refunddesk.reports import catalogue, permissions
from refunddesk.reports.filters import ReportFilters
from refunddesk.reports.sections import Context
from refunddesk.reports.tables import Column


class BadParameters(ValueError):
    """Stored or given parameters no longer describe an export (clear message inside)."""


@dataclass
class Listing:
    title: str
    columns: Sequence[Column]
    count: int
    rows: Iterable[Sequence[Any]]


@dataclass(frozen=True)
class Subject:
    name: str
    may_export: Callable[[Any], bool]
    # (params, who asked, now, language) → the rows
    listing: Callable[[dict[str, Any], Any, datetime, str], Listing]


SUBJECTS: dict[str, Subject] = {}


def register(subject: Subject) -> None:
    SUBJECTS[subject.name] = subject


def report_filters(params: dict[str, Any], viewer: Any) -> ReportFilters:
    """Report filters from an export's parameters; an agent's stay their own."""
    return permissions.narrowed(filters_from_params(params), viewer)


def filters_from_params(params: dict[str, Any]) -> ReportFilters:
    try:
        filters = ReportFilters(
            start=date.fromisoformat(params["from"]), end=date.fromisoformat(params["to"]),
            tz=ZoneInfo(params.get("tz") or "UTC"), product=params.get("product") or "",
            policy=params.get("policy") or "", version=params.get("version") or "",
            channel=params.get("channel") or "", currency=params.get("currency") or "",
            agent_id=params.get("agent"))
    except (KeyError, ValueError, TypeError) as error:
        raise BadParameters(str(error)) from error
    return filters


def _table_listing(name: str) -> Callable[[dict[str, Any], Any, datetime, str], Listing]:
    def listing(params: dict[str, Any], viewer: Any, now: datetime, language: str) -> Listing:
        context = Context(report_filters(params, viewer), now, language)
        table = catalogue.table(name, context)
        return Listing(str(table.title), table.columns, len(table.rows), table.rows)

    return listing


for _name in catalogue.TABLES:
    register(Subject(f"report:{_name}", permissions.can_see_reports, _table_listing(_name)))
