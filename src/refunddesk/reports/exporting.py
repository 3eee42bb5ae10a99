"""Writing figures out: CSV (UTF-8 with a byte-order mark, so Excel opens Chinese text
correctly), Excel (xlsxwriter: amounts as numbers with their currency's decimals, shares as
percentages, days as dates) and JSON (amounts as decimal strings, never floats).

Rows are written as they come, so a list of a hundred thousand cases never sits in memory
whole: xlsxwriter's constant-memory mode flushes each finished row to disk.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import IO, Any

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from refunddesk.policy.money import Money, minor_digits
from refunddesk.reports.tables import Column, Kind

BOM = "\ufeff"
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "json": "application/json",
}
# Excel's own limit on a sheet's name.
SHEET_NAME_LENGTH = 31
Progress = Callable[[int], None]


def plain(value: Any, kind: Kind) -> Any:
    """A cell as text-like data (CSV and JSON): amounts as exact decimal strings, shares
    as fractions, times in hours, days and moments in ISO 8601."""
    if value is None:
        return None
    if isinstance(value, Money):
        return str(value)
    if kind == Kind.PERCENT:
        return f"{Decimal(str(value)).quantize(Decimal('0.0001'))}"
    if kind == Kind.HOURS:
        return f"{value:.2f}"
    if isinstance(value, datetime | date):
        return value.isoformat()
    if kind in (Kind.TEXT,):
        return str(value)
    return value


def write_csv(columns: Sequence[Column], rows: Iterable[Sequence[Any]], stream: IO[bytes],
              progress: Progress | None = None) -> int:
    text = io.TextIOWrapper(stream, encoding="utf-8", newline="", write_through=True)
    text.write(BOM)
    writer = csv.writer(text)
    writer.writerow([str(column.label) for column in columns])
    count = 0
    for row in rows:
        writer.writerow(["" if cell is None else plain(cell, column.kind)
                         for cell, column in zip(row, columns, strict=True)])
        count += 1
        if progress is not None and count % 1000 == 0:
            progress(count)
    text.detach()
    return count


def write_json(columns: Sequence[Column], rows: Iterable[Sequence[Any]], stream: IO[bytes],
               progress: Progress | None = None) -> int:
    stream.write(b"[")
    count = 0
    for row in rows:
        record = {column.key: plain(cell, column.kind)
                  for cell, column in zip(row, columns, strict=True)}
        stream.write((b",\n" if count else b"\n")
                     + json.dumps(record, ensure_ascii=False).encode())
        count += 1
        if progress is not None and count % 1000 == 0:
            progress(count)
    stream.write(b"\n]\n")
    return count


class _Formats:
    """xlsxwriter formats, made once per workbook."""

    def __init__(self, book: xlsxwriter.Workbook) -> None:
        self.book = book
        self.header = book.add_format({"bold": True, "bottom": 1, "text_wrap": True})
        self.date = book.add_format({"num_format": "yyyy-mm-dd"})
        self.moment = book.add_format({"num_format": "yyyy-mm-dd hh:mm"})
        self.percent = book.add_format({"num_format": "0.0%"})
        self.hours = book.add_format({"num_format": "#,##0.0"})
        self.count = book.add_format({"num_format": "#,##0"})
        self._amounts: dict[int, Format] = {}

    def amount(self, currency: str) -> Format:
        digits = minor_digits(currency)
        if digits not in self._amounts:
            pattern = "#,##0" + ("." + "0" * digits if digits else "")
            self._amounts[digits] = self.book.add_format({"num_format": pattern})
        return self._amounts[digits]


def write_xlsx(columns: Sequence[Column], rows: Iterable[Sequence[Any]], stream: IO[bytes],
               progress: Progress | None = None, *, title: str = "RefundDesk") -> int:
    book = xlsxwriter.Workbook(stream, {"constant_memory": True, "remove_timezone": True})
    formats = _Formats(book)
    sheet = book.add_worksheet(_sheet_name(title))
    for n, column in enumerate(columns):
        sheet.write_string(0, n, str(column.label), formats.header)
        sheet.set_column(n, n, 22 if column.kind in (Kind.TEXT, Kind.DATETIME) else 14)
    sheet.freeze_panes(1, 0)
    count = 0
    for count, row in enumerate(rows, start=1):
        for n, (cell, column) in enumerate(zip(row, columns, strict=True)):
            _write_cell(sheet, count, n, cell, column.kind, formats)
        if progress is not None and count % 1000 == 0:
            progress(count)
    book.close()
    return count


def _write_cell(sheet: Worksheet, row: int, col: int, cell: Any, kind: Kind, formats: _Formats
                ) -> None:
    if cell is None:
        return
    if isinstance(cell, Money):
        # The exact decimal as a number: Excel's double holds any refund to the cent.
        sheet.write_number(row, col, float(cell.to_decimal()), formats.amount(cell.currency))
    elif kind == Kind.PERCENT:
        sheet.write_number(row, col, cell, formats.percent)
    elif kind == Kind.HOURS:
        sheet.write_number(row, col, cell, formats.hours)
    elif kind == Kind.COUNT:
        sheet.write_number(row, col, cell, formats.count)
    elif isinstance(cell, datetime):
        # Written as the wall-clock time of the viewer's zone the caller converted it to.
        sheet.write_datetime(row, col, cell.replace(tzinfo=None), formats.moment)
    elif isinstance(cell, date):
        sheet.write_datetime(row, col, datetime(cell.year, cell.month, cell.day), formats.date)
    else:
        sheet.write_string(row, col, str(cell))


def _sheet_name(title: str) -> str:
    cleaned = "".join(" " if char in "[]:*?/\\" else char for char in title).strip()
    return (cleaned or "RefundDesk")[:SHEET_NAME_LENGTH]


WRITERS: dict[str, Callable[..., int]] = {"csv": write_csv, "xlsx": write_xlsx,
                                          "json": write_json}


def write(format: str, columns: Sequence[Column], rows: Iterable[Sequence[Any]],
          stream: IO[bytes], progress: Progress | None = None, *, title: str = "") -> int:
    if format == "xlsx":
        return write_xlsx(columns, rows, stream, progress, title=title or "RefundDesk")
    return WRITERS[format](columns, rows, stream, progress)
