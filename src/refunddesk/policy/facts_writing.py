"""The order-facts format written: the inverse of the one reader (facts_reading)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, tzinfo
from typing import Any

from refunddesk.policy.facts import LineFacts, OrderFacts
from refunddesk.policy.money import format_amount


def write_facts(facts: OrderFacts, tz: tzinfo) -> dict[str, Any]:
    """The facts in the order-facts format, times on the wall clock of `tz` with their
    offset: what read_facts reads back into equal facts."""

    def when(moment: datetime) -> str:
        return moment.astimezone(tz).isoformat()

    currency = facts.currency
    account = facts.account
    account_json: dict[str, Any] = {"id": account.id, "email": account.email,
                                    "name": account.name}
    if account.phone:
        account_json["phone"] = account.phone
    account_json["created_at"] = when(account.created_at)
    return {
        "id": facts.id,
        "account": account_json,
        "kind": facts.kind,
        "channel": facts.channel,
        "placed_at": when(facts.placed_at),
        "currency": currency,
        "invoiced": facts.invoiced,
        "lines": [_line_json(line, currency, when) for line in facts.lines],
        "payments": [
            {"id": p.id, "method": p.method, "funding": p.funding,
             "amount": format_amount(p.amount, currency),
             **({"paid_at": when(p.paid_at)} if p.paid_at else {}),
             **({"gateway": p.gateway} if p.gateway else {}),
             **({"reference": p.reference} if p.reference else {})}
            for p in facts.payments
        ],
        "history": {
            "refunds": [
                {"at": when(r.at), "product": r.product, "rule": r.rule,
                 **({"amount": format_amount(r.amount, r.currency), "currency": r.currency}
                    if r.amount is not None and r.currency else {})}
                for r in facts.refunds
            ],
            "orders": [{"id": o.id, "product": o.product, "kind": o.kind,
                        "placed_at": when(o.placed_at)} for o in facts.orders],
        },
    }


def _line_json(line: LineFacts, currency: str, when: Callable[[datetime], str]
               ) -> dict[str, Any]:
    json: dict[str, Any] = {
        "id": line.id, "sku": line.sku, "product": line.product, "category": line.category,
        "billing": line.billing,
        "term": ({"unit": line.term_unit, "count": line.term_count} if line.term_unit
                 else None),
        "service_start": when(line.start) if line.start else None,
        "service_end": when(line.end) if line.end else None,
        "list_price": format_amount(line.list_price, currency),
        "amount_paid": format_amount(line.amount_paid, currency),
        "flags": sorted(line.flags),
    }
    if line.current_price is not None:
        json["current_price"] = format_amount(line.current_price, currency)
    if line.usage:
        json["usage"] = [
            {"metric": u.metric, "quantity": format(u.quantity, "f"), "unit": u.unit,
             "period_start": when(u.period_start),
             **({"period_end": when(u.period_end)} if u.period_end else {})}
            for u in line.usage
        ]
    return json
