"""Order → order facts (DESIGN.md): the only thing the policy engine ever sees of an order.

The mirror builds the policy's domain values (policy.facts) straight from its rows, never
JSON for the engine to read again. Two ways in, one result: `order_facts(order)` from an
order read with its facts (orders_with_facts, or loaded on demand by with_facts), and
`facts_of_orders(pks)` from plain rows for many orders at once (the policy simulator).
Refunds made earlier are known to the cases app, which passes them in (`refunds=`): billing
sits below cases and must not reach up into it.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import Prefetch, QuerySet, prefetch_related_objects

from refunddesk.billing.models import Account, Order, OrderLine, Payment, Usage
from refunddesk.policy.facts import (
    AccountFacts,
    LineFacts,
    OrderFacts,
    OrderHistory,
    PaymentFacts,
    RefundHistory,
    UsageFacts,
)

# What an order's facts read beyond the order row, in three queries however many lines.
FACTS_LOOKUPS = (Prefetch("lines", OrderLine.objects.select_related("product")),
                 "lines__usage", "payments")


def orders_with_facts() -> QuerySet[Order]:
    """Orders with everything order_facts reads, in four queries however many lines."""
    return Order.objects.select_related("account").prefetch_related(*FACTS_LOOKUPS)


def load_order(external_id: str) -> Order:
    return orders_with_facts().get(external_id=external_id)


def with_facts(order: Order) -> Order:
    """`order` with everything order_facts reads loaded. What was read with it
    (orders_with_facts: the API reads the order once for its checks, the assessment and the
    case) is not read again: Django's public prefetch_related_objects only fetches the
    relations an instance does not hold yet. (Its account, when not read with it, is read
    on first use, as by a prefetch.) Call it where an order comes in, not again below: even
    when everything is loaded, it walks the relations to see so (some 20 µs)."""
    prefetch_related_objects([order], *FACTS_LOOKUPS, "lines__product")
    return order


def order_facts(order: Order, *, refunds: Iterable[RefundHistory] = (),
                other_orders: list[OrderHistory] | None = None) -> OrderFacts:
    """The order as the policy engine reads it, from an order read with its facts.

    `other_orders` is the account's history of orders when the caller read it already
    (orders_of_accounts), else it is read here."""
    currency = order.currency
    return OrderFacts(
        order.external_id, account_facts(order.account), order.kind, order.channel,
        order.placed_at, currency, order.is_invoiced,
        [line_facts(line) for line in order.lines.all()],
        [PaymentFacts(p.payment_id, p.method, p.funding, p.amount_minor, p.paid_at, p.gateway,
                      p.reference) for p in order.payments.all()],
        list(refunds),
        history_orders(order) if other_orders is None else other_orders,
    )


def account_facts(account: Account) -> AccountFacts:
    return AccountFacts(account.external_id, account.email, account.name, account.created_at,
                        account.phone)


def line_facts(line: OrderLine) -> LineFacts:
    return LineFacts(
        line.line_id, line.sku, line.product.code, line.product.category, line.billing,
        line.term_unit or None, line.term_count, line.service_start, line.service_end,
        line.list_price_minor, line.amount_paid_minor, frozenset(line.flags),
        [UsageFacts(u.metric, _quantity(u.quantity), u.period_start, u.unit, u.period_end)
         for u in line.usage.all()],
    )


def _quantity(value: Decimal) -> Decimal:
    # "12.500000" from the database is 12.5, as the sender wrote it.
    return value.normalize()


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
            UsageFacts(metric, _quantity(quantity), period_start, unit, period_end))
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
    """The account's other orders, one entry per product bought, oldest first."""
    orders = orders_of_accounts([order.account_id]).get(order.account_id)
    return orders.without(order.pk) if orders is not None else []


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
