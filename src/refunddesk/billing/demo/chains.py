"""Prepaid purchases as they happen over time: a new order, renewals that continue exactly
where the previous period ended, now and then an upgrade in the middle of a period, until
the customer stops renewing or the chain reaches `now`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from refunddesk.billing.demo.catalog import (
    CVM,
    CVM_MONTHLY,
    CVM_SIZES,
    CVM_YEARLY,
    SUBSCRIBED_PRODUCTS,
    Plan,
)
from refunddesk.billing.demo.drafts import LineDraft, OrderDraft, SubscriptionDraft
from refunddesk.billing.demo.payments import PayingHabits, settle
from refunddesk.billing.demo.people import Person
from refunddesk.billing.demo.periods import between, period_end, seconds, zone_for

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)

# Special prices of a chain's first order: bundle index → (amount paid, flags).
FirstOrderPrices = dict[int, tuple[int, tuple[str, ...]]]


@dataclass
class Context:
    """The generator's state: one random stream, the clock it was given, what it made."""

    rng: random.Random
    now: datetime
    window_start: datetime
    orders: list[OrderDraft] = field(default_factory=list)
    subscriptions: list[SubscriptionDraft] = field(default_factory=list)

    def place(self, person: Person, habits: PayingHabits, *, storefront: str, kind: str,
              channel: str, placed_at: datetime, currency: str, is_invoiced: bool,
              lines: list[LineDraft]) -> OrderDraft:
        if placed_at > self.now:
            raise AssertionError("a demo order placed after now")
        order = OrderDraft(person, storefront, kind, channel, placed_at, currency, is_invoiced,
                           lines, sequence=len(self.orders))
        for number, line in enumerate(lines, start=1):
            line.line_id = str(number)
        settle(self.rng, habits, order)
        self.orders.append(order)
        return order


@dataclass(frozen=True)
class Buyer:
    person: Person
    habits: PayingHabits
    storefront: str
    currency: str
    channel: str
    is_invoiced: bool = False


def priced(plan: Plan, currency: str, percent: int = 100) -> int:
    # Whole jiao for CNY, whole cents for USD, like the catalogue.
    step = 10 if currency == "CNY" else 1
    return plan.price(currency) * percent // 100 // step * step


def prepaid_chain(ctx: Context, buyer: Buyer, bundle: list[Plan], first_placed: datetime, *,
                  churn: float, percent: int = 100, upgrade_chance: float = 0.0,
                  first_overrides: FirstOrderPrices | None = None,
                  ) -> datetime | None:
    """Generate the chain's orders (and its subscriptions if it runs at `now`).

    All plans of the bundle share one period length, so they renew together in one order.
    Returns when the chain ended, or None when it is still running.
    """
    rng, now = ctx.rng, ctx.now
    zone = zone_for(buyer.currency)
    plans = list(bundle)
    bought: list[list[tuple[OrderDraft, LineDraft]]] = [[] for _ in plans]
    placed = first_placed.astimezone(zone)
    start = placed + seconds(rng.randint(30, 600))  # provisioning takes a few minutes
    kind = "new"
    current: tuple[datetime, datetime] | None = None
    renews, cancelled_at = True, None
    while True:
        end = period_end(start, plans[0].unit, plans[0].count)
        lines = []
        for index, plan in enumerate(plans):
            paid = priced(plan, buyer.currency, percent)
            flags: tuple[str, ...] = ()
            if kind == "new" and first_overrides and index in first_overrides:
                paid, flags = first_overrides[index]
            lines.append(LineDraft(plan, start, end, plan.list_price(buyer.currency),
                                   min(paid, plan.list_price(buyer.currency)), plan.term,
                                   list(flags)))
        order = _place(ctx, buyer, kind, placed, lines)
        for index, line in enumerate(lines):
            bought[index].append((order, line))
        if start > now:
            break  # renewed ahead of time; the period covering now is the previous one
        if start <= now < end:
            current = (start, end)
        if plans[0].product == CVM and rng.random() < upgrade_chance:
            upgrade = _upgrade(ctx, buyer, plans[0], start, end, placed, percent)
            if upgrade:
                plans[0] = upgrade[1].plan
                bought[0].append(upgrade)
                upgrade_chance = 0.0
        renews = rng.random() >= churn
        if not renews:
            if current:
                cancelled_at = between(rng, max(placed, start), now)
            break
        next_placed = end - seconds(rng.randint(300, 2 * 86400))
        if next_placed > now:
            break
        placed, start, kind = next_placed, end, "renewal"
    if current is None:
        return end
    for plan, lines_bought in zip(plans, bought, strict=True):
        if plan.product.code in SUBSCRIBED_PRODUCTS:
            ctx.subscriptions.append(SubscriptionDraft(
                buyer.person, plan, current[0], current[1], renews, cancelled_at, lines_bought))
    return None


def _place(ctx: Context, buyer: Buyer, kind: str, placed: datetime,
           lines: list[LineDraft]) -> OrderDraft:
    return ctx.place(buyer.person, buyer.habits, storefront=buyer.storefront, kind=kind,
                     channel=buyer.channel, placed_at=placed, currency=buyer.currency,
                     is_invoiced=buyer.is_invoiced, lines=lines)


def _upgrade(ctx: Context, buyer: Buyer, old: Plan, start: datetime, end: datetime,
             placed: datetime, percent: int) -> tuple[OrderDraft, LineDraft] | None:
    """A bigger server for the rest of the period: a prepaid line of whole days."""
    size = CVM_SIZES.index(old.sku.rsplit(".", 1)[1])
    if size + 1 == len(CVM_SIZES):
        return None
    new = (CVM_MONTHLY if old.unit == "month" else CVM_YEARLY)[CVM_SIZES[size + 1]]
    rng, currency = ctx.rng, buyer.currency
    days = (end - start).days
    remaining = rng.randint(5, days - 3)
    upgrade_start = end - timedelta(days=remaining)
    if upgrade_start > ctx.now - HOUR or upgrade_start < max(start, placed) + DAY:
        return None
    step = 10 if currency == "CNY" else 1
    listed = (new.list_price(currency) - old.list_price(currency)) * remaining // days
    paid = ((new.price(currency) - old.price(currency)) * remaining // days
            * percent // 100 // step * step)
    paid = min(paid, listed)
    if paid <= 0:
        return None
    line = LineDraft(new, upgrade_start, end, listed, paid, ("day", remaining))
    order = _place(ctx, buyer, "upgrade", upgrade_start - seconds(rng.randint(20, 180)), [line])
    return order, line
