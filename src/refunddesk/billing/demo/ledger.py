"""The stored-balance ledger behind the demo's balance payments.

An account tops up before it spends, in round sums, so that walking its entries in time
order the balance never dips below zero; each balance payment is one negative entry that
names the payment it paid for.
"""

from __future__ import annotations

import math
import random
from datetime import timedelta

from refunddesk.billing.demo.drafts import EntryDraft, OrderDraft
from refunddesk.billing.models import BalanceEntryKind, Funding

TOP_UP_STEPS = {"CNY": (10000, 50000, 100000, 200000), "USD": (2000, 5000, 10000)}
TOP_UP_METHODS = ("Alipay", "WeChat Pay", "card")


def build_ledger(rng: random.Random, orders: list[OrderDraft]) -> list[EntryDraft]:
    """Entries for every balance payment of `orders`."""
    entries: list[EntryDraft] = []
    balances: dict[tuple[str, str], int] = {}
    top_ups: dict[str, int] = {}
    spent = sorted(
        ((payment.paid_at, order.sequence, order, payment)
         for order in orders for payment in order.payments
         if payment.funding == Funding.BALANCE and payment.paid_at is not None),
        key=lambda item: item[:2])
    for paid_at, _, order, payment in spent:
        person = order.person
        assert person.created_at is not None
        key = (person.external_id, order.currency)
        held = balances.get(key, 0)
        if held < payment.amount_minor:
            step = rng.choice(TOP_UP_STEPS[order.currency])
            amount = math.ceil((payment.amount_minor - held) / step) * step
            earliest = person.created_at + timedelta(seconds=30)
            latest = paid_at - timedelta(seconds=5)
            before = timedelta(seconds=rng.randint(600, 3 * 86400))
            moment = max(earliest, latest - before) if earliest < latest else latest
            top_ups[person.external_id] = number = top_ups.get(person.external_id, 0) + 1
            entries.append(EntryDraft(
                person, order.currency, amount, BalanceEntryKind.TOP_UP.value,
                f"top-up:{person.external_id}/{number}",
                f"Top-up by {rng.choice(TOP_UP_METHODS)}", moment))
            held += amount
        balances[key] = held - payment.amount_minor
        entries.append(EntryDraft(
            person, order.currency, -payment.amount_minor, BalanceEntryKind.PAYMENT.value,
            f"payment:{order.external_id}/{payment.payment_id}",
            f"Order {order.external_id}", paid_at))
    # Stable: a top-up and the payment it paid for never swap places.
    entries.sort(key=lambda entry: entry.created_at)
    return entries
