"""The customer's half of the journey in a real browser, in Chinese (the site's default):
log in → apply → see the live quote → submit → tracking number → /track shows it; and an
order outside its window goes to review, where the customer can still withdraw it.

The live server runs on the real clock, so the orders are built relative to now: a server
order whose service started two days ago is inside Tencent Cloud's five-day no-reason window
(approved at once); one that started 40 days ago is not (an agent reviews it).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.utils import timezone
from playwright.sync_api import Locator, Page, expect

from refunddesk.billing.importing import OrderImporter
from refunddesk.billing.models import Account, Order, Product
from refunddesk.billing.order_facts import read_order
from tests.conftest import EXAMPLE_ORDER

pytestmark = pytest.mark.browser

EMAIL = "li.lei@example.com"
PASSWORD = "a-long-journey-password"
TRACKING_NUMBER = re.compile(r"^[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{3}$")


# -- given ------------------------------------------------------------------------------------

def _iso(moment: datetime) -> str:
    return timezone.localtime(moment).isoformat()


def server_order(order_id: str, *, started_days_ago: float) -> Order:
    """The example order of DESIGN.md (960.00 CNY: 900.00 by Alipay, 60.00 by voucher) for
    li.lei@example.com, its server started `started_days_ago` days ago, imported through the
    real import path, its product under the Tencent Cloud policy."""
    start = timezone.now() - timedelta(days=started_days_ago)
    facts: dict[str, Any] = copy.deepcopy(EXAMPLE_ORDER)
    facts.update(id=order_id, placed_at=_iso(start - timedelta(minutes=5)))
    facts["account"]["email"] = EMAIL
    facts["lines"][0].update(service_start=_iso(start),
                             service_end=_iso(start + timedelta(days=365)))
    facts["payments"][0]["paid_at"] = _iso(start - timedelta(minutes=4))
    OrderImporter().import_order(read_order(facts))
    Product.objects.filter(code="cvm").update(
        policy_id="tencent-cloud", name_zh="云服务器 CVM", name_en="Cloud Virtual Machine")
    return Order.objects.get(external_id=order_id)


def customer_login(order: Order) -> None:
    """An e-mail + password login for the order's billing account, as the demo creates it."""
    account = Account.objects.get(pk=order.account_id)
    user = get_user_model().objects.create_user(username=account.email, email=account.email,
                                                password=PASSWORD)
    account.user = user
    account.save(update_fields=["user"])
    EmailAddress.objects.create(user=user, email=account.email, verified=True, primary=True)


@pytest.fixture(autouse=True)
def nothing_leaves_the_test(settings, tmp_path):
    """Uploads go to a temporary MEDIA_ROOT and mail to memory, never var/ or an SMTP server."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture
def order_in_window(transactional_db) -> Order:
    order = server_order("TC-JOURNEY-0001", started_days_ago=2)
    customer_login(order)
    return order


@pytest.fixture
def order_past_window(transactional_db) -> Order:
    order = server_order("TC-JOURNEY-0002", started_days_ago=40)
    customer_login(order)
    return order


# -- steps ------------------------------------------------------------------------------------

def log_in(page: Page, base_url: str,
           screenshot: Callable[[Page, str], Path] | None = None) -> None:
    page.goto(f"{base_url}/accounts/login/")
    expect(page.get_by_role("heading", level=1)).to_have_text("登录")
    if screenshot:
        screenshot(page, "login")
    page.get_by_label("电子邮件").fill(EMAIL)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("我的账户")


def open_apply_page(page: Page, order: Order) -> None:
    """From My account: the order's card, its "Apply for refund" button."""
    card = page.get_by_role("article", name=f"订单 {order.external_id}")
    expect(card).to_contain_text("cvm.s5.medium")
    card.get_by_role("link", name="申请退款").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("申请退款")
    expect(page.get_by_text(f"订单 {order.external_id}")).to_be_visible()


def tick_the_server_line(page: Page) -> None:
    page.get_by_role("checkbox", name=re.compile("云服务器 CVM")).check()


def quote_panel(page: Page) -> Locator:
    return page.get_by_role("region", name="您的退款")


def submit_and_read_tracking_number(page: Page) -> str:
    page.get_by_role("button", name="提交申请").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("我们已收到您的退款申请")
    tracking_number = page.locator("#tracking-number").inner_text().strip()
    assert TRACKING_NUMBER.match(tracking_number), tracking_number
    return tracking_number


# -- the journeys -----------------------------------------------------------------------------

def test_a_customer_applies_inside_the_five_day_window_is_approved_at_once_and_tracks_it(
    live_server, page, screenshot, order_in_window
):
    # given a customer whose server started two days ago, logged in with e-mail + password
    log_in(page, live_server.url, screenshot)
    expect(page.get_by_role("article", name=f"订单 {order_in_window.external_id}")
           ).to_contain_text("未申请退款")
    screenshot(page, "my-account")

    # when they open "Apply for refund" for the order from My account and tick its line
    open_apply_page(page, order_in_window)
    expect(quote_panel(page)).to_contain_text("选择要退款的明细")  # nothing chosen yet
    tick_the_server_line(page)

    # then the live quote shows the amount, that it is approved at once, and why
    quote = quote_panel(page)
    expect(quote).to_contain_text("¥900.00")
    expect(quote).to_contain_text("提交后立即批准。")
    expect(quote).to_contain_text("计算说明")
    expect(quote.locator("details.explanation li").first).to_be_visible()
    screenshot(page, "apply-quote")

    # when they submit
    tracking_number = submit_and_read_tracking_number(page)

    # then the confirmation shows the tracking number and the approved state
    received = page.locator("section.received")
    expect(received).to_contain_text("已批准")
    expect(received).to_contain_text("¥900.00")
    screenshot(page, "confirmation")

    # and My refunds lists the case; its page says approved, with nothing left to withdraw
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="我的退款").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("我的退款")
    expect(page.get_by_role("row", name=re.compile(tracking_number))).to_contain_text("已批准")
    screenshot(page, "my-refunds")
    page.get_by_role("link", name=tracking_number).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(tracking_number)
    expect(page.locator(".case-summary")).to_contain_text("已批准")
    expect(page.get_by_role("region", name="处理进度")).to_contain_text("已收到申请")
    expect(page.get_by_role("link", name="撤回申请")).to_have_count(0)
    screenshot(page, "case-page")

    # when they log out and look the case up at /track by number and e-mail
    page.get_by_role("link", name="退出登录").click()
    page.get_by_role("button", name="退出登录").click()
    expect(page.get_by_role("link", name="登录", exact=True)).to_be_visible()
    page.get_by_role("link", name="查询退款").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("查询退款")
    page.get_by_label("退款单号").fill(tracking_number)
    page.get_by_label("申请时使用的电子邮箱").fill(EMAIL)
    page.get_by_role("button", name="查询", exact=True).click()

    # then /track shows the case and its state without a login
    result = page.locator("#track-result")
    expect(result).to_contain_text(tracking_number)
    expect(result).to_contain_text("已批准")
    expect(result).to_contain_text(order_in_window.external_id)
    screenshot(page, "track")


def test_an_order_past_its_window_goes_to_review_and_the_customer_withdraws_the_request(
    live_server, page, screenshot, order_past_window
):
    # given a customer whose server started 40 days ago, long past the five-day window
    log_in(page, live_server.url)
    open_apply_page(page, order_past_window)

    # when they tick the line, the quote says an agent decides
    tick_the_server_line(page)
    expect(quote_panel(page)).to_contain_text("客服")
    expect(quote_panel(page)).not_to_contain_text("提交后立即批准。")

    # and after submitting, the request is in review
    tracking_number = submit_and_read_tracking_number(page)
    expect(page.locator("section.received")).to_contain_text("审核中")

    # when they open the case page and withdraw the request, confirming it
    page.get_by_role("link", name="查看申请").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(tracking_number)
    expect(page.locator(".case-summary")).to_contain_text("审核中")
    expect(page.locator(".case-summary")).to_contain_text("预计处理完成")
    screenshot(page, "case-in-review")
    page.get_by_role("link", name="撤回申请").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("撤回申请")
    page.get_by_role("button", name="确认撤回").click()

    # then the case page says it is withdrawn, and the button is gone
    expect(page.get_by_role("heading", level=1)).to_contain_text(tracking_number)
    expect(page.get_by_role("status")).to_contain_text("您的退款申请已撤回。")
    expect(page.locator(".case-summary")).to_contain_text("已撤回")
    expect(page.get_by_role("region", name="处理进度")).to_contain_text("已撤回")
    expect(page.get_by_role("link", name="撤回申请")).to_have_count(0)
    screenshot(page, "withdrawn")


def test_the_apply_page_with_its_quote_fits_a_phone_screen(
    live_server, mobile_page, screenshot, order_in_window
):
    page = mobile_page
    log_in(page, live_server.url)
    page.goto(f"{live_server.url}/orders/{order_in_window.external_id}/refund")

    tick_the_server_line(page)
    expect(quote_panel(page)).to_contain_text("¥900.00")

    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), (
        page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]"))
    screenshot(page, "apply-mobile")
