"""Order → order facts (DESIGN.md): the only thing the policy engine ever sees of an order.

The mirror builds the policy's domain values (policy.facts) straight from its rows, never
JSON for the engine to read again. Two ways in, one result: `order_facts(record)` from an
order's record (order_records.py: one order, as every application reads it), and
`facts_of_orders(pks)` from plain rows for many orders at once (the policy simulator).
Refunds made earlier are known to the cases app, which passes them in (`refunds=`): billing
sits below cases and must not reach up into it.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime
from functools import cache
from typing import Any

from django.db import connection

from refunddesk.billing.models import Account, Order, OrderLine, Payment, Product, Usage
from refunddesk.billing.order_records import OrderRecord, normal_quantity
from refunddesk.core.statements import column, fetch, moment, table
from refunddesk.policy.facts import (
    AccountFacts,
    LineFacts,
    OrderFacts,
    OrderHistory,
    PaymentFacts,
    RefundHistory,
    UsageFacts,
)


def order_facts(record: OrderRecord, *, refunds: Iterable[RefundHistory] = (),
                other_orders: list[OrderHistory] | None = None) -> OrderFacts:
    """The order as the policy engine reads it, from its record (order_records.py).

    `other_orders` is the account's history of orders when the caller read it already
    (orders_of_accounts), else it is read here."""
    order = record.order
    return OrderFacts(
        order.external_id, account_facts(record.account), order.kind, order.channel,
        order.placed_at, order.currency, order.is_invoiced,
        [line_facts(line, record.usage.get(line.pk, [])) for line in record.lines],
        [PaymentFacts(p.payment_id, p.method, p.funding, p.amount_minor, p.paid_at, p.gateway,
                      p.reference) for p in record.payments],
        list(refunds),
        history_orders(order) if other_orders is None else other_orders,
    )


def account_facts(account: Account) -> AccountFacts:
    return AccountFacts(account.external_id, account.email, account.name, account.created_at,
                        account.phone)


def line_facts(line: OrderLine, usage: list[UsageFacts]) -> LineFacts:
    return LineFacts(
        line.line_id, line.sku, line.product.code, line.product.category, line.billing,
        line.term_unit or None, line.term_count, line.service_start, line.service_end,
        line.list_price_minor, line.amount_paid_minor, frozenset(line.flags), usage)


# -- many orders from plain rows ------------------------------------------------------------


def facts_of_orders(order_pks: Collection[int]) -> dict[int, OrderFacts]:
    """The facts of many orders by primary key, without their history (the caller adds
    it): five queries of plain rows whatever the number of orders, lines and payments, no
    model instance made (the simulator reads thousands)."""
    pks = list(order_pks)
    lines: dict[int, list[LineFacts]] = {}
    line_of_pk: dict[int, LineFacts] = {}
    for row in (OrderLine.objects.filter(order_id__in=pks).order_by("order_id", "position")
                .values_list("pk", "order_id", "line_id", "sku", "product__code",
                             "product__category", "billing", "term_unit", "term_count",
                             "service_start", "service_end", "list_price_minor",
                             "amount_paid_minor", "flags")):
        (pk, order_pk, line_id, sku, product, category, billing, term_unit, term_count, start,
         end, list_price, amount_paid, flags) = row
        line = LineFacts(line_id, sku, product, category, billing, term_unit or None,
                         term_count, start, end, list_price, amount_paid, frozenset(flags), [])
        lines.setdefault(order_pk, []).append(line)
        line_of_pk[pk] = line
    for line_pk, metric, quantity, unit, period_start, period_end in (
            Usage.objects.filter(line__order_id__in=pks)
            .order_by("line_id", "period_start", "metric")
            .values_list("line_id", "metric", "quantity", "unit", "period_start",
                         "period_end")):
        line_of_pk[line_pk].usage.append(
            UsageFacts(metric, normal_quantity(quantity), period_start, unit, period_end))
    payments: dict[int, list[PaymentFacts]] = {}
    payment: list[Any]  # the columns of PaymentFacts, in its order (of mixed types)
    for order_pk, *payment in (Payment.objects.filter(order_id__in=pks)
                               .order_by("order_id", "position")
                               .values_list("order_id", "payment_id", "method", "funding",
                                            "amount_minor", "paid_at", "gateway",
                                            "reference")):
        payments.setdefault(order_pk, []).append(PaymentFacts(*payment))
    accounts: dict[int, AccountFacts] = {}
    facts = {}
    account: list[Any]  # the columns of AccountFacts, in its order (of mixed types)
    for (pk, external_id, account_pk, kind, channel, placed_at, currency, invoiced,
         *account) in (Order.objects.filter(pk__in=pks)
                       .values_list("pk", "external_id", "account_id", "kind", "channel",
                                    "placed_at", "currency", "is_invoiced",
                                    "account__external_id", "account__email",
                                    "account__name", "account__created_at",
                                    "account__phone")):
        if account_pk not in accounts:
            accounts[account_pk] = AccountFacts(*account)
        facts[pk] = OrderFacts(external_id, accounts[account_pk], kind, channel, placed_at,
                               currency, invoiced, lines.get(pk, []), payments.get(pk, []),
                               [], [])
    return facts


# -- the account's other orders ---------------------------------------------------------------


def history_orders(order: Order) -> list[OrderHistory]:
    """The account's other orders, one entry per product bought, oldest first: one fixed
    statement (core/statements.py), as every application asks."""
    orders = AccountOrders()
    for order_pk, external_id, product, kind, placed_at in fetch(
            _history_statement(connection.vendor), [order.account_id]):
        placed = moment(placed_at)
        assert placed is not None  # the column is not null
        orders.add(order_pk, external_id, product, kind, placed)
    return orders.without(order.pk)


@cache
def _history_statement(vendor: str) -> str:
    # The same rows, in the same order, as orders_of_accounts reads for many accounts.
    return (
        f"SELECT o.{column(Order, 'id')}, o.{column(Order, 'external_id')}, "
        f"pr.{column(Product, 'code')}, o.{column(Order, 'kind')}, "
        f"o.{column(Order, 'placed_at')} "
        f"FROM {table(OrderLine)} l "
        f"JOIN {table(Order)} o ON o.{column(Order, 'id')} = l.{column(OrderLine, 'order')} "
        f"JOIN {table(Product)} pr ON pr.{column(Product, 'id')} = "
        f"l.{column(OrderLine, 'product')} "
        f"WHERE o.{column(Order, 'account')} = %s "
        f"ORDER BY o.{column(Order, 'placed_at')}, o.{column(Order, 'external_id')}, "
        f"l.{column(OrderLine, 'position')}")


class AccountOrders:
    """An account's orders as the facts' history lists them, oldest first: each order's
    products once. `without(order_pk)` is the history of one of them."""

    def __init__(self) -> None:
        self.entries: list[tuple[int, OrderHistory]] = []  # (order pk, entry)
        self._seen: set[tuple[int, str]] = set()

    def add(self, order_pk: int, external_id: str, product: str, kind: str,
            placed_at: datetime) -> None:
        if (order_pk, product) in self._seen:
            return
        self._seen.add((order_pk, product))
        self.entries.append((order_pk, OrderHistory(external_id, product, kind, placed_at)))

    def without(self, order_pk: int) -> list[OrderHistory]:
        return [entry for pk, entry in self.entries if pk != order_pk]


def orders_of_accounts(account_ids: Iterable[int]) -> dict[int, AccountOrders]:
    """The orders of many accounts in one query (the simulator reads thousands)."""
    rows = (
        OrderLine.objects.filter(order__account_id__in=list(account_ids))
        .order_by("order__placed_at", "order__external_id", "position")
        .values_list("order__account_id", "order_id", "order__external_id", "product__code",
                     "order__kind", "order__placed_at")
    )
    by_account: dict[int, AccountOrders] = {}
    for account_id, order_pk, external_id, product, kind, placed_at in rows:
        by_account.setdefault(account_id, AccountOrders()).add(
            order_pk, external_id, product, kind, placed_at)
    return by_account
