"""Cases whose payouts are real: orders imported through the real path, applied for through
the actions (approved at once), and the worker's payout pass run against the sandbox
gateway, which settles at once unless the payment's reference says otherwise
(`expired_card`: the refund fails; `balance_low`: it stays on its way)."""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any

from django.utils import timezone

from refunddesk.billing.models import Product
from refunddesk.cases import actions
from refunddesk.cases.actors import AccountHolder
from refunddesk.cases.models import RefundCase
from refunddesk.payouts import gateways
from refunddesk.payouts.runner import run_pass
from refunddesk.policy.money import format_amount, parse_amount
from tests.conftest import EXAMPLE_ORDER
from tests.portal.builders import customer_for, import_order, when

ALIPAY_REFERENCE = "2026030122001234"


def vpn_case(order_id: str = "VPN-PAY-1", *, reference: str = ALIPAY_REFERENCE,
             account_id: str | None = None, email: str | None = None,
             voucher: str | None = None, language: str = "en",
             with_login: bool = False) -> RefundCase:
    """A VPN year bought three days ago for 300.00 CNY by Alipay with `reference` (less
    `voucher`, paid by a voucher, when given): the 30-day guarantee approves it at once,
    back to Alipay (and as voucher credit)."""
    placed = timezone.now() - timedelta(days=3)
    account_id = account_id or f"acct-{order_id.lower()}"
    facts: dict[str, Any] = {
        "id": order_id,
        "account": {"id": account_id, "email": email or f"{account_id}@example.com",
                    "name": "韩梅梅", "created_at": "2025-01-01T09:00:00+08:00"},
        "kind": "new", "channel": "direct", "placed_at": when(placed), "currency": "CNY",
        "invoiced": False,
        "lines": [{
            "id": "1", "sku": "vpn.year", "product": "vpn", "category": "vpn",
            "billing": "prepaid", "term": {"unit": "year", "count": 1},
            "service_start": when(placed), "service_end": when(placed + timedelta(days=365)),
            "list_price": "300.00", "amount_paid": "300.00", "flags": [],
        }],
        "payments": [{"id": "P1", "method": "alipay", "funding": "cash", "amount": "300.00",
                      "paid_at": when(placed), "gateway": "sandbox",
                      "reference": reference}],
    }
    if voucher is not None:
        cash = parse_amount("300.00", "CNY") - parse_amount(voucher, "CNY")
        facts["payments"][0]["amount"] = format_amount(cash, "CNY")
        facts["payments"].append({"id": "P2", "method": "voucher", "funding": "voucher",
                                  "amount": voucher})
    return _applied(import_order(facts), language=language, with_login=with_login)


def server_case(order_id: str = "TC-PAY-1", *, policy: str = "tencent-cloud",
                language: str = "en", with_login: bool = False) -> RefundCase:
    """The DESIGN example order (900.00 Alipay + 60.00 voucher), its server started
    yesterday: inside the five days. Tencent Cloud sends the cash to the account
    balance; Alibaba Cloud back to Alipay, or to the balance when Alipay cannot take it."""
    start = timezone.now() - timedelta(days=1)
    facts = copy.deepcopy(EXAMPLE_ORDER)
    facts.update(id=order_id, placed_at=when(start - timedelta(minutes=5)))
    facts["account"].update(id=f"acct-{order_id.lower()}",
                            email=f"{order_id.lower()}@example.com")
    facts["lines"][0].update(service_start=when(start),
                             service_end=when(start + timedelta(days=365)))
    facts["payments"][0]["paid_at"] = when(start - timedelta(minutes=4))
    order = import_order(facts)
    Product.objects.filter(code="cvm").update(policy_id=policy)
    return _applied(order, language=language, with_login=with_login)


def _applied(order: Any, *, language: str, with_login: bool) -> RefundCase:
    customer = (customer_for(order.account) if with_login
                else AccountHolder(order.account.pk))
    case = actions.submit(account=order.account, order=order, line_ids=["1"], actor=customer,
                          channel="portal", language=language)
    assert case.state == "approved", case.state
    return case


def switch_off_alipay(settings: Any) -> None:
    """The sandbox provider cannot take Alipay refunds at the moment."""
    settings.REFUNDDESK_GATEWAYS["sandbox"]["OPTIONS"]["unavailable_methods"] = ["alipay"]
    gateways.reset()


def pay(case: RefundCase) -> RefundCase:
    """The worker's payout pass for this case; the case as it is afterwards."""
    run_pass(case_ids=[case.pk])
    return RefundCase.objects.get(pk=case.pk)
