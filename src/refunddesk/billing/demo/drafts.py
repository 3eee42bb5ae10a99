"""The demo's orders, subscriptions and balance entries while they are being made.

Drafts hold integers and aware datetimes; `facts()` renders an order in the order-facts
format of DESIGN.md, times in the storefront's zone and amounts as decimal strings.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from refunddesk.billing.demo.catalog import Plan
from refunddesk.billing.demo.people import Person
from refunddesk.billing.demo.periods import zone_for
from refunddesk.policy.money import format_amount


@dataclass(eq=False)
class LineDraft:
    plan: Plan
    service_start: datetime | None
    service_end: datetime | None
    list_minor: int
    paid_minor: int
    term: tuple[str, int] | None
    flags: list[str] = field(default_factory=list)
    usage_hours: int = 0
    line_id: str = ""


@dataclass(eq=False)
class PaymentDraft:
    method: str
    funding: str
    amount_minor: int
    paid_at: datetime | None = None
    gateway: str = ""
    reference: str = ""
    payment_id: str = ""


@dataclass(eq=False)
class OrderDraft:
    person: Person
    storefront: str
    kind: str
    channel: str
    placed_at: datetime
    currency: str
    is_invoiced: bool
    lines: list[LineDraft] = field(default_factory=list)
    payments: list[PaymentDraft] = field(default_factory=list)
    external_id: str = ""
    # Creation order breaks ties between orders placed in the same second.
    sequence: int = 0

    @property
    def total_minor(self) -> int:
        return sum(line.paid_minor for line in self.lines)

    def facts(self) -> dict[str, Any]:
        zone = zone_for(self.currency)

        def when(moment: datetime) -> str:
            return moment.astimezone(zone).isoformat()

        def money(minor: int) -> str:
            return format_amount(minor, self.currency)

        assert self.person.created_at is not None
        return {
            "id": self.external_id,
            "account": self.person.facts(when(self.person.created_at)),
            "kind": self.kind,
            "channel": self.channel,
            "placed_at": when(self.placed_at),
            "currency": self.currency,
            "invoiced": self.is_invoiced,
            "lines": [_line_facts(line, when, money) for line in self.lines],
            "payments": [_payment_facts(p, when, money) for p in self.payments],
        }


Render = Callable[[Any], str]


def _line_facts(line: LineDraft, when: Render, money: Render) -> dict[str, Any]:
    facts: dict[str, Any] = {
        "id": line.line_id,
        "sku": line.plan.sku,
        "product": line.plan.product.code,
        "category": line.plan.product.category,
        "billing": line.plan.billing,
    }
    if line.term:
        facts["term"] = {"unit": line.term[0], "count": line.term[1]}
    if line.service_start:
        facts["service_start"] = when(line.service_start)
    if line.service_end:
        facts["service_end"] = when(line.service_end)
    facts["list_price"] = money(line.list_minor)
    facts["amount_paid"] = money(line.paid_minor)
    facts["flags"] = list(line.flags)
    if line.usage_hours:
        facts["usage"] = [{
            "metric": "instance_hours", "quantity": str(line.usage_hours), "unit": "hour",
            "period_start": when(line.service_start), "period_end": when(line.service_end),
        }]
    return facts


def _payment_facts(payment: PaymentDraft, when: Render, money: Render) -> dict[str, Any]:
    facts: dict[str, Any] = {
        "id": payment.payment_id,
        "method": payment.method,
        "funding": payment.funding,
        "amount": money(payment.amount_minor),
    }
    if payment.paid_at:
        facts["paid_at"] = when(payment.paid_at)
    if payment.gateway:
        facts["gateway"] = payment.gateway
    if payment.reference:
        facts["reference"] = payment.reference
    return facts


@dataclass(eq=False)
class SubscriptionDraft:
    """A chain of prepaid periods that is still running at `now`."""

    person: Person
    plan: Plan
    period_start: datetime
    period_end: datetime
    is_auto_renew: bool
    auto_renew_cancelled_at: datetime | None
    lines: list[tuple[OrderDraft, LineDraft]]
    external_id: str = ""


@dataclass(eq=False)
class EntryDraft:
    person: Person
    currency: str
    amount_minor: int
    kind: str
    reference: str
    memo: str
    created_at: datetime
