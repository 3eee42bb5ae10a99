"""Order → order facts (DESIGN.md): the only thing the policy engine ever sees of an order.

Times are written in the business time zone (settings.TIME_ZONE) with their offset; amounts
as decimal strings in the order's currency. The account's history lists its other orders.
Refunds made earlier are known to the cases app, which passes them in (`refunds=`): billing
sits below cases and must not reach up into it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from refunddesk.billing.models import Order, OrderLine
from refunddesk.policy.money import format_amount

Facts = dict[str, Any]


def _when(moment: datetime | None) -> str | None:
    return timezone.localtime(moment).isoformat() if moment else None


def orders_with_facts() -> QuerySet[Order]:
    """Orders with everything order_facts reads, in four queries however many lines."""
    return (
        Order.objects.select_related("account")
        .prefetch_related(Prefetch("lines", OrderLine.objects.select_related("product")),
                          "lines__usage", "payments")
    )


def load_order(external_id: str) -> Order:
    return orders_with_facts().get(external_id=external_id)


def with_facts(order: Order) -> Order:
    """`order` itself when it was read by orders_with_facts(), else read that way: callers
    that already hold the order (the API checks it before opening a case) pass it down
    instead of having it read twice."""
    cached = getattr(order, "_prefetched_objects_cache", {})
    if "lines" in cached and "payments" in cached:
        return order
    return load_order(order.external_id)


def order_facts(order: Order, *, refunds: Iterable[Facts] = (),
                with_history: bool = True, other_orders: list[Facts] | None = None) -> Facts:
    """The order as the policy engine reads it; `other_orders` is the account's history of
    orders when the caller read it already (orders_of_accounts), else it is read here."""
    facts: Facts = {
        "id": order.external_id,
        "account": account_facts(order),
        "kind": order.kind,
        "channel": order.channel,
        "placed_at": _when(order.placed_at),
        "currency": order.currency,
        "invoiced": order.is_invoiced,
        "lines": [line_facts(line, order.currency) for line in order.lines.all()],
        "payments": [
            {
                "id": p.payment_id,
                "method": p.method,
                "funding": p.funding,
                "amount": format_amount(p.amount_minor, order.currency),
                **({"paid_at": _when(p.paid_at)} if p.paid_at else {}),
                **({"gateway": p.gateway} if p.gateway else {}),
                **({"reference": p.reference} if p.reference else {}),
            }
            for p in order.payments.all()
        ],
    }
    if with_history:
        facts["history"] = {"refunds": list(refunds),
                            "orders": (history_orders(order) if other_orders is None
                                       else other_orders)}
    return facts


def account_facts(order: Order) -> Facts:
    account = order.account
    facts: Facts = {"id": account.external_id, "email": account.email, "name": account.name}
    if account.phone:
        facts["phone"] = account.phone
    facts["created_at"] = _when(account.created_at)
    return facts


def line_facts(line: OrderLine, currency: str) -> Facts:
    facts: Facts = {
        "id": line.line_id,
        "sku": line.sku,
        "product": line.product.code,
        "category": line.product.category,
        "billing": line.billing,
        "term": {"unit": line.term_unit, "count": line.term_count} if line.term_unit else None,
        "service_start": _when(line.service_start),
        "service_end": _when(line.service_end),
        "list_price": format_amount(line.list_price_minor, currency),
        "amount_paid": format_amount(line.amount_paid_minor, currency),
        "flags": list(line.flags),
    }
    usage = list(line.usage.all())
    if usage:
        facts["usage"] = [
            {"metric": u.metric, "quantity": _plain(u.quantity), "unit": u.unit,
             "period_start": _when(u.period_start), "period_end": _when(u.period_end)}
            for u in usage
        ]
    return facts


def _plain(quantity: Any) -> str:
    # "12.500000" from the database is "12.5" in the facts, as the sender wrote it.
    text = format(quantity.normalize(), "f")
    return text


def history_orders(order: Order) -> list[Facts]:
    """The account's other orders, one entry per product bought, oldest first."""
    orders = orders_of_accounts([order.account_id]).get(order.account_id)
    return orders.without(order) if orders is not None else []


class AccountOrders:
    """An account's orders as the facts' history lists them, oldest first: each order's
    products once. `without(order)` is the history of one of them."""

    def __init__(self) -> None:
        self.entries: list[tuple[int, Facts]] = []  # (order pk, entry)
        self._seen: set[tuple[int, str]] = set()

    def add(self, order_pk: int, external_id: str, product: str, kind: str,
            placed_at: datetime | None) -> None:
        if (order_pk, product) in self._seen:
            return
        self._seen.add((order_pk, product))
        self.entries.append((order_pk, {"id": external_id, "product": product, "kind": kind,
                                        "placed_at": _when(placed_at)}))

    def without(self, order: Order) -> list[Facts]:
        return [dict(entry) for order_pk, entry in self.entries if order_pk != order.pk]


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
