"""The API's busiest call — a case's status by its tracking number, which integrations
poll — read with one fixed SQL statement.

Why not the ORM here: core/statements.py. No model instance is built for rows that are
only shown.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from django.db import connection

from refunddesk.api.schemas import CASE_COLUMNS, LINE_COLUMNS, PAYOUT_COLUMNS
from refunddesk.billing.models import Account, Order, OrderLine
from refunddesk.cases.models import CaseLine, RefundCase
from refunddesk.core.statements import Columns, column, fetch, table
from refunddesk.payouts.models import Payout

_CASE = Columns(RefundCase, "c", CASE_COLUMNS)
_LINE = Columns(CaseLine, "l", LINE_COLUMNS)
_PAYOUT = Columns(Payout, "p", PAYOUT_COLUMNS)
# Between the case's and the line's columns: the account's and the order's ids, the
# order line's id; after the line's: the line's key, which tells one line from the next.
_IDS = ("account", "order", "line_id")
_LINE_START = _CASE.width + len(_IDS)
_PAYOUT_START = _LINE_START + _LINE.width + 1


@cache
def _statement(vendor: str) -> str:
    """The one statement (per database vendor: quoting differs): each line of the case
    with the case's columns beside it, times each of its payouts (a case has a line or
    two and rarely more than two payouts, so one round trip beats two)."""
    pk, line_pk = column(RefundCase, "id"), column(CaseLine, "id")
    return (
        f"SELECT {_CASE.sql()}, a.{column(Account, 'external_id')}, "
        f"o.{column(Order, 'external_id')}, ol.{column(OrderLine, 'line_id')}, "
        f"{_LINE.sql()}, l.{line_pk}, {_PAYOUT.sql()} "
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


def status_rows(symbols: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The case's lines (each with the case's columns, CASE_COLUMNS with the account's and
    the order's ids, beside its own, LINE_COLUMNS with its line_id; none when there is no
    such case) and its payouts (PAYOUT_COLUMNS), oldest first."""
    rows = fetch(_statement(connection.vendor), [symbols])
    lines: dict[int, dict[str, Any]] = {}
    payouts: dict[int, dict[str, Any]] = {}
    for row in rows:
        line_pk = row[_PAYOUT_START - 1]
        if line_pk not in lines:
            lines[line_pk] = {
                **dict(zip(CASE_COLUMNS, _CASE.values(row), strict=True)),
                **dict(zip(_IDS, row[_CASE.width:_LINE_START], strict=True)),
                **dict(zip(LINE_COLUMNS, _LINE.values(row, _LINE_START), strict=True))}
        payout_pk = row[_PAYOUT_START]
        if payout_pk is not None and payout_pk not in payouts:
            payouts[payout_pk] = dict(zip(PAYOUT_COLUMNS, _PAYOUT.values(row, _PAYOUT_START),
                                          strict=True))
    return list(lines.values()), list(payouts.values())
