"""The API's busiest call — a case's status by its tracking number, which integrations
poll — read with one fixed SQL statement.

Why not the ORM here: core/statements.py. No model instance is built for rows that are
only shown.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from django.db import connection

from refunddesk.api.schemas import CASE_COLUMNS, LINE_COLUMNS, PAYOUT_COLUMNS
from refunddesk.billing.models import Account, Order, OrderLine
from refunddesk.cases.models import CaseLine, RefundCase
from refunddesk.core.statements import column, fetch, moment, table
from refunddesk.payouts.models import Payout

TIMES = frozenset({"submitted_at", "decided_at", "info_due", "service_ends_at",
                   "expected_at", "settled_at"})
JSON = frozenset({"requested_documents"})

LINE_NAMES = (*CASE_COLUMNS, "account", "order", "case_id", "line_id", *LINE_COLUMNS)


@cache
def _statement(vendor: str) -> str:
    """The one statement (per database vendor: quoting differs): each line of the case
    with the case's columns beside it, times each of its payouts (a case has a line or
    two and rarely more than two payouts, so one round trip beats two)."""
    case_columns = ", ".join(f"c.{column(RefundCase, name)}" for name in CASE_COLUMNS)
    line_columns = ", ".join(f"l.{column(CaseLine, name)}" for name in LINE_COLUMNS)
    payout_columns = ", ".join(
        f"p.{column(Payout, 'replaces' if name == 'replaces_id' else name)}"
        for name in PAYOUT_COLUMNS)
    pk, line_pk = column(RefundCase, "id"), column(CaseLine, "id")
    return (
        f"SELECT {case_columns}, a.{column(Account, 'external_id')}, "
        f"o.{column(Order, 'external_id')}, c.{pk}, ol.{column(OrderLine, 'line_id')}, "
        f"{line_columns}, l.{line_pk}, {payout_columns} "
        f"FROM {table(CaseLine)} l "
        f"JOIN {table(RefundCase)} c ON c.{pk} = l.{column(CaseLine, 'case')} "
        f"JOIN {table(Account)} a ON a.{column(Account, 'id')} = "
        f"c.{column(RefundCase, 'account')} "
        f"JOIN {table(Order)} o ON o.{column(Order, 'id')} = c.{column(RefundCase, 'order')} "
        f"JOIN {table(OrderLine)} ol ON ol.{column(OrderLine, 'id')} = "
        f"l.{column(CaseLine, 'order_line')} "
        f"LEFT JOIN {table(Payout)} p ON p.{column(Payout, 'case')} = c.{pk} "
        f"WHERE c.{column(RefundCase, 'tracking_number')} = %s "
        f"ORDER BY l.{line_pk}, p.{column(Payout, 'created_at')}, p.{column(Payout, 'id')}")


def _converted(names: tuple[str, ...], row: tuple[Any, ...]) -> dict[str, Any]:
    values = dict(zip(names, row, strict=True))
    for name in TIMES.intersection(values):
        values[name] = moment(values[name])
    for name in JSON.intersection(values):
        if isinstance(values[name], str):
            values[name] = json.loads(values[name])
    return values


def status_rows(symbols: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The case's lines (each with the case's columns beside it; none when there is no
    such case) and its payouts, oldest first."""
    rows = fetch(_statement(connection.vendor), [symbols])
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
