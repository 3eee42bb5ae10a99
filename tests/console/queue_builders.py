"""Cases in bulk for the queue tests, written straight into the tables.

The queue only reads cases, and a page test needs a hundred of them in chosen states,
channels, amounts and clocks: going through `actions.submit` for each would test the
assessment a hundred times over. Claim and assign tests use real cases (conftest's
`case_in_review`)."""

from __future__ import annotations

import itertools
import re
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from refunddesk.billing.models import Account, Order, OrderLine, Product
from refunddesk.cases.models import CaseLine, RefundCase
from refunddesk.cases.tracking import new_tracking_number
from tests.portal.builders import ensure_products

_numbers = itertools.count(1)

# The moment the builders count from; tests pass times relative to it, never the clock.
START = datetime(2026, 3, 2, 10, 0, tzinfo=timezone.get_fixed_timezone(8 * 60))


def account(email: str | None = None, name: str = "Queue Customer") -> Account:
    n = next(_numbers)
    return Account.objects.create(external_id=f"acct-q{n}", email=email or f"q{n}@example.com",
                                  name=name, created_at=START - timedelta(days=400))


def order(owner: Account | None = None, *, products: tuple[str, ...] = ("cvm",),
          external_id: str | None = None, currency: str = "CNY") -> Order:
    """An order with one line per product code."""
    ensure_products()
    owner = owner or account()
    placed = START - timedelta(days=10)
    made = Order.objects.create(external_id=external_id or f"Q-{next(_numbers):06d}",
                                account=owner, kind="new", channel="direct",
                                placed_at=placed, currency=currency)
    for position, code in enumerate(products, start=1):
        OrderLine.objects.create(
            order=made, line_id=str(position), position=position, sku=f"{code}.std",
            product=Product.objects.get(code=code), billing="prepaid", term_unit="year",
            term_count=1, service_start=placed, service_end=placed + timedelta(days=365),
            list_price_minor=100000, amount_paid_minor=100000)
    return made


def case(of: Order | None = None, *, rules: tuple[str, ...] = ("prorated",),
         **fields: Any) -> RefundCase:
    """A case for every line of `of` (a new order when omitted), in review by default.
    `fields` are RefundCase fields: state, channel, submitted_at, sla_due_at, …"""
    of = of or order()
    values: dict[str, Any] = dict(
        tracking_number=new_tracking_number(), account=of.account, order=of,
        channel="portal", state="in_review", policy_ref="tencent-cloud@1", assessment={},
        currency=of.currency, assessed_total_minor=50000, submitted_at=START,
        language="en")
    values.update(fields)
    made = RefundCase.objects.create(**values)
    lines = list(of.lines.order_by("position"))
    for line, rule in zip(lines, itertools.cycle(rules), strict=False):
        # Several test cases may share an order; only the queue reads these lines.
        CaseLine.objects.create(case=made, order_line=line, rule=rule,
                                assessed_minor=50000 // len(lines), holds_line=False)
    return made


def many(count: int, *, shared: Order | None = None, step: timedelta = timedelta(minutes=7),
         **fields: Any) -> list[RefundCase]:
    """`count` cases on one order, submitted `step` apart (the first at START), due a day
    after submission, every fifth with the same submission time as the one before (ties
    the keyset has to break by id) and amounts varying."""
    shared = shared or order()
    made = []
    for n in range(count):
        submitted = START + step * (n - n % 5 // 4)
        values = dict(submitted_at=submitted, sla_due_at=submitted + timedelta(days=1),
                      assessed_total_minor=10000 + (n * 7919) % 90000)
        values.update(fields)
        made.append(case(shared, **values))
    return made


def html(response):
    return response.content.decode()


def shown_tracking_numbers(response):
    """The tracking numbers of the queue's rows, in the order shown."""
    return re.findall(r'<a class="tracking" href="/console/cases/([A-Z0-9-]+)">', html(response))
