"""The whole demo data set, made from a seed and a moment: same seed and `now`, same data.

Nothing here reads the clock or the global random generator; one `random.Random(seed)`
drives every choice in a fixed order.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from refunddesk.billing.demo.catalog import CVM
from refunddesk.billing.demo.chains import Context
from refunddesk.billing.demo.customers import Customer, make_customers
from refunddesk.billing.demo.drafts import EntryDraft, OrderDraft, SubscriptionDraft
from refunddesk.billing.demo.ledger import build_ledger
from refunddesk.billing.demo.orders import buy_everything
from refunddesk.billing.demo.payments import expire_some_cards
from refunddesk.billing.demo.periods import SHANGHAI, add_months, zone_for

HISTORY_MONTHS = 18
ORDER_PREFIX = {"cloud": "CLD", "vpn": "VPN"}


@dataclass
class DemoData:
    now: datetime
    customers: list[Customer]
    orders: list[OrderDraft]
    subscriptions: list[SubscriptionDraft]
    ledger: list[EntryDraft]

    def five_day_orders(self) -> list[OrderDraft]:
        """New server orders whose service started within five days before `now`."""
        since = self.now - timedelta(days=5)
        return [o for o in self.orders if o.kind == "new" and any(
            line.plan.product == CVM and line.service_start
            and since < line.service_start <= self.now for line in o.lines)]

    def two_policy_orders(self) -> list[OrderDraft]:
        """Orders of the last five days whose lines fall under different refund policies:
        applying for all their lines opens one case per policy."""
        since = self.now - timedelta(days=5)
        return [o for o in self.orders if o.placed_at > since
                and len({line.plan.product.policy_id for line in o.lines}) > 1]

    def money_back_orders(self) -> list[OrderDraft]:
        """Accounts' first VPN orders, bought directly within 30 days before `now`."""
        since = self.now - timedelta(days=30)
        seen: set[str] = set()
        first = []
        for order in self.orders:
            if order.storefront != "vpn" or order.person.external_id in seen:
                continue
            seen.add(order.person.external_id)
            if order.kind == "new" and order.channel == "direct" and order.placed_at > since:
                first.append(order)
        return first


def build_demo(*, seed: int, now: datetime) -> DemoData:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be an aware datetime (with a time zone)")
    now = now.replace(microsecond=0)
    rng = random.Random(seed)
    window_start = add_months(now.astimezone(SHANGHAI), -HISTORY_MONTHS)
    customers = make_customers(rng, now, window_start)
    ctx = Context(rng, now, window_start)
    for customer in customers:
        buy_everything(ctx, customer)
    orders = sorted(ctx.orders, key=lambda o: (o.placed_at, o.sequence))
    _name_orders(orders)
    expire_some_cards(orders, now)
    subscriptions = sorted(ctx.subscriptions,
                           key=lambda s: (s.lines[0][0].placed_at, s.lines[0][0].sequence,
                                          s.plan.product.code))
    for number, subscription in enumerate(subscriptions, start=1):
        subscription.external_id = f"SUB-{number:05d}"
    ledger = build_ledger(rng, orders)
    data = DemoData(now, customers, orders, subscriptions, ledger)
    _check(data)
    return data


def _name_orders(orders: list[OrderDraft]) -> None:
    # Like a billing system's order numbers: storefront, local date, number of the day.
    numbers: dict[tuple[str, str], int] = defaultdict(int)
    for order in orders:
        prefix = ORDER_PREFIX[order.storefront]
        day = order.placed_at.astimezone(zone_for(order.currency)).strftime("%Y%m%d")
        numbers[prefix, day] += 1
        order.external_id = f"{prefix}-{day}-{numbers[prefix, day]:04d}"


def _check(data: DemoData) -> None:
    """Invariants the rest of the demo relies on; a violation is a bug in the generator."""
    problems = []
    for order in data.orders:
        created_at = order.person.created_at
        if created_at is None or created_at >= order.placed_at:
            problems.append(f"{order.external_id}: placed before its account was created")
        if order.placed_at > data.now:
            problems.append(f"{order.external_id}: placed after now")
        for line in order.lines:
            if not 0 < line.paid_minor <= line.list_minor:
                problems.append(f"{order.external_id}/{line.line_id}: amount_paid out of range")
    if len(data.five_day_orders()) < 15:
        problems.append("fewer than 15 new server orders inside the five-day window")
    if len(data.money_back_orders()) < 15:
        problems.append("fewer than 15 first VPN orders inside the 30-day window")
    if not data.two_policy_orders():
        problems.append("no recent order with lines under two refund policies")
    if problems:
        raise AssertionError("demo data is inconsistent: " + "; ".join(problems[:10]))

