"""Orders, customers and cases for the portal tests, built through the real import path."""

from __future__ import annotations

import copy
from datetime import datetime, timedelta
from typing import Any

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from refunddesk.billing.importing import OrderImporter
from refunddesk.billing.models import Account, Order, OrderLine, Product, Subscription
from refunddesk.billing.order_facts import read_order
from tests.conftest import EXAMPLE_ORDER

PASSWORD = "a-long-customer-password"

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
ELF = b"\x7fELF\x02\x01\x01\x00" + bytes(8) + b"\x02\x00\x3e\x00\x01\x00\x00\x00"


def when(moment: datetime) -> str:
    return timezone.localtime(moment).isoformat()


def ensure_products() -> None:
    Product.objects.update_or_create(code="cvm", defaults=dict(
        category="cloud_server", name_zh="云服务器 CVM", name_en="Cloud Virtual Machine",
        policy_id="tencent-cloud"))
    Product.objects.update_or_create(code="vpn", defaults=dict(
        category="vpn", name_zh="港湾 VPN", name_en="Harbor VPN", policy_id="vpn-30-day"))


def server_order(order_id: str, account_id: str, email: str, *, started_days_ago: float = 1,
                 kind: str = "new") -> Order:
    """The example order of DESIGN.md (960.00 CNY paid: 900.00 Alipay, 60.00 voucher), its
    service started `started_days_ago` days ago: inside Tencent Cloud's five-day window when
    that is under five."""
    start = timezone.now() - timedelta(days=started_days_ago)
    facts = copy.deepcopy(EXAMPLE_ORDER)
    facts.update(id=order_id, kind=kind, placed_at=when(start - timedelta(minutes=5)))
    facts["account"].update(id=account_id, email=email)
    facts["lines"][0].update(service_start=when(start),
                             service_end=when(start + timedelta(days=365)))
    facts["payments"][0]["paid_at"] = when(start - timedelta(minutes=4))
    return import_order(facts)


def mixed_order(order_id: str, account_id: str, email: str, *, started_days_ago: float = 1
                ) -> Order:
    """An order whose two lines fall under two refund policies: the example server (line 1,
    960.00, Tencent Cloud) and a year of VPN (line 2, 300.00, the VPN 30-day guarantee),
    paid 1,200.00 by Alipay and 60.00 by voucher. Both windows are open when started less
    than five days ago; after that the server goes to review, the VPN is still refunded at
    once (within 30 days)."""
    start = timezone.now() - timedelta(days=started_days_ago)
    facts = copy.deepcopy(EXAMPLE_ORDER)
    facts.update(id=order_id, placed_at=when(start - timedelta(minutes=5)))
    facts["account"].update(id=account_id, email=email)
    facts["lines"][0].update(service_start=when(start),
                             service_end=when(start + timedelta(days=365)))
    facts["lines"].append(dict(
        facts["lines"][0], id="2", sku="vpn.year", product="vpn", category="vpn",
        term={"unit": "year", "count": 1}, list_price="300.00", amount_paid="300.00"))
    facts["payments"][0].update(amount="1200.00", paid_at=when(start - timedelta(minutes=4)))
    return import_order(facts)


def vpn_order(order_id: str, account_id: str, email: str, *, placed_days_ago: float = 3,
              lines: int = 1) -> Order:
    """A first VPN purchase, a year for 300.00 CNY per line paid by Alipay: inside the
    30-day money-back guarantee when placed less than 30 days ago, else reviewed."""
    placed = timezone.now() - timedelta(days=placed_days_ago)
    facts: dict[str, Any] = {
        "id": order_id,
        "account": {"id": account_id, "email": email, "name": "韩梅梅",
                    "created_at": "2025-01-01T09:00:00+08:00"},
        "kind": "new", "channel": "direct", "placed_at": when(placed), "currency": "CNY",
        "invoiced": False,
        "lines": [{
            "id": str(n), "sku": "vpn.year", "product": "vpn", "category": "vpn",
            "billing": "prepaid", "term": {"unit": "year", "count": 1},
            "service_start": when(placed), "service_end": when(placed + timedelta(days=365)),
            "list_price": "300.00", "amount_paid": "300.00", "flags": [],
        } for n in range(1, lines + 1)],
        "payments": [{"id": "P1", "method": "alipay", "funding": "cash",
                      "amount": f"{300 * lines}.00", "paid_at": when(placed),
                      "gateway": "sandbox", "reference": f"ref-{order_id}"}],
    }
    return import_order(facts)


def import_order(facts: dict[str, Any]) -> Order:
    ensure_products()
    OrderImporter().import_order(read_order(facts))
    return Order.objects.get(external_id=facts["id"])


def customer_for(account: Account, *, password: str = PASSWORD) -> Any:
    """A portal login linked to the billing account, as the demo and the import create it."""
    user = get_user_model().objects.create_user(username=account.email, email=account.email,
                                                password=password)
    account.user = user
    account.save(update_fields=["user"])
    EmailAddress.objects.create(user=user, email=account.email, verified=True, primary=True)
    return user


def subscription_for(account: Account, *, external_id: str = "SUB-1") -> Subscription:
    ensure_products()
    start = timezone.now() - timedelta(days=10)
    return Subscription.objects.create(
        external_id=external_id, account=account, product=Product.objects.get(code="vpn"),
        sku="vpn.year", term_unit="year", term_count=1, current_period_start=start,
        current_period_end=start + timedelta(days=365))


def line_subscription(order: Order, *, external_id: str = "SUB-CVM-1") -> Subscription:
    """The order's one line runs as a subscription that renews at the end of the line's
    period (as the demo links them)."""
    line = order.lines.get()
    subscription = Subscription.objects.create(
        external_id=external_id, account=order.account, product=line.product, sku=line.sku,
        term_unit="year", term_count=1, current_period_start=line.service_start,
        current_period_end=line.service_end)
    OrderLine.objects.filter(pk=line.pk).update(subscription=subscription)
    return subscription


def pdf(name: str = "receipt.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


def executable_named_pdf() -> SimpleUploadedFile:
    return SimpleUploadedFile("invoice.pdf", ELF, content_type="application/pdf")
