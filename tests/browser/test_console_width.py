"""The console at 1280 px wide, with demo-like data (many cases in every state, long e-mail
addresses, Chinese names): no horizontal scrolling, no state badge or column header cut,
e-mail addresses not broken inside a word; in English and in Chinese. And in a real browser:
bulk claim from the queue (tick the rows, claim, every case is the agent's), and a canned
reply inserted at the cursor of the message box (console/replies.js)."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from refunddesk.cases import actions
from refunddesk.cases.models import RefundCase
from refunddesk.cases.states import State
from refunddesk.core import totp
from refunddesk.core.money import format_money
from refunddesk.replies.models import CannedReply
from tests.console import queue_builders as build
from tests.console.conftest import with_totp
from tests.portal.builders import customer_for, server_order
from tests.staff import staff_member

pytestmark = pytest.mark.browser

AGENT, AGENT_PASSWORD = "agent-width", "agent-width-password-2026"
WIDE = {"width": 1280, "height": 900}
LONG_EMAIL = "ouyang.nana.refunds.department@very-long-subsidiary-name.example.com.cn"

# Elements that must show their whole text: the queue's headers, state badges, chips and
# flags, and the case page's badges and table headers.
CLIPPED = """
(selector) => Array.from(document.querySelectorAll(selector))
  .filter((element) => element.offsetParent !== null
          && element.scrollWidth > element.clientWidth + 1)
  .map((element) => element.tagName + "." + element.className + ": "
       + element.textContent.trim().slice(0, 40))
"""
# An e-mail address broken inside a word: its rendered text goes on a new line elsewhere
# than beside a boundary of the address (after "@", "-", "_" or ".", or before "." or "@").
BROKEN_EMAILS = """
(selector) => Array.from(document.querySelectorAll(selector)).filter((element) => {
  const walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT);
  const range = document.createRange();
  let top = null, previous = "";
  for (let text = walker.nextNode(); text; text = walker.nextNode()) {
    for (let i = 0; i < text.length; i++) {
      range.setStart(text, i); range.setEnd(text, i + 1);
      const rects = range.getClientRects();
      if (!rects.length) { continue; }
      const atBoundary = "@.-_".includes(previous) || ".@".includes(text.data[i]);
      if (top !== null && rects[0].top > top + 2 && !atBoundary) {
        return true;
      }
      top = rects[0].top; previous = text.data[i];
    }
  }
  return false;
}).map((element) => element.textContent)
"""


@pytest.fixture(autouse=True)
def nothing_leaves_the_test(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture
def agent_secret(transactional_db) -> str:
    return with_totp(staff_member(AGENT, "agent", password=AGENT_PASSWORD))


@pytest.fixture
def demo_like_queue(transactional_db, agent_secret):
    """A page of cases in every state with long e-mail addresses and mixed names, some
    approved, escalated or appealed, plus a real case to open."""
    colleague = staff_member("a-colleague-with-a-long-user-name", "agent")
    shared = build.order(build.account(email=LONG_EMAIL, name="欧阳娜娜 (Ouyang Nana)"),
                         products=("cvm", "vpn"))
    now = build.START
    for n, state in enumerate(State.values * 3):
        fields = {"state": state, "sla_due_at": now + timedelta(hours=n - 12),
                  "assessed_total_minor": 123456789 + n}
        if state in (State.APPROVED, State.PAYING, State.REFUNDED, State.PAYOUT_FAILED):
            fields["approved_total_minor"] = 123456700
        if n % 4 == 0:
            fields.update(escalated_at=now, assignee=colleague)
        if state == State.APPEALED:
            fields["appealed_at"] = now
        if n % 5 == 1:
            fields["deadlines_estimated"] = True
        if state == State.IN_REVIEW:
            fields["proposal"] = {"at": now.isoformat(), "total": 100}
        build.case(shared if n % 2 else None, **fields)
    order = server_order("TC-WIDTH-0001", "acct-width", LONG_EMAIL, started_days_ago=30)
    customer = customer_for(order.account)
    case = actions.submit(account=order.account, order=order, line_ids=["1"],
                          actor=customer, channel="portal", language="en")
    actions.post_message(case, actor=customer, body="Please refund " + LONG_EMAIL)
    return case


@pytest.fixture
def wide_page(browser: Browser):
    def open_page(locale: str, width: int = WIDE["width"]) -> Page:
        context = browser.new_context(locale=locale, viewport={**WIDE, "width": width})
        opened.append(context)
        return context.new_page()

    opened: list = []
    yield open_page
    for context in opened:
        context.close()


def log_in(page: Page, base: str, secret: str) -> None:
    page.goto(f"{base}/console/")
    page.locator('input[name="login"]').fill(AGENT)
    page.locator('input[name="password"]').fill(AGENT_PASSWORD)
    page.locator('input[name="password"]').press("Enter")
    page.locator('input[name="code"]').fill(totp.code_at(secret, time.time()))
    page.locator('input[name="code"]').press("Enter")
    expect(page.locator("table.queue-table")).to_be_visible()


def assert_fits(page: Page, where: str, selectors: str, viewport: int) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= viewport, f"{where} scrolls sideways: {width} px wide in {viewport}"
    clipped = page.evaluate(CLIPPED, selectors)
    assert not clipped, f"{where}: cut off: {clipped}"
    broken = page.evaluate(BROKEN_EMAILS, ".queue-email, .customer-email")
    assert not broken, f"{where}: e-mail addresses broken inside a word: {broken}"


QUEUE_PARTS = ("table.queue-table th, table.queue-table .state, table.queue-table .badge, "
               ".chip, .queue-actions .button, table.queue-table .tracking")
CASE_PARTS = ".case-badges .state, .case-badges .badge, table.data th, .audit .state"


# 1280 px in both languages; 1440 px (the console's widest layout) and 1152 px (the
# narrowest that shows the full table) once.
@pytest.mark.parametrize(("locale", "width"), [("en-US", 1280), ("zh-CN", 1280),
                                               ("en-US", 1440), ("zh-CN", 1152)])
def test_the_queue_and_a_case_page_fit_1280_pixels(live_server, wide_page, demo_like_queue,
                                                   agent_secret, locale, width, screenshot):
    # given an agent at a 1280 px (or other desktop) wide browser
    page = wide_page(locale, width)
    log_in(page, live_server.url, agent_secret)

    # when they look at the queue of every state
    page.goto(f"{live_server.url}/console/?filtered=1")
    expect(page.locator("table.queue-table tbody tr")).to_have_count(
        RefundCase.objects.count())
    screenshot(page, f"console-width-queue-{locale}-{width}")

    # then nothing scrolls sideways or is cut, and e-mail addresses break only at boundaries
    assert_fits(page, "the queue", QUEUE_PARTS, width)

    # and the same holds for a case page
    page.goto(f"{live_server.url}/console/cases/{demo_like_queue.tracking_number}")
    expect(page.locator("h1")).to_contain_text(demo_like_queue.tracking_number)
    screenshot(page, f"console-width-case-{locale}-{width}")
    assert_fits(page, "the case page", CASE_PARTS, width)


def test_an_agent_claims_ticked_cases_from_the_queue(live_server, wide_page, demo_like_queue,
                                                     agent_secret):
    # given the open, unassigned cases of the queue
    page = wide_page("en-US")
    log_in(page, live_server.url, agent_secret)
    page.goto(f"{live_server.url}/console/?assignee=unassigned")
    boxes = page.locator('input.queue-select[form="queue-bulk"]')
    expect(boxes.first).to_be_visible()
    ticked = [box.get_attribute("value") for box in boxes.all()[:3]]

    # when the agent ticks three and claims them
    for number in ticked:
        page.get_by_role("checkbox", name=f"Select case {number}").check()
    expect(page.locator("[data-bulk-count]")).to_have_text("3 selected")
    page.get_by_label("With the selected cases").select_option("claim")
    page.get_by_role("button", name="Apply to the selected cases").click()

    # then the page reports three done and the cases are theirs
    expect(page.get_by_role("status")).to_contain_text("Done for 3 of 3 cases.")
    for number in ticked:
        case = RefundCase.objects.select_related("assignee").get(tracking_number=number)
        assert case.assignee is not None and case.assignee.username == AGENT
    page.get_by_role("link", name="Back to the queue").first.click()
    expect(page).to_have_url(re.compile(r"/console/\?"))


def test_an_agent_inserts_a_canned_reply_at_the_cursor_of_the_message(
        live_server, wide_page, demo_like_queue, agent_secret):
    # given a canned reply and an English case
    CannedReply.objects.create(title="Amount", text_zh="{amount}", updated_at=timezone.now(),
                               text_en="Dear {customer_name}, it is {amount}.")
    case = demo_like_queue
    page = wide_page("en-US")
    log_in(page, live_server.url, agent_secret)
    page.goto(f"{live_server.url}/console/cases/{case.tracking_number}")

    # when the agent writes a greeting and inserts the reply after it
    page.get_by_text("Write to the customer").click()
    box = page.locator("#id_message_body")
    box.fill("Hello. ")
    page.locator("#action-message").get_by_role("button", name="Insert").click()

    # then the reply is in the box, filled in for the case, and the page did not reload
    amount = format_money(case.assessed_total_minor, case.currency, language=case.language)
    expect(box).to_have_value(f"Hello. Dear {case.account.name}, it is {amount}.")
    assert "reply=" not in page.url
