"""The API's busiest call — a case's status by its tracking number, which integrations
poll — read with one fixed SQL statement.

Why not the ORM here: building these queries (five tables, a dozen columns) cost several
times what PostgreSQL takes to run them, on every call. A fixed statement text lets psycopg
prepare it once per connection (settings: prepare_threshold), so PostgreSQL neither
parses nor plans them again, and no model instance is built for rows that are only shown.
Tables and columns are named from the models' `_meta` (Django's public model API), so a
renamed column is followed. What the ORM would convert is converted here: times (SQLite
gives text), JSON (both give text).
"""

from __future__ import annotations

import json
from datetime import datetime
from functools import cache
from typing import Any

from django.db import connection
from django.db.models import Field, Model
from django.utils.dateparse import parse_datetime

from refunddesk.api.schemas import CASE_COLUMNS, LINE_COLUMNS, PAYOUT_COLUMNS
from refunddesk.billing.models import Account, Order, OrderLine
from refunddesk.cases.models import CaseLine, RefundCase
from refunddesk.payouts.models import Payout

TIMES = frozenset({"submitted_at", "decided_at", "info_due", "service_ends_at",
                   "expected_at", "settled_at"})
JSON = frozenset({"requested_documents"})


def _column(model: type[Model], name: str) -> str:
    field = model._meta.get_field(name)
    # Each name is one of the model's own fields stored in a column of its table.
    assert isinstance(field, Field) and field.column is not None
    return connection.ops.quote_name(field.column)


def _table(model: type[Model]) -> str:
    return connection.ops.quote_name(model._meta.db_table)


LINE_NAMES = (*CASE_COLUMNS, "account", "order", "case_id", "line_id", *LINE_COLUMNS)


@cache
def _statement(vendor: str) -> str:
    """The one statement (per database vendor: quoting differs): each line of the case
    with the case's columns beside it, times each of its payouts (a case has a line or
    two and rarely more than two payouts, so one round trip beats two)."""
    case_columns = ", ".join(f"c.{_column(RefundCase, name)}" for name in CASE_COLUMNS)
    line_columns = ", ".join(f"l.{_column(CaseLine, name)}" for name in LINE_COLUMNS)
    payout_columns = ", ".join(
        f"p.{_column(Payout, 'replaces' if name == 'replaces_id' else name)}"
        for name in PAYOUT_COLUMNS)
    pk, line_pk = _column(RefundCase, "id"), _column(CaseLine, "id")
    return (
        f"SELECT {case_columns}, a.{_column(Account, 'external_id')}, "
        f"o.{_column(Order, 'external_id')}, c.{pk}, ol.{_column(OrderLine, 'line_id')}, "
        f"{line_columns}, l.{line_pk}, {payout_columns} "
        f"FROM {_table(CaseLine)} l "
        f"JOIN {_table(RefundCase)} c ON c.{pk} = l.{_column(CaseLine, 'case')} "
        f"JOIN {_table(Account)} a ON a.{_column(Account, 'id')} = "
        f"c.{_column(RefundCase, 'account')} "
        f"JOIN {_table(Order)} o ON o.{_column(Order, 'id')} = c.{_column(RefundCase, 'order')} "
        f"JOIN {_table(OrderLine)} ol ON ol.{_column(OrderLine, 'id')} = "
        f"l.{_column(CaseLine, 'order_line')} "
        f"LEFT JOIN {_table(Payout)} p ON p.{_column(Payout, 'case')} = c.{pk} "
        f"WHERE c.{_column(RefundCase, 'tracking_number')} = %s "
        f"ORDER BY l.{line_pk}, p.{_column(Payout, 'created_at')}, p.{_column(Payout, 'id')}")


def _moment(value: Any) -> datetime | None:
    """A stored time, aware: SQLite hands back text or a naive datetime in the database's
    time zone (UTC), PostgreSQL an aware datetime."""
    if value is None:
        return None
    moment = value if isinstance(value, datetime) else parse_datetime(value)
    if moment is not None and moment.tzinfo is None:
        moment = moment.replace(tzinfo=connection.timezone)
    return moment


def _converted(names: tuple[str, ...], row: tuple[Any, ...]) -> dict[str, Any]:
    values = dict(zip(names, row, strict=True))
    for name in TIMES.intersection(values):
        values[name] = _moment(values[name])
    for name in JSON.intersection(values):
        if isinstance(values[name], str):
            values[name] = json.loads(values[name])
    return values


def status_rows(symbols: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The case's lines (each with the case's columns beside it; none when there is no
    such case) and its payouts, oldest first."""
    with connection.cursor() as cursor:
        cursor.execute(_statement(connection.vendor), [symbols])
        rows = cursor.fetchall()
    width = len(LINE_NAMES) + 1
    lines: dict[int, dict[str, Any]] = {}
    payouts: dict[int, dict[str, Any]] = {}
    for row in rows:
        line_pk = row[width - 1]
        if line_pk not in lines:
            lines[line_pk] = _converted(LINE_NAMES, row[:width - 1])
        if row[width] is not None and row[width] not in payouts:
            payouts[row[width]] = _converted(PAYOUT_COLUMNS, row[width:])
    return list(lines.values()), list(payouts.values())
