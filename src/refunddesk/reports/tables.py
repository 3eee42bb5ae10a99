"""A report's figures as one table: typed columns, so the page, the chart, CSV and Excel
each show a value the way it should be (an amount with its currency's decimals and never
summed across currencies, a share as a percentage, a time in hours, a day as a date).

Cells hold plain values: int for counts, Money for amounts, float for hours, a fraction
(0–1) for shares, date for days, str for text; None where there is nothing to show.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any

from django_stubs_ext import StrOrPromise

from refunddesk.core.money import format_money
from refunddesk.policy.money import Money


class Kind(StrEnum):
    TEXT = "text"
    COUNT = "count"
    AMOUNT = "amount"
    PERCENT = "percent"
    HOURS = "hours"
    DATE = "date"
    DATETIME = "datetime"


@dataclass(frozen=True)
class Column:
    key: str
    label: StrOrPromise
    kind: Kind = Kind.TEXT


@dataclass
class Table:
    """Rows of figures under columns. `note` says what the figures count (which date puts a
    case in the range), shown under the title and kept in exports."""

    name: str
    title: StrOrPromise
    columns: Sequence[Column]
    rows: list[tuple[Any, ...]] = field(default_factory=list)
    note: StrOrPromise = ""


@dataclass
class Chart:
    """What reports.js draws: see console/static/console/reports.js for the shape."""

    type: str  # line | bar | stacked_bar | hbar | pie
    categories: list[str]
    series: list[dict[str, Any]]
    unit: str = "count"  # count | percent | hours | amount
    currency: str = ""
    empty: StrOrPromise = ""

    def spec(self) -> dict[str, Any]:
        spec = {"type": self.type, "categories": self.categories, "series": self.series,
                "unit": self.unit, "empty": str(self.empty)}
        if self.currency:
            spec["currency"] = self.currency
        return spec

    @property
    def has_data(self) -> bool:
        return any(value not in (None, 0) for series in self.series for value in series["data"])


def shown(value: Any, kind: Kind) -> str:
    """A cell as the page shows it (the export writes the value itself)."""
    if value is None:
        return "—"
    if kind == Kind.AMOUNT:
        return format_money(value.minor, value.currency)
    if kind == Kind.PERCENT:
        return f"{value * 100:.1f}%"
    if kind == Kind.HOURS:
        return f"{value:,.1f}"
    if kind == Kind.COUNT:
        return f"{value:,}"
    if kind == Kind.DATETIME:
        stamp: str = value.strftime("%Y-%m-%d %H:%M")
        return stamp
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def chart_number(value: Any, kind: Kind) -> float | int | None:
    """A cell as a number a chart can plot (amounts in major units, shares in percent)."""
    # The cell's type follows its column's kind, which the types cannot tell.
    number: float | int | None
    if value is None:
        number = None
    elif kind == Kind.AMOUNT:
        number = float(value.to_decimal())
    elif kind == Kind.PERCENT:
        number = round(value * 100, 1)
    elif kind == Kind.HOURS:
        number = round(value, 1)
    else:
        number = value
    return number


def share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def hours(seconds: float | None) -> float | None:
    return None if seconds is None else seconds / 3600


def money_cell(minor: int | Decimal | None, currency: str) -> Money | None:
    return None if minor is None else Money(int(minor), currency)
