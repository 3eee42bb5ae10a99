"""A customer applies for two lines of one order that fall under two refund policies, in a
real browser, in Chinese and in English: the live quote shows one block per policy and says
the lines become two requests; one submission opens both, and the confirmation lists both
tracking numbers, each leading to its request.

The order (tests/portal/builders.mixed_order) is a server under Tencent Cloud's policy,
started a day ago (inside its five days: 914.29 CNY back at once), and a year of VPN under
the 30-day money-back guarantee (300.00 CNY back at once), built relative to now because the
live server runs on the real clock.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Browser, Page, expect

from refunddesk.cases.models import RefundCase
from refunddesk.notifications.models import EmailDelivery
from tests.browser.conftest import DESKTOP
from tests.portal.builders import PASSWORD, customer_for, mixed_order

pytestmark = pytest.mark.browser

EMAIL = "mix.browser@example.com"
TRACKING_NUMBER = re.compile(r"[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{3}")


@dataclass(frozen=True)
class Words:
    """What the pages say in one language, as the customer reads it."""

    locale: str
    login_heading: str
    login_name: str
    password: str
    log_in: str
    account_heading: str
    order: str
    apply: str
    server: str
    vpn: str
    quote: str
    split: str
    first_request: str
    second_request: str
    server_policy: str
    vpn_policy: str
    approved_at_once: str
    submit: str
    received: str
    became_two: str
    see_request: str
    yuan: str  # how the language writes CNY amounts (core/money.py): "¥" or "CN¥"


CHINESE = Words(
    locale="zh-CN", login_heading="登录", login_name="电子邮件", password="密码", log_in="登录",
    account_heading="我的账户", order="订单", apply="申请退款", server="云服务器 CVM",
    vpn="港湾 VPN", quote="您的退款",
    split="这些明细分属 2 个不同的退款政策，提交后将拆分为 2 个独立的申请",
    first_request="申请 1 / 2", second_request="申请 2 / 2", server_policy="腾讯云包年包月资源",
    vpn_policy="VPN 30 天无理由退款保证", approved_at_once="提交后立即批准。", submit="提交申请",
    received="我们已收到您的退款申请", became_two="已拆分为 2 个独立的申请", see_request="查看申请",
    yuan="¥")
ENGLISH = Words(
    locale="en-US", login_heading="Log in", login_name="E-mail or user name",
    password="Password", log_in="Log in", account_heading="My account", order="Order",
    apply="Apply for refund", server="Cloud Virtual Machine", vpn="Harbor VPN",
    quote="Your refund",
    split="These lines fall under 2 different refund policies, so they become 2 separate "
          "requests",
    first_request="Request 1 of 2", second_request="Request 2 of 2",
    server_policy="Tencent Cloud prepaid resources",
    vpn_policy="VPN 30-day money-back guarantee", approved_at_once="Approved at once when you "
    "submit.", submit="Submit the request", received="We have received your refund requests",
    became_two="they became 2 separate requests", see_request="See the request", yuan="CN¥")


@pytest.fixture(autouse=True)
def nothing_leaves_the_test(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture
def order(transactional_db):
    order = mixed_order("MIX-BROWSER-1", "acct-mix-browser", EMAIL)
    customer_for(order.account)
    return order


@pytest.fixture(params=[CHINESE, ENGLISH], ids=["zh-Hans", "en"])
def words(request) -> Words:
    return request.param


@pytest.fixture
def page_in(browser: Browser, words: Words) -> Iterator[Page]:
    """A desktop page whose browser asks for the language under test."""
    context = browser.new_context(locale=words.locale, viewport=DESKTOP)
    try:
        yield context.new_page()
    finally:
        context.close()


def test_the_quote_is_grouped_by_policy_and_one_submission_opens_a_request_per_policy(
        live_server, page_in, words, order, screenshot):
    page = page_in
    # Given the customer logged in, on the order's "Apply for refund" page
    page.goto(f"{live_server.url}/accounts/login/")
    expect(page.get_by_role("heading", level=1)).to_have_text(words.login_heading)
    page.get_by_label(words.login_name).fill(EMAIL)
    page.get_by_label(words.password).fill(PASSWORD)
    page.get_by_role("button", name=words.log_in, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(words.account_heading)
    card = page.get_by_role("article", name=f"{words.order} {order.external_id}")
    card.get_by_role("link", name=words.apply).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(words.apply)

    # When they tick the server line, the quote is one block, as for any single policy
    page.get_by_role("checkbox", name=re.compile(words.server)).check()
    quote = page.get_by_role("region", name=words.quote)
    expect(quote).to_contain_text(f"{words.yuan}914.29")
    expect(quote.locator("section.quote-group")).to_have_count(0)

    # And when they tick the VPN line too, the quote splits into one block per policy
    page.get_by_role("checkbox", name=re.compile(words.vpn)).check()
    expect(quote.locator("section.quote-group")).to_have_count(2)
    expect(quote.locator(".quote-split")).to_contain_text(words.split)
    expect(quote).to_contain_text(f"{words.yuan}1,214.29")
    server, vpn = quote.locator("section.quote-group").all()
    expect(server.get_by_role("heading", level=3)).to_contain_text(words.first_request)
    expect(server.get_by_role("heading", level=3)).to_contain_text(words.server_policy)
    expect(server).to_contain_text(words.server)
    expect(server).to_contain_text(f"{words.yuan}914.29")
    expect(server).to_contain_text(words.approved_at_once)
    expect(server.locator("details.explanation li").first).to_be_visible()
    expect(vpn.get_by_role("heading", level=3)).to_contain_text(words.second_request)
    expect(vpn.get_by_role("heading", level=3)).to_contain_text(words.vpn_policy)
    expect(vpn).to_contain_text(words.vpn)
    expect(vpn).to_contain_text(f"{words.yuan}300.00")
    screenshot(page, f"apply-quote-by-policy-{words.locale}")

    # When they submit
    page.get_by_role("button", name=words.submit).click()

    # Then the confirmation lists both requests, each with its own tracking number
    expect(page.get_by_role("heading", level=1)).to_have_text(words.received)
    received = page.locator("section.received")
    expect(received).to_contain_text(words.became_two)
    requests = received.locator("li.received-case")
    expect(requests).to_have_count(2)
    numbers = [item.locator(".tracking-number").inner_text().strip()
               for item in requests.all()]
    assert all(TRACKING_NUMBER.fullmatch(number) for number in numbers), numbers
    assert len(set(numbers)) == 2
    expect(requests.nth(0)).to_contain_text(f"{words.yuan}914.29")
    expect(requests.nth(1)).to_contain_text(f"{words.yuan}300.00")
    screenshot(page, f"received-by-policy-{words.locale}")
    cases = list(RefundCase.objects.order_by("pk"))
    assert [case.tracking_number for case in cases] == numbers
    assert cases[0].submission == cases[1].submission is not None
    assert EmailDelivery.objects.filter(kind="submitted").count() == 1

    # And each request's own page is one click away
    requests.nth(1).get_by_role("link", name=words.see_request).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(numbers[1])
