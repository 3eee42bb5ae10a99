"""The Content-Security-Policy in a real browser: Chromium enforces it on the main pages —
home, login, the portal with its live quote, the console's queue (refreshing itself) and case
page, the administration, the API documentation — and reports no violation, nor any other
error in the console, while htmx and the site's script still do their work.

Every violation is caught twice: the page's `securitypolicyviolation` event (reported to the
test through a binding) and Chromium's "Refused to …" console error.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, expect

from refunddesk.billing.models import Account
from refunddesk.cases import actions
from refunddesk.console.views import queue as queue_views
from refunddesk.core import totp
from tests.browser.conftest import DESKTOP
from tests.browser.test_customer_journey import EMAIL, PASSWORD, customer_login, server_order
from tests.console.conftest import with_totp
from tests.staff import staff_member

pytestmark = pytest.mark.browser

STAFF, STAFF_PASSWORD = "csp-admin", "csp-admin-password-2026"

REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.reportViolation([event.violatedDirective, event.blockedURI, event.sourceFile,
                          event.lineNumber, event.sample].join(" | "));
});
"""


@dataclass
class Watch:
    """What the browser reported while the test ran."""

    violations: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.errors.append(f"{message.text} ({message.location.get('url')})")

    def assert_clean(self, where: str) -> None:
        assert not self.violations, f"CSP violations on {where}: {self.violations}"
        assert not self.errors, f"console errors on {where}: {self.errors}"


@pytest.fixture(autouse=True)
def nothing_leaves_the_test(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture
def watched(browser: Browser) -> Iterator[tuple[Page, Watch]]:
    """An English desktop page whose CSP violations and console errors are recorded."""
    watch = Watch()
    context: BrowserContext = browser.new_context(locale="en-US", viewport=DESKTOP)
    context.expose_function("reportViolation", lambda text: watch.violations.append(text))
    context.add_init_script(REPORT_VIOLATIONS)
    try:
        page = context.new_page()
        page.on("console", watch.on_console)
        page.on("pageerror", lambda error: watch.errors.append(f"page error: {error}"))
        yield page, watch
    finally:
        context.close()


@pytest.fixture
def case_in_review(transactional_db):
    """Li Lei's server order, 40 days in, so their request waits for an agent; and a second
    order of theirs (2 days in) to try the live quote on."""
    order = server_order("TC-CSP-0001", started_days_ago=40)
    customer_login(order)
    customer = Account.objects.get(pk=order.account_id).user
    case = actions.submit(account=order.account, order=order, line_ids=["1"], actor=customer,
                          channel="portal", language="en")
    assert case.state == "in_review"
    fresh = server_order("TC-CSP-0002", started_days_ago=2)
    return case, fresh


@pytest.fixture
def staff_secret(transactional_db) -> str:
    return with_totp(staff_member(STAFF, "agent", "admin", password=STAFF_PASSWORD))


def current_code(secret: str) -> str:
    return totp.code_at(secret, time.time())


def test_the_public_and_customer_pages_run_under_the_policy(live_server, watched,
                                                           case_in_review):
    page, watch = watched
    _case, fresh = case_in_review

    # the home page, with htmx loaded and configured not to add its inline style
    page.goto(live_server.url)
    page.wait_for_function("window.htmx !== undefined")
    assert page.evaluate("htmx.config.includeIndicatorStyles") is False
    assert page.evaluate("document.querySelectorAll('head style').length") == 0
    watch.assert_clean("the home page")

    # the login page; the customer logs in
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("E-mail or user name").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My account")
    watch.assert_clean("login and My account")

    # the apply page: ticking a line brings the live quote (an htmx POST and swap)
    page.goto(f"{live_server.url}/orders/{fresh.external_id}/refund")
    page.get_by_role("checkbox", name=re.compile("Cloud Virtual Machine")).check()
    expect(page.get_by_role("region", name="Your refund")).to_contain_text("CN¥900.00")
    watch.assert_clean("the apply page and its live quote")

    # My refunds, and /track
    page.goto(f"{live_server.url}/refunds/")
    expect(page.get_by_role("heading", level=1)).to_have_text("My refunds")
    page.goto(f"{live_server.url}/track")
    expect(page.get_by_role("heading", level=1)).to_have_text("Track a refund")
    watch.assert_clean("My refunds and /track")


def test_the_staff_pages_the_admin_and_the_api_docs_run_under_the_policy(
        live_server, watched, case_in_review, staff_secret, monkeypatch):
    page, watch = watched
    case, _fresh = case_in_review
    monkeypatch.setattr(queue_views, "REFRESH_SECONDS", 1)

    # the staff member logs in with password and code
    page.goto(f"{live_server.url}/console/")
    page.get_by_label("E-mail or user name").fill(STAFF)
    page.get_by_label("Password").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="Log in", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Two-factor login")
    page.get_by_label("Code").fill(current_code(staff_secret))
    page.get_by_role("button", name="Log in", exact=True).click()
    expect(page.get_by_role("link", name=case.tracking_number)).to_be_visible()
    watch.assert_clean("the login with a code, and the queue")

    # the queue refreshes itself (htmx polling, every second here)
    updated = page.locator(".queue-updated")
    first = updated.inner_text()
    expect(updated).not_to_have_text(first, timeout=5000)
    watch.assert_clean("the queue refreshing")

    # … but not while the keyboard focus is inside it (site.js)
    page.get_by_role("link", name=case.tracking_number).focus()
    page.wait_for_timeout(1200)  # whatever refresh was on its way lands
    while_focused = updated.inner_text()
    page.wait_for_timeout(2500)
    assert updated.inner_text() == while_focused
    page.locator("h1").click()
    expect(updated).not_to_have_text(while_focused, timeout=5000)

    # claiming a case from its row (an htmx POST that swaps the row)
    page.get_by_role("row", name=re.compile(case.tracking_number)).get_by_role(
        "button", name="Claim").click()
    expect(page.get_by_role("row", name=re.compile(case.tracking_number))).to_contain_text(
        STAFF)
    watch.assert_clean("claiming from the queue")

    # the case page
    page.get_by_role("link", name=case.tracking_number).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(case.tracking_number)
    watch.assert_clean("the case page")

    # API keys: making one, and revoking it after the confirmation (site.js, not onsubmit)
    page.goto(f"{live_server.url}/console/api-keys/")
    page.get_by_label("Name").fill("Billing system")
    page.locator('input[name="scopes"]').first.check()
    page.get_by_role("button", name="Make the key").click()
    expect(page.locator("#new-secret")).to_be_visible()
    questions: list[str] = []
    page.once("dialog", lambda dialog: (questions.append(dialog.message), dialog.dismiss()))
    page.get_by_role("button", name="Revoke").click()
    assert questions == ["Revoke this key? Systems using it stop working at once."]
    expect(page.get_by_role("button", name="Revoke")).to_be_visible()  # dismissed: kept
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Revoke").click()
    expect(page.get_by_text(re.compile("revoked"))).to_have_count(2)  # message and badge
    watch.assert_clean("the API keys page")

    # the administration
    page.goto(f"{live_server.url}/admin/")
    expect(page.locator("#site-name")).to_be_visible()
    page.goto(f"{live_server.url}/admin/billing/product/")
    expect(page.locator("#changelist")).to_be_visible()
    page.goto(f"{live_server.url}/admin/cases/rejectionreason/add/")
    expect(page.locator("form#rejectionreason_form")).to_be_visible()
    watch.assert_clean("the administration")

    # the API documentation (Swagger UI, from Ninja's static files)
    page.goto(f"{live_server.url}/api/v1/docs")
    expect(page.locator(".swagger-ui .opblock").first).to_be_visible(timeout=15000)
    watch.assert_clean("the API documentation")


def test_setting_up_the_second_factor_shows_its_qr_code_under_the_policy(
        live_server, watched, transactional_db):
    page, watch = watched
    staff_member("csp-new", "agent", password=STAFF_PASSWORD)

    # a staff member without an authenticator logs in and is sent to set one up, after
    # confirming their password
    page.goto(f"{live_server.url}/console/")
    page.get_by_label("E-mail or user name").fill("csp-new")
    page.get_by_label("Password").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="Log in", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm it is you")
    page.get_by_label("Password").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Set up two-factor login")

    # the QR code (a data: image) shows, and the secret key is styled from the stylesheet
    qr = page.get_by_alt_text("QR code to scan with your authenticator app")
    expect(qr).to_be_visible()
    assert page.evaluate("img => img.naturalWidth > 0", qr.element_handle())
    assert page.locator("#authenticator-secret").evaluate(
        "code => getComputedStyle(code).userSelect") == "all"
    watch.assert_clean("the second-factor set-up")
