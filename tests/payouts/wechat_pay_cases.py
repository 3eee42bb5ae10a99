"""Cases paid by WeChat Pay whose payouts go to the WeChat Pay stand-in: the gateway's
settings pointed at it, and a VPN year bought three days ago by WeChat Pay, approved at
once under the 30-day guarantee, back to WeChat Pay."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from refunddesk.cases import actions
from refunddesk.cases.actors import AccountHolder
from refunddesk.cases.models import RefundCase
from refunddesk.payouts import gateways
from refunddesk.payouts.models import Payout
from tests.payouts.wechat_pay_standin import WeChatPayStandIn
from tests.portal.builders import import_order, when

BACKEND = "refunddesk.payouts.gateways.wechat_pay.WeChatPayGateway"


def use_standin(settings: Any, standin: WeChatPayStandIn, **options: Any) -> None:
    """settings.REFUNDDESK_GATEWAYS["wechat_pay"] pointing at the stand-in (a new dict: the
    settings fixture restores the attribute, not what is inside it)."""
    settings.REFUNDDESK_GATEWAYS = {
        **settings.REFUNDDESK_GATEWAYS,
        "wechat_pay": {"BACKEND": BACKEND, "OPTIONS": standin.gateway_options(**options)}}
    gateways.reset()


def wechat_case(order_id: str, reference: str, *, amount: str = "300.00") -> RefundCase:
    """A VPN year bought three days ago for `amount` CNY by WeChat Pay (order `reference`),
    approved at once, its payout back to WeChat Pay waiting to be sent."""
    placed = timezone.now() - timedelta(days=3)
    facts: dict[str, Any] = {
        "id": order_id,
        "account": {"id": f"acct-{order_id.lower()}", "email": f"{order_id.lower()}@example.com",
                    "name": "韩梅梅", "created_at": "2025-01-01T09:00:00+08:00"},
        "kind": "new", "channel": "direct", "placed_at": when(placed), "currency": "CNY",
        "invoiced": False,
        "lines": [{
            "id": "1", "sku": "vpn.year", "product": "vpn", "category": "vpn",
            "billing": "prepaid", "term": {"unit": "year", "count": 1},
            "service_start": when(placed), "service_end": when(placed + timedelta(days=365)),
            "list_price": amount, "amount_paid": amount, "flags": [],
        }],
        "payments": [{"id": "P1", "method": "wechat_pay", "funding": "cash", "amount": amount,
                      "paid_at": when(placed), "gateway": "wechat_pay",
                      "reference": reference}],
    }
    order = import_order(facts)
    case = actions.submit(account=order.account, order=order, line_ids=["1"],
                          actor=AccountHolder(order.account.pk), channel="portal",
                          language="en")
    assert case.state == "approved", case.state
    return case


def payout_of(case: RefundCase) -> Payout:
    return Payout.objects.get(case=case, destination="original")
