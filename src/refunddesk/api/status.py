"""The API's busiest call — a case's status by its tracking number, which integrations
poll — read with two fixed SQL statements.

Why not the ORM here: building these queries (five tables, a dozen columns) cost several
times what PostgreSQL takes to run them, on every call. Fixed statement texts let psycopg
prepare them once per connection (settings: prepare_threshold), so PostgreSQL neither
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
from django.db.models import Model
from django.utils.dateparse import parse_datetime

from refunddesk.api.schemas import CASE_COLUMNS, LINE_COLUMNS, PAYOUT_COLUMNS
from refunddesk.billing.models import Account, Order, OrderLine
from refunddesk.cases.models import CaseLine, RefundCase
from refunddesk.payouts.models import Payout

TIMES = frozenset({"submitted_at", "decided_at", "info_due", "service_ends_at",
                   "expected_at", "settled_at"})
JSON = frozenset({"requested_documents"})


def _column(model: type[Model], name: str) -> str:
    return connection.ops.quote_name(model._meta.get_field(name).column)


def _table(model: type[Model]) -> str:
    return connection.ops.quote_name(model._meta.db_table)


LINE_NAMES = (*CASE_COLUMNS, "account", "order", "case_id", "line_id", *LINE_COLUMNS)


@cache
def _statements(vendor: str) -> tuple[str, str]:
    """The two statements (per database vendor: quoting differs)."""
    case_columns = ", ".join(f"c.{_column(RefundCase, name)}" for name in CASE_COLUMNS)
    line_columns = ", ".join(f"l.{_column(CaseLine, name)}" for name in LINE_COLUMNS)
    pk = _column(RefundCase, "id")
    lines = (
        f"SELECT {case_columns}, a.{_column(Account, 'external_id')}, "
        f"o.{_column(Order, 'external_id')}, c.{pk}, ol.{_column(OrderLine, 'line_id')}, "
        f"{line_columns} "
        f"FROM {_table(CaseLine)} l "
        f"JOIN {_table(RefundCase)} c ON c.{pk} = l.{_column(CaseLine, 'case')} "
        f"JOIN {_table(Account)} a ON a.{_column(Account, 'id')} = "
        f"c.{_column(RefundCase, 'account')} "
        f"JOIN {_table(Order)} o ON o.{_column(Order, 'id')} = c.{_column(RefundCase, 'order')} "
        f"JOIN {_table(OrderLine)} ol ON ol.{_column(OrderLine, 'id')} = "
        f"l.{_column(CaseLine, 'order_line')} "
        f"WHERE c.{_column(RefundCase, 'tracking_number')} = %s "
        f"ORDER BY l.{_column(CaseLine, 'id')}")
    payout_columns = ", ".join(_column(Payout, "replaces" if name == "replaces_id" else name)
                               for name in PAYOUT_COLUMNS)
    payouts = (f"SELECT {payout_columns} FROM {_table(Payout)} "
               f"WHERE {_column(Payout, 'case')} = %s "
               f"ORDER BY {_column(Payout, 'created_at')}, {_column(Payout, 'id')}")
    return lines, payouts


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
    lines_sql, payouts_sql = _statements(connection.vendor)
    with connection.cursor() as cursor:
        cursor.execute(lines_sql, [symbols])
        lines = [_converted(LINE_NAMES, row) for row in cursor.fetchall()]
        if not lines:
            return [], []
        cursor.execute(payouts_sql, [lines[0]["case_id"]])
        payouts = [_converted(PAYOUT_COLUMNS, row) for row in cursor.fetchall()]
    return lines, payouts
