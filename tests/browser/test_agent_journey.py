"""The staff's half of the journey in a real browser, with the customer in a second browser
context: the agent logs in with a password and a TOTP code, filters the queue, asks the
customer for a document; the customer (in Chinese) uploads it; the agent approves part of
the refund; the customer sees the decision, and the e-mail arrives at a real SMTP server.

The agent's browser asks for English and the customer's for Chinese, so both languages of
the pages are driven.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from refunddesk.billing.models import Account, Product
from refunddesk.cases import actions
from refunddesk.cases.actors import customer_of
from refunddesk.cases.models import RefundCase
from refunddesk.core import totp
from tests.browser.conftest import DESKTOP
from tests.browser.test_customer_journey import EMAIL, PASSWORD, customer_login, server_order
from tests.console.conftest import with_totp
from tests.notifications.conftest import mailbox, run_worker  # noqa: F401 (fixture)
from tests.portal.builders import vpn_order
from tests.staff import approval_limit, staff_member

pytestmark = pytest.mark.browser

AGENT, AGENT_PASSWORD = "agent-wang", "agent-wang-password-2026"


@pytest.fixture(autouse=True)
def uploads_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def cases_in_review(transactional_db, mailbox):  # noqa: F811 (the imported fixture)
    """Li Lei's server request (40 days in, so prorated and reviewed), and another
    customer's VPN request, both waiting in the queue."""
    order = server_order("TC-AGENT-0001", started_days_ago=40)
    customer_login(order)
    server_case = actions.submit(account=order.account, order=order, line_ids=["1"],
                                 actor=customer_of(order.account), channel="portal",
                                 language="zh-hans")
    vpn = vpn_order("VPN-AGENT-0001", "acct-vpn", "vpn@example.com", placed_days_ago=40)
    Product.objects.filter(code="vpn").update(policy_id="vpn-30-day")
    vpn_case = actions.submit(account=vpn.account, order=vpn, line_ids=["1"],
                              actor=customer_of(vpn.account), channel="portal", language="en")
    assert server_case.state == vpn_case.state == "in_review"
    return server_case, vpn_case


@pytest.fixture
def agent_secret(transactional_db) -> str:
    approval_limit("agent", "CNY", 200000)
    agent = staff_member(AGENT, "agent", password=AGENT_PASSWORD)
    return with_totp(agent)


def open_panel(page: Page, summary: str) -> None:
    """Open the action panel (a <details>) with this summary, whether or not it is open."""
    page.locator("details", has=page.locator("summary", has_text=summary)).evaluate(
        "details => { details.open = true; }")


def current_code(secret: str) -> str:
    return totp.code_at(secret, time.time())


@pytest.fixture
def agent_page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(locale="en-US", viewport=DESKTOP)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def customer_page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(locale="zh-CN", viewport=DESKTOP)
    try:
        yield context.new_page()
    finally:
        context.close()


def test_an_agent_asks_for_a_document_the_customer_sends_it_and_the_agent_approves_part(
    live_server, agent_page, customer_page, screenshot, cases_in_review, agent_secret,
    mailbox,  # noqa: F811 (the imported fixture)
):
    server_case, vpn_case = cases_in_review
    number = server_case.tracking_number
    agent, customer = agent_page, customer_page

    # given the agent opens the console: they are asked to log in, then for their code
    agent.goto(f"{live_server.url}/console/")
    expect(agent.get_by_role("heading", level=1)).to_have_text("Log in")
    agent.get_by_label("E-mail or user name").fill(AGENT)
    agent.get_by_label("Password").fill(AGENT_PASSWORD)
    agent.get_by_role("button", name="Log in", exact=True).click()
    expect(agent.get_by_role("heading", level=1)).to_have_text("Two-factor login")
    screenshot(agent, "console-two-factor")
    agent.get_by_label("Code").fill(current_code(agent_secret))
    agent.get_by_role("button", name="Log in", exact=True).click()

    # then the queue shows both requests
    expect(agent.get_by_role("link", name=number)).to_be_visible()
    expect(agent.get_by_role("link", name=vpn_case.tracking_number)).to_be_visible()

    # when they filter it to cloud servers
    agent.get_by_text("More filters").click()
    agent.get_by_label("Product").select_option("cvm")
    agent.get_by_role("button", name="Apply filters").click()

    # then only Li Lei's request is left
    expect(agent.get_by_role("link", name=vpn_case.tracking_number)).to_have_count(0)
    screenshot(agent, "console-queue-filtered")

    # when they open it and ask for proof of payment
    agent.get_by_role("link", name=number).click()
    expect(agent.get_by_role("heading", level=1)).to_contain_text(number)
    open_panel(agent, "Ask the customer for information")
    agent.get_by_label(re.compile("Proof of payment")).check()
    agent.get_by_label("Questions to the customer").fill("请上传支付宝付款截图。")
    agent.get_by_role("button", name="Send the request").click()
    expect(agent.get_by_role("status")).to_be_visible()
    assert RefundCase.objects.get(pk=server_case.pk).state == "awaiting_customer"

    # when the customer logs in (in Chinese), reads the question and uploads the receipt
    customer.goto(f"{live_server.url}/accounts/login/")
    customer.get_by_label("电子邮件").fill(EMAIL)
    customer.get_by_label("密码").fill(PASSWORD)
    customer.get_by_role("button", name="登录", exact=True).click()
    expect(customer.get_by_role("heading", level=1)).to_have_text("我的账户")
    customer.goto(f"{live_server.url}/refunds/{number}")
    expect(customer.get_by_role("heading", name="需要您补充信息")).to_be_visible()
    answer = customer.get_by_role("region", name="需要您补充信息")
    expect(answer.get_by_text("请上传支付宝付款截图。")).to_be_visible()
    customer.get_by_label("您的回复").fill("截图已上传。")
    answer.get_by_label("付款凭证（收据或银行流水）").set_input_files(files=[{
        "name": "alipay-receipt.pdf", "mimeType": "application/pdf",
        "buffer": b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"}])
    customer.get_by_role("button", name="提交回复").click()
    expect(customer.locator(".case-summary")).to_contain_text("审核中")
    screenshot(customer, "customer-supplemented")

    # when the agent reloads the case: the receipt is there; they approve 300.00 of it
    agent.reload()
    expect(agent.get_by_text("alipay-receipt.pdf").first).to_be_visible()
    open_panel(agent, "Approve in full or in part")
    agent.get_by_label(re.compile(r"Line 1")).fill("300.00")
    agent.get_by_label(re.compile("Note on the decision")).fill("按实际使用情况部分退款。")
    agent.get_by_role("button", name="Approve", exact=True).click()
    expect(agent.get_by_role("status")).to_be_visible()
    screenshot(agent, "console-approved-in-part")
    case = RefundCase.objects.get(pk=server_case.pk)
    assert (case.state, case.approved_total_minor) == ("approved", 30000)

    # and every step is in the audit timeline
    actions_recorded = list(case.events.values_list("action", flat=True))
    assert actions_recorded == ["submitted", "routed_to_review", "information_requested",
                                "supplemented", "approved"]

    # then the customer sees the decision
    customer.reload()
    expect(customer.locator(".case-summary")).to_contain_text("已批准")
    expect(customer.locator(".case-summary")).to_contain_text("¥300.00")
    screenshot(customer, "customer-decision")

    # and the worker sends the e-mail of the decision, in Chinese, to the customer
    run_worker()
    decided = [m for m in mailbox.messages if "¥300.00" in m.subject and "批准" in m.subject]
    assert len(decided) == 1
    assert decided[0].rcpt_tos == [Account.objects.get(pk=case.account_id).email]

    # and the same worker run paid the money back (to the account balance, as the policy
    # says): the case is refunded, the customer sees it and has the "paid" e-mail
    case.refresh_from_db()
    assert case.state == "refunded"
    assert [m for m in mailbox.messages if "退款已到账" in m.subject]
    customer.reload()
    expect(customer.locator(".case-summary")).to_contain_text("已退款")
    screenshot(customer, "customer-refunded")
