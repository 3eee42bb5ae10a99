"""The demo's customers: who buys what, in which currency, how they pay, and the few whose
first purchase is recent enough that a money-back window is open at `now`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from refunddesk.billing.demo.payments import PayingHabits, usual_cash_methods
from refunddesk.billing.demo.people import People, Person
from refunddesk.billing.demo.periods import between, waking_moment, zone_for

ACCOUNT_COUNT = 300
# Enough open windows that the demo always has live refund cases, whatever `now` is.
FIVE_DAY_CUSTOMERS = 18
MONEY_BACK_CUSTOMERS = 20
# Customers who bought a domain with its certificate a few days ago: one order whose lines
# fall under two refund policies (Huawei Cloud's for the domain, Alibaba Cloud's for the
# certificate), so the demo shows a quote grouped by policy and one case per policy.
NEW_SITE_CUSTOMERS = 3


@dataclass(eq=False)
class Customer:
    person: Person
    buys_cloud: bool
    buys_vpn: bool
    cloud_currency: str
    vpn_currency: str
    habits: PayingHabits
    is_business: bool
    active_from: datetime
    # "five_day": a new server bought in the last few days; "money_back": a first VPN
    # subscription in the last 30 days; "new_site": a domain and its certificate bought in
    # the last few days (two refund policies in one order); "" for everyone else.
    recent: str = ""
    first_purchase_at: datetime | None = None


def make_customers(rng: random.Random, now: datetime, window_start: datetime,
                   count: int = ACCOUNT_COUNT) -> list[Customer]:
    people = People(rng)
    customers = []
    for index in range(count):
        persona = rng.choices(("cloud", "vpn", "both"), weights=(50, 42, 8))[0]
        chinese_share = {"cloud": 0.85, "vpn": 0.45, "both": 0.7}[persona]
        person = people.make(f"acct-{1001 + index}", is_chinese=rng.random() < chinese_share)
        if rng.random() < 0.55:
            person.created_at = between(rng, window_start - timedelta(days=900), window_start)
        else:
            person.created_at = waking_moment(rng, window_start, now - timedelta(days=2),
                                              zone_for("CNY"))
        cloud_currency = "CNY" if person.is_chinese or rng.random() < 0.5 else "USD"
        vpn_currency = "CNY" if person.is_chinese and rng.random() < 0.35 else "USD"
        habits = PayingHabits(usual_cash_methods(rng), uses_balance=rng.random() < 0.35)
        customers.append(Customer(
            person, buys_cloud=persona != "vpn", buys_vpn=persona != "cloud",
            cloud_currency=cloud_currency, vpn_currency=vpn_currency, habits=habits,
            is_business=persona != "vpn" and rng.random() < 0.2,
            active_from=window_start,
        ))
    _make_recent(rng, customers, now, window_start)
    for customer in customers:
        assert customer.person.created_at is not None
        customer.active_from = max(window_start,
                                   customer.person.created_at + timedelta(minutes=5))
    return customers


def _make_recent(rng: random.Random, customers: list[Customer], now: datetime,
                 window_start: datetime) -> None:
    cloud_only = [c for c in customers if c.buys_cloud and not c.buys_vpn
                  and c.cloud_currency == "CNY"]
    for customer in rng.sample(cloud_only, FIVE_DAY_CUSTOMERS):
        customer.recent = "five_day"
        assert customer.person.created_at is not None
        latest_creation = now - timedelta(days=6)
        if customer.person.created_at > latest_creation:
            customer.person.created_at = between(rng, window_start, latest_creation)
    # Chosen in list order, not drawn: the first few private customers left.
    site_buyers = [c for c in cloud_only if not c.recent and not c.is_business]
    for customer in site_buyers[:NEW_SITE_CUSTOMERS]:
        customer.recent = "new_site"
        assert customer.person.created_at is not None
        customer.person.created_at = min(customer.person.created_at,
                                         now - timedelta(days=6))
    vpn_only = [c for c in customers if c.buys_vpn and not c.buys_cloud]
    for customer in rng.sample(vpn_only, MONEY_BACK_CUSTOMERS):
        customer.recent = "money_back"
        first = between(rng, now - timedelta(days=29), now - timedelta(hours=1))
        customer.first_purchase_at = first
        customer.person.created_at = first - timedelta(seconds=rng.randint(180, 20 * 86400))
