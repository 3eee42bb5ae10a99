"""Cases paid by PayPal: a VPN year bought through PayPal (a capture the stand-in knows),
approved at once under the 30-day guarantee, its payout routed to the "paypal" gateway
pointing at the stand-in."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from refunddesk.cases import actions
from refunddesk.cases.actors import AccountHolder
from refunddesk.cases.models import RefundCase
from refunddesk.payouts import gateways
from tests.payouts.paypal_standin import PayPalStandIn
from tests.portal.builders import import_order, when


def use_standin(settings: Any, standin: PayPalStandIn, **changes: Any) -> None:
    """Point the "paypal" gateway at the stand-in (settings are restored after the test)."""
    settings.REFUNDDESK_GATEWAYS["paypal"]["OPTIONS"] = standin.gateway_options(**changes)
    gateways.reset()


def paypal_case(order_id: str, capture: str, *, amount: str = "30.00",
                currency: str = "USD", paid_days_ago: float = 3) -> RefundCase:
    """A VPN year bought `paid_days_ago` days ago for `amount` by PayPal capture `capture`;
    approved, its payout waiting for the worker."""
    placed = timezone.now() - timedelta(days=paid_days_ago)
    account_id = f"acct-{order_id.lower()}"
    facts: dict[str, Any] = {
        "id": order_id,
        "account": {"id": account_id, "email": f"{account_id}@example.com",
                    "name": "Jane Roe", "created_at": "2025-01-01T09:00:00+00:00"},
        "kind": "new", "channel": "direct", "placed_at": when(placed), "currency": currency,
        "invoiced": False,
        "lines": [{
            "id": "1", "sku": "vpn.year", "product": "vpn", "category": "vpn",
            "billing": "prepaid", "term": {"unit": "year", "count": 1},
            "service_start": when(placed), "service_end": when(placed + timedelta(days=365)),
            "list_price": amount, "amount_paid": amount, "flags": [],
        }],
        "payments": [{"id": "P1", "method": "paypal", "funding": "cash", "amount": amount,
                      "paid_at": when(placed), "gateway": "paypal", "reference": capture}],
    }
    order = import_order(facts)
    case = actions.submit(account=order.account, order=order, line_ids=["1"],
                          actor=AccountHolder(order.account.pk), channel="portal",
                          language="en")
    assert case.state == "approved", case.state
    return case
