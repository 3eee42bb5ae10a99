"""Browser tests: Playwright drives Debian's Chromium against pytest-django's live server.

The browser is Debian's `/usr/bin/chromium` (installed by `.ci/run`); Playwright's own
browser downloads are never used. Every test gets a fresh context, so cookies (the chosen
language, the session) never leak from one test to the next.
"""

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",  # CI runs as root, where Chromium's sandbox refuses to start
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--lang=zh-CN",  # the browser's own widgets (file inputs) in the site's default language
]
# No --user-data-dir: Playwright already starts Chromium on a fresh temporary profile and
# refuses the flag in launch() arguments.

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}

SCREENSHOT_DIR = Path(__file__).resolve().parents[2] / "var" / "test-artifacts" / "screenshots"


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # While the session-scoped browser is open, Playwright's event loop counts as running
    # in the main thread, which breaks asyncio.run() and async_to_sync() in any test that
    # comes after. pytest-django puts database-free tests after the live-server ones, so
    # move the browser tests to the very end (trylast: after pytest-django's own sort).
    browser_dir = Path(__file__).resolve().parent
    items.sort(key=lambda item: browser_dir in Path(item.path).resolve().parents)


@pytest.fixture(autouse=True)
def plain_http(settings):
    """The live server speaks plain http, as `make run` does: its cookies must not be
    HTTPS-only (the default without DEBUG), which is what the demo's SECURE_COOKIES=false
    says too."""
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    settings.LANGUAGE_COOKIE_SECURE = False


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{message}; CI must run the browser tests.", pytrace=False)
        pytest.skip(f"browser tests skipped: {message}")
    with pytest.MonkeyPatch.context() as patch:
        # Playwright's sync API runs an asyncio loop in the main thread, so while the
        # browser is open Django sees "a running event loop" there and refuses ORM calls
        # (SynchronousOnlyOperation) from the test itself and from the database fixtures
        # (creating the test database, flushing it after each test). Nothing here is
        # actually asynchronous: the loop only waits for Chromium's answers.
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            yield chromium
            chromium.close()


def _open_page(browser: Browser, viewport: dict[str, int], **options: object) -> Iterator[Page]:
    context = browser.new_context(locale="zh-CN", viewport=viewport, **options)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A desktop-sized page of a new context; the browser asks for Chinese (zh-CN)."""
    yield from _open_page(browser, DESKTOP)


@pytest.fixture
def mobile_page(browser: Browser) -> Iterator[Page]:
    """A phone-sized page (390×844, touch) of a new context; the browser asks for Chinese."""
    yield from _open_page(browser, PHONE, is_mobile=True, has_touch=True, device_scale_factor=2)


def save_screenshot(page: Page, name: str) -> Path:
    """Save the whole page as var/test-artifacts/screenshots/<name>.png (kept by CI)."""
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOT_DIR / f"{name}.png"
    page.screenshot(path=path, full_page=True)
    return path


@pytest.fixture
def screenshot() -> Callable[[Page, str], Path]:
    return save_screenshot
