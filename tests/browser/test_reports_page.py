"""A reviewer reads the reports in a real browser, in Chinese and in English: changes the
range to the days of the desk's history, and every chart is drawn from the page's data
(ECharts, vendored, under the site's Content-Security-Policy)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import Browser, Page, expect

from refunddesk.reports.timings import refresh_timings
from tests.browser.conftest import DESKTOP
from tests.console.conftest import with_totp
from tests.reports.desk import NOW, build
from tests.staff import staff_member

pytestmark = pytest.mark.browser

WORDS = {
    "zh-CN": {"heading": "报表", "volume": "每日各渠道申请量", "screenshot": "reports-zh"},
    "en-US": {"heading": "Reports", "volume": "Requests per day and channel",
              "screenshot": "reports-en"},
}


@pytest.fixture(params=["zh-CN", "en-US"])
def reader(request, browser: Browser, live_server, transactional_db
           ) -> Iterator[tuple[Page, dict[str, str]]]:
    """A reviewer's page, logged in (the login itself is tested elsewhere), whose browser
    asks for the language."""
    build()
    refresh_timings(NOW)
    reviewer = staff_member("reviewer-reports", "reviewer")
    with_totp(reviewer)
    client = Client()
    client.force_login(reviewer)
    context = browser.new_context(locale=request.param, viewport=DESKTOP)
    context.add_cookies([{"name": settings.SESSION_COOKIE_NAME,
                          "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                          "url": live_server.url}])
    try:
        yield context.new_page(), WORDS[request.param]
    finally:
        context.close()


def test_a_reviewer_changes_the_range_and_sees_every_chart_drawn(live_server, reader,
                                                                  screenshot):
    page, words = reader
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text)
            if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))

    # given the reports page, this month's (nothing happened this month)
    page.goto(f"{live_server.url}/console/reports/")
    expect(page.get_by_role("heading", level=1)).to_have_text(words["heading"])

    # when the reviewer chooses the first ten days of April 2026
    page.locator("select[name=preset]").select_option("custom")
    page.locator("input[name=start]").fill("2026-04-01")
    page.locator("input[name=end]").fill("2026-04-10")
    page.locator("form.report-filters button[type=submit]").click()

    # then every chart is drawn, as SVG, and its table is beside it
    expect(page.get_by_role("heading", name=words["volume"])).to_be_visible()
    charts = page.locator(".chart[data-chart]")
    count = charts.count()
    assert count >= 10
    expect(page.locator(".chart[data-drawn=true]")).to_have_count(count)
    expect(page.locator(".chart[data-drawn=true] svg").first).to_be_visible()
    assert page.locator("#chart-volume").count() == 1
    assert "2026-04-01" in page.locator("input[name=start]").input_value()
    screenshot(page, words["screenshot"])
    assert errors == []
