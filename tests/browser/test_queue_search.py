"""The queue's search in a real browser: an agent types a Chinese name, then part of an
e-mail address, into the search box and sees the matching cases, and only those."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from refunddesk.core import totp
from tests.browser.conftest import DESKTOP
from tests.console import queue_builders as build
from tests.console.conftest import with_totp
from tests.staff import staff_member

pytestmark = pytest.mark.browser

AGENT, AGENT_PASSWORD = "agent-search", "agent-search-password-2026"


@pytest.fixture
def customers(transactional_db):
    """周平 and Sophia Wilson with a case each, and a third customer's case."""
    zhou = build.account(email="zhou.ping38@example.com", name="周平")
    sophia = build.account(email="sophia.wilson@example.org", name="Sophia Wilson")
    other = build.account(email="li.lei@example.cn", name="李雷")
    return {key: build.case(build.order(account), language="zh-hans")
            for key, account in (("zhou", zhou), ("sophia", sophia), ("other", other))}


@pytest.fixture
def agent_secret(transactional_db) -> str:
    return with_totp(staff_member(AGENT, "agent", password=AGENT_PASSWORD))


@pytest.fixture
def agent_page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(locale="en-US", viewport=DESKTOP)
    try:
        yield context.new_page()
    finally:
        context.close()


def log_in(page: Page, url: str, secret: str) -> None:
    page.goto(f"{url}/console/")
    page.get_by_label("E-mail or user name").fill(AGENT)
    page.get_by_label("Password").fill(AGENT_PASSWORD)
    page.get_by_role("button", name="Log in", exact=True).click()
    page.get_by_label("Code").fill(totp.code_at(secret, time.time()))
    page.get_by_role("button", name="Log in", exact=True).click()


def search(page: Page, text: str) -> None:
    page.get_by_role("searchbox", name="Search").fill(text)
    page.get_by_role("button", name="Apply filters").click()


def test_an_agent_finds_cases_by_a_chinese_name_and_by_part_of_an_email(
        live_server, agent_page, screenshot, customers, agent_secret):
    page = agent_page
    zhou, sophia, other = (customers[key].tracking_number
                           for key in ("zhou", "sophia", "other"))

    # given the agent in the queue, every case shown
    log_in(page, live_server.url, agent_secret)
    for number in (zhou, sophia, other):
        expect(page.get_by_role("link", name=number)).to_be_visible()

    # when they type a Chinese name into the search
    search(page, "周平")

    # then only that customer's case is left, and the pager says so
    expect(page.get_by_role("link", name=zhou)).to_be_visible()
    expect(page.get_by_role("link", name=sophia)).to_have_count(0)
    expect(page.get_by_role("link", name=other)).to_have_count(0)
    expect(page.locator(".queue-position")).to_have_text("1–1 of 1")
    screenshot(page, "console-queue-search-name")

    # when they type part of an e-mail address instead
    search(page, "sophia.wil")

    # then it is Sophia's case they see
    expect(page.get_by_role("link", name=sophia)).to_be_visible()
    expect(page.get_by_role("link", name=zhou)).to_have_count(0)
    expect(page.get_by_role("searchbox", name="Search")).to_have_value("sophia.wil")
    screenshot(page, "console-queue-search-email")
