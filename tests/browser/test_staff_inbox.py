"""An agent is told in the console what needs them: the header shows how many notices are
unread; the agent opens the inbox, clicks a notice, lands on its case, and the count goes
down."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from refunddesk.cases import actions
from refunddesk.cases.actors import customer_of
from refunddesk.core import totp
from tests.browser.conftest import DESKTOP
from tests.browser.test_customer_journey import server_order
from tests.console.conftest import with_totp
from tests.staff import staff_member

pytestmark = pytest.mark.browser

AGENT, PASSWORD = "agent-zhou", "agent-zhou-password-2026"


@pytest.fixture
def agent_page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(locale="en-US", viewport=DESKTOP)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def told_agent(transactional_db):
    """An agent to whom a reviewer gave a case, whose customer then wrote a message: two
    unread notices, both written by the actions themselves."""
    agent = staff_member(AGENT, "agent", password=PASSWORD)
    secret = with_totp(agent)
    reviewer = staff_member("reviewer-lin", "reviewer")
    order = server_order("TC-INBOX-0001", started_days_ago=40)
    case = actions.submit(account=order.account, order=order, line_ids=["1"],
                          actor=customer_of(order.account), channel="portal",
                          language="zh-hans")
    actions.assign(case, actor=reviewer, assignee=agent)
    actions.post_message(case, actor=customer_of(order.account), body="有进展吗？")
    return case, secret


def test_an_agent_follows_a_notice_from_the_header_to_the_case(live_server, agent_page,
                                                                told_agent, screenshot):
    case, secret = told_agent
    page = agent_page

    # given the agent logs in with password and code
    page.goto(f"{live_server.url}/console/")
    page.get_by_label("E-mail or user name").fill(AGENT)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in", exact=True).click()
    page.get_by_label("Code").fill(totp.code_at(secret, time.time()))
    page.get_by_role("button", name="Log in", exact=True).click()

    # then the header shows two unread notices
    inbox_link = page.locator("a.console-inbox")
    expect(inbox_link).to_have_text("Inbox 2")

    # when they open the inbox
    inbox_link.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Inbox")
    expect(page.get_by_text("2 unread notices")).to_be_visible()
    screenshot(page, "console-inbox")

    # and click the notice of the case given to them
    page.get_by_role("link", name=f"reviewer-lin gave you case {case.tracking_number}.").click()

    # then they are on the case, and one notice is left unread
    expect(page.get_by_role("heading", level=1)).to_contain_text(case.tracking_number)
    expect(page.locator("a.console-inbox")).to_have_text("Inbox 1")

    # and back in the inbox, the opened notice is no longer marked unread
    page.locator("a.console-inbox").click()
    expect(page.locator(".inbox-notice.is-unread")).to_have_count(1)
    expect(page.locator(".inbox-notice.is-unread")).to_contain_text(
        f"The customer wrote a message on case {case.tracking_number}.")
