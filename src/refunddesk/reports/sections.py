"""A report is sections: each a table of figures and, when it says something at a glance,
the chart drawn from the same figures."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from refunddesk.reports.filters import ReportFilters
from refunddesk.reports.tables import Chart, Table


@dataclass
class Section:
    table: Table
    chart: Chart | None = None


@dataclass(frozen=True)
class Context:
    """What every report is computed for: the filters, the moment, the viewer's language."""

    filters: ReportFilters
    now: datetime
    language: str = "en"

    @property
    def is_chinese(self) -> bool:
        return self.language.startswith("zh")


class Builder(Protocol):
    def __call__(self, context: Context) -> list[Section]: ...
