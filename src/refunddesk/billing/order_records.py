"""An order with everything its assessment and its case read — its account, its lines
with their products and usage, its payments — read in two fixed statements
(core/statements.py) and passed along explicitly, never read again through relations.

Every application (the portal, an agent, an e-mail, the API) reads its order this way, so
the busiest write of the desk starts with two prepared statements instead of four ORM
queries, and what the checks, the assessment and the case see is one read.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from functools import cache

from django.db import connection

from refunddesk.billing.models import Account, Order, OrderLine, Payment, Product, Usage
from refunddesk.core.statements import Columns, column, fetch, table
from refunddesk.policy.facts import UsageFacts


@dataclass(frozen=True)
class OrderRecord:
    """An order as read for an application: `order.account` is read with it, each line's
    `product` too; the lines and payments are in the order's own order."""

    order: Order
    lines: list[OrderLine]
    payments: list[Payment]
    usage: dict[int, list[UsageFacts]]  # by line pk, oldest period first

    @property
    def account(self) -> Account:
        return self.order.account

    def line_ids(self) -> list[str]:
        return [line.line_id for line in self.lines]


# How the first statement finds the order.
BY_PK, BY_ID, BY_ACCOUNT_AND_ID = "pk", "id", "account and id"

_ORDER = Columns(Order, "o")
_ACCOUNT = Columns(Account, "a")
_LINE = Columns(OrderLine, "l")
_PRODUCT = Columns(Product, "pr")
_PAYMENT = Columns(Payment, "p")
_USAGE = Columns(Usage, "u", ["line", "metric", "quantity", "unit", "period_start",
                              "period_end"])
_LINE_KEY = _LINE.attnames.index("id")


@cache
def _order_statement(vendor: str, lookup: str) -> str:
    """The order, its account, each of its lines with its product, and each line's usage
    periods: one row per period (a line without usage has one row with empty usage
    columns; an order without lines one row with empty line columns). A line has a period
    or a few, so one round trip beats two."""
    where = {BY_PK: f"o.{column(Order, 'id')} = %s",
             BY_ID: f"o.{column(Order, 'external_id')} = %s",
             BY_ACCOUNT_AND_ID: (f"a.{column(Account, 'external_id')} = %s "
                                 f"AND o.{column(Order, 'external_id')} = %s")}[lookup]
    return (
        f"SELECT {_ORDER.sql()}, {_ACCOUNT.sql()}, {_LINE.sql()}, {_PRODUCT.sql()}, "
        f"{_USAGE.sql()} "
        f"FROM {table(Order)} o "
        f"JOIN {table(Account)} a ON a.{column(Account, 'id')} = o.{column(Order, 'account')} "
        f"LEFT JOIN {table(OrderLine)} l ON l.{column(OrderLine, 'order')} = "
        f"o.{column(Order, 'id')} "
        f"LEFT JOIN {table(Product)} pr ON pr.{column(Product, 'id')} = "
        f"l.{column(OrderLine, 'product')} "
        f"LEFT JOIN {table(Usage)} u ON u.{column(Usage, 'line')} = l.{column(OrderLine, 'id')} "
        f"WHERE {where} "
        f"ORDER BY l.{column(OrderLine, 'position')}, l.{column(OrderLine, 'id')}, "
        f"u.{column(Usage, 'period_start')}, u.{column(Usage, 'metric')}")


@cache
def _payments_statement(vendor: str) -> str:
    return (f"SELECT {_PAYMENT.sql()} FROM {table(Payment)} p "
            f"WHERE p.{column(Payment, 'order')} = %s "
            f"ORDER BY p.{column(Payment, 'position')}, p.{column(Payment, 'id')}")


def read_record(lookup: str, *params: object) -> OrderRecord | None:
    """The order found by `lookup` (BY_PK: its pk; BY_ID: its id; BY_ACCOUNT_AND_ID: its
    account's id and its id), or None."""
    rows = fetch(_order_statement(connection.vendor, lookup), params)
    if not rows:
        return None
    order = _ORDER.instance(rows[0])
    order.account = _ACCOUNT.instance(rows[0], _ORDER.width)
    at = _ORDER.width + _ACCOUNT.width
    usage_at = at + _LINE.width + _PRODUCT.width
    lines: list[OrderLine] = []
    usage: dict[int, list[UsageFacts]] = {}
    for row in rows:
        if row[at] is None:  # no lines: the LEFT JOIN's one empty row
            continue
        if not lines or lines[-1].pk != row[at + _LINE_KEY]:  # a line's first period
            line = _LINE.instance(row, at)
            line.product = _PRODUCT.instance(row, at + _LINE.width)
            line.order = order
            lines.append(line)
        if row[usage_at] is not None:
            line_pk, metric, quantity, unit, start, end = _USAGE.values(row, usage_at)
            usage.setdefault(line_pk, []).append(
                UsageFacts(metric, normal_quantity(quantity), start, unit, end))
    payments = [_PAYMENT.instance(row)
                for row in fetch(_payments_statement(connection.vendor), [order.pk])]
    for payment in payments:
        payment.order = order
    return OrderRecord(order, lines, payments, usage)


def record_of(order: Order | OrderRecord) -> OrderRecord:
    """The record of an order a caller holds (read again, whole), or the record itself."""
    if isinstance(order, OrderRecord):
        return order
    record = read_record(BY_PK, order.pk)
    if record is None:
        raise Order.DoesNotExist(f"order {order.pk} is gone")
    return record


def normal_quantity(value: Decimal) -> Decimal:
    # "12.500000" from the database is 12.5, as the sender wrote it.
    return value.normalize()
