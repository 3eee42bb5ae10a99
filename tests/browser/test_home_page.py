"""The home page in a real browser: Chinese by default, English after the language switch."""

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_a_visitor_reads_the_home_page_in_chinese_and_switches_to_english(
    live_server, page, screenshot
):
    # given a browser that asks for Chinese
    page.goto(live_server.url)
    expect(page.get_by_role("heading", level=1)).to_have_text("告别表格的退款处理")
    screenshot(page, "home-zh")

    # when the visitor presses the English button of the language switch
    page.locator('button[name="language"][value="en"]').click()

    # then the same page comes back in English, and stays so
    expect(page.get_by_role("heading", level=1)).to_have_text("Refunds without the spreadsheet")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    screenshot(page, "home-en")


def test_the_home_page_fits_a_phone_screen(live_server, mobile_page, screenshot):
    mobile_page.goto(live_server.url)

    expect(mobile_page.get_by_role("heading", level=1)).to_be_visible()
    page_width = mobile_page.evaluate("document.documentElement.scrollWidth")
    assert page_width <= mobile_page.viewport_size["width"]
    screenshot(mobile_page, "home-mobile")


def test_the_vendored_htmx_loads_on_the_home_page(live_server, page):
    page.goto(live_server.url)

    page.wait_for_function("window.htmx !== undefined")
    assert page.evaluate("htmx.version").startswith("2.")
