"""Money back by the original route, in a real browser: a customer with three VPN refunds,
paid by Alipay, by WeChat Pay and by PayPal, follows each from approved through paying to
refunded while the worker pays them through each provider's local stand-in (and the
providers' notifications reach the live server), and reads where the money went.

The stand-ins check the adapters' real signatures; WeChat Pay and PayPal tell the end of
their refunds by notification to /gateways/<name>/notify, Alipay (which has none) by the
worker's question.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from playwright.sync_api import Page, expect

from refunddesk.cases import actions
from refunddesk.cases.actors import AccountHolder
from refunddesk.cases.models import RefundCase
from refunddesk.payouts import gateways
from refunddesk.payouts.models import Payout
from refunddesk.payouts.runner import run_pass
from tests.browser.test_customer_journey import EMAIL, PASSWORD, log_in
from tests.payouts.alipay_standin import AlipayStandIn
from tests.payouts.paypal_standin import PayPalStandIn
from tests.payouts.wechat_pay_standin import WeChatPayStandIn
from tests.portal.builders import customer_for, import_order, when
from tests.staff import staff_member

pytestmark = pytest.mark.browser

ALIPAY_TRADE = "2026120422001412345678901234"
WECHAT_TRANSACTION = "4200002026120412345678905678"
PAYPAL_CAPTURE = "7MS12345AB6789012"


@dataclass
class StandIns:
    alipay: AlipayStandIn
    wechat: WeChatPayStandIn
    paypal: PayPalStandIn


@pytest.fixture
def standins(settings, live_server) -> Iterator[StandIns]:
    """The three gateways pointed at their stand-ins; WeChat Pay told to notify the live
    server, as it would notify the desk's public address."""
    with AlipayStandIn() as alipay, WeChatPayStandIn() as wechat, PayPalStandIn() as paypal:
        configured = copy.deepcopy(settings.REFUNDDESK_GATEWAYS)
        configured["alipay"]["OPTIONS"] = alipay.gateway_options()
        configured["wechat_pay"]["OPTIONS"] = wechat.gateway_options(
            notify_url=f"{live_server.url}/gateways/wechat_pay/notify")
        configured["paypal"]["OPTIONS"] = paypal.gateway_options()
        settings.REFUNDDESK_GATEWAYS = configured
        gateways.reset()
        yield StandIns(alipay, wechat, paypal)
        gateways.reset()


@pytest.fixture(autouse=True)
def nothing_leaves_the_test(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


def vpn_year(order_id: str, *, method: str, reference: str, currency: str = "CNY",
             amount: str = "300.00") -> RefundCase:
    """A VPN year bought three days ago by li.lei@example.com through `method`, refunded
    under the 30-day guarantee (at once, or by a reviewer), its payout back by the same
    route."""
    placed = timezone.now() - timedelta(days=3)
    facts: dict[str, Any] = {
        "id": order_id,
        "account": {"id": "acct-li-lei", "email": EMAIL, "name": "李雷",
                    "created_at": "2025-01-01T09:00:00+08:00"},
        "kind": "new", "channel": "direct", "placed_at": when(placed), "currency": currency,
        "invoiced": False,
        "lines": [{
            "id": "1", "sku": "vpn.year", "product": "vpn", "category": "vpn",
            "billing": "prepaid", "term": {"unit": "year", "count": 1},
            "service_start": when(placed), "service_end": when(placed + timedelta(days=365)),
            "list_price": amount, "amount_paid": amount, "flags": [],
        }],
        "payments": [{"id": "P1", "method": method, "funding": "cash", "amount": amount,
                      "paid_at": when(placed), "gateway": method, "reference": reference}],
    }
    order = import_order(facts)
    case = actions.submit(account=order.account, order=order, line_ids=["1"],
                          actor=AccountHolder(order.account.pk), channel="portal",
                          language="zh-hans")
    if case.state == "in_review":
        # The guarantee is once per customer: the second and third go to a reviewer
        reviewer = (get_user_model().objects.filter(username="reviewer-zhou").first()
                    or staff_member("reviewer-zhou", "reviewer"))
        case = actions.approve(case, actor=reviewer)
    assert case.state == "approved", case.state
    return case


def shows(page: Page, base_url: str, case: RefundCase, state: str, payout: str) -> None:
    """The case's own page says `state` and lists its payout with `payout` (where the money
    goes and what became of it)."""
    page.goto(f"{base_url}/refunds/{case.tracking_number}")
    expect(page.locator(".case-summary")).to_contain_text(state)
    expect(page.locator("ul.payouts")).to_contain_text(payout)


def test_refunds_paid_by_alipay_wechat_pay_and_paypal_go_back_the_way_they_came(
        live_server, page, standins, screenshot):
    # Given three approved refunds of one customer, one per provider, each slow to settle
    standins.alipay.add_payment(ALIPAY_TRADE, 30000, behaviour="pending")
    standins.wechat.add_payment(WECHAT_TRANSACTION, 30000, behaviour="processing")
    standins.paypal.add_payment(PAYPAL_CAPTURE, 4500, currency="USD", behaviour="pending")
    by_alipay = vpn_year("VPN-ALIPAY-1", method="alipay", reference=ALIPAY_TRADE)
    by_wechat = vpn_year("VPN-WECHAT-1", method="wechat_pay", reference=WECHAT_TRANSACTION)
    by_paypal = vpn_year("VPN-PAYPAL-1", method="paypal", reference=PAYPAL_CAPTURE,
                         currency="USD", amount="45.00")
    customer_for(by_alipay.account, password=PASSWORD)
    base = live_server.url
    log_in(page, base)

    # The customer sees each approved, its money not yet on its way
    shows(page, base, by_alipay, "已批准", "支付宝 ****1234")
    shows(page, base, by_wechat, "已批准", "微信支付 ****5678")
    shows(page, base, by_paypal, "已批准", "PayPal ****9012")

    # When the worker sends the three refunds, each provider takes its own
    run_pass()
    assert sum(standins.alipay.refunds_made.values()) == 1
    assert sum(standins.wechat.refunds_made.values()) == 1
    assert sum(standins.paypal.refunds_made_by_key.values()) == 1

    # Then the customer sees each paying, on its way back by the route it came
    shows(page, base, by_alipay, "退款中", "支付宝 ****1234")
    shows(page, base, by_wechat, "退款中", "微信支付 ****5678")
    shows(page, base, by_paypal, "退款中", "PayPal ****9012")
    screenshot(page, "provider-refund-paying")

    # When WeChat Pay and PayPal finish and tell the desk, and Alipay finishes and the
    # worker asks it
    wechat_key = Payout.objects.get(case=by_wechat).idempotency_key
    standins.wechat.settle(wechat_key, "SUCCESS", send_notification=True)
    paypal_refund = Payout.objects.get(case=by_paypal).gateway_refund_id
    standins.paypal.settle(paypal_refund)
    assert standins.paypal.notify(base, paypal_refund) == 200
    standins.alipay.settle(Payout.objects.get(case=by_alipay).idempotency_key)
    run_pass(now=timezone.now() + timedelta(hours=1))

    # Then each is refunded, and the customer reads where the money went and when
    paid_on = f"已于 {timezone.localdate():%Y-%m-%d} 到账"
    for case, route in ((by_alipay, "支付宝 ****1234"), (by_wechat, "微信支付 ****5678"),
                        (by_paypal, "PayPal ****9012")):
        case.refresh_from_db()
        assert case.state == "refunded"
        shows(page, base, case, "已退款", route)
        expect(page.locator("ul.payouts li.payout-paid")).to_contain_text(paid_on)
    screenshot(page, "provider-refund-refunded")
    actions_of = [list(case.events.values_list("action", flat=True))[-2:]
                  for case in (by_alipay, by_wechat, by_paypal)]
    assert actions_of == [["payouts_submitted", "all_settled"]] * 3
