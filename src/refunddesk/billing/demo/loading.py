"""Writing the demo data set into the database, through the same importer real feeds use.

All or nothing: one transaction around the whole load. Loading the same seed and `now`
again changes nothing (orders are recognised by their digest, subscriptions and ledger
entries by their ids and references).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection, transaction

from refunddesk.billing.demo.catalog import PRODUCTS
from refunddesk.billing.demo.dataset import DemoData, build_demo
from refunddesk.billing.demo.drafts import OrderDraft
from refunddesk.billing.importing import OrderImporter
from refunddesk.billing.models import (
    Account,
    BalanceEntry,
    OrderLine,
    Product,
    Subscription,
)
from refunddesk.billing.order_facts import read_order

EXAMPLES = 5


@dataclass(frozen=True)
class DemoSummary:
    accounts: int
    orders: int
    subscriptions: int
    balance_entries: int
    # A few orders whose refund window is open at `now`, for the start-up banner.
    five_day_examples: tuple[str, ...]
    money_back_examples: tuple[str, ...]
    # Recent orders whose lines fall under two refund policies (one case per policy).
    two_policy_examples: tuple[str, ...] = ()

    @property
    def refundable_examples(self) -> tuple[str, ...]:
        return self.five_day_examples + self.money_back_examples


def generate_orders(*, seed: int, now: datetime) -> list[dict[str, Any]]:
    """The demo's orders in the order-facts format, oldest first."""
    return [order.facts() for order in build_demo(seed=seed, now=now).orders]


def load_demo_data(*, seed: int = 2026, now: datetime) -> DemoSummary:
    data = build_demo(seed=seed, now=now)
    with transaction.atomic():
        for product in PRODUCTS:
            # Before the orders: the importer would create them with placeholder names.
            Product.objects.update_or_create(code=product.code, defaults=dict(
                category=product.category, name_zh=product.name_zh, name_en=product.name_en,
                policy_id=product.policy_id))
        importer = OrderImporter()
        for order in data.orders:
            importer.import_order(read_order(order.facts()))
        accounts = dict(Account.objects.filter(
            external_id__in=[c.person.external_id for c in data.customers],
        ).values_list("external_id", "pk"))
        _write_subscriptions(data, accounts)
        _write_ledger(data, accounts)
        _refresh_statistics()
    return _summary(data)


def _refresh_statistics() -> None:
    """PostgreSQL plans from table statistics; right after thousands of rows arrive at once
    they still describe empty tables, and the first queries would be planned for those."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE billing_account, billing_order, billing_orderline, "
                           "billing_payment, billing_subscription, billing_balanceentry")


def _write_subscriptions(data: DemoData, accounts: dict[str, int]) -> None:
    products = dict(Product.objects.values_list("code", "pk"))
    existing = set(Subscription.objects.filter(
        external_id__in=[s.external_id for s in data.subscriptions],
    ).values_list("external_id", flat=True))
    Subscription.objects.bulk_create([
        Subscription(
            external_id=s.external_id, account_id=accounts[s.person.external_id],
            product_id=products[s.plan.product.code], sku=s.plan.sku,
            term_unit=s.plan.unit, term_count=s.plan.count,
            current_period_start=s.period_start, current_period_end=s.period_end,
            is_auto_renew=s.is_auto_renew, auto_renew_cancelled_at=s.auto_renew_cancelled_at,
        )
        for s in data.subscriptions if s.external_id not in existing
    ])
    subscription_pks = dict(Subscription.objects.filter(
        external_id__in=[s.external_id for s in data.subscriptions],
    ).values_list("external_id", "pk"))
    wanted = {(order.external_id, line.line_id): subscription_pks[s.external_id]
              for s in data.subscriptions for order, line in s.lines}
    lines = OrderLine.objects.filter(order__account_id__in=accounts.values()).values_list(
        "pk", "order__external_id", "line_id", "subscription_id")
    changed = [OrderLine(pk=pk, subscription_id=wanted[key])
               for pk, *key_parts, linked in lines
               if (key := tuple(key_parts)) in wanted and wanted[key] != linked]
    OrderLine.objects.bulk_update(changed, ["subscription"], batch_size=500)


def _write_ledger(data: DemoData, accounts: dict[str, int]) -> None:
    existing = set(BalanceEntry.objects.filter(account_id__in=accounts.values()).values_list(
        "account_id", "reference"))
    BalanceEntry.objects.bulk_create([
        BalanceEntry(account_id=accounts[e.person.external_id], currency=e.currency,
                     amount_minor=e.amount_minor, kind=e.kind, reference=e.reference,
                     memo=e.memo, created_at=e.created_at)
        for e in data.ledger
        if (accounts[e.person.external_id], e.reference) not in existing
    ], batch_size=500)


def _summary(data: DemoData) -> DemoSummary:
    def latest(orders: list[OrderDraft]) -> tuple[str, ...]:
        return tuple(o.external_id for o in sorted(
            orders, key=lambda o: o.placed_at, reverse=True)[:EXAMPLES])

    return DemoSummary(
        accounts=len({o.person.external_id for o in data.orders}),
        orders=len(data.orders),
        subscriptions=len(data.subscriptions),
        balance_entries=len(data.ledger),
        five_day_examples=latest(data.five_day_orders()),
        money_back_examples=latest(data.money_back_orders()),
        two_policy_examples=latest(data.two_policy_orders()),
    )
