"""End-to-end tests in a real headless Chromium (Debian's package) driven by
Playwright's Python package. Screenshots go to docs/screenshots/ when
SCREENSHOTS=1 (`make screenshots`), else to a temporary folder."""

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]
SCREENSHOT_DIR = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


def pytest_collection_modifyitems(config, items):
    problem = None
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        problem = f"Chromium not found at {CHROMIUM} (Debian package chromium; `make setup` installs it)"
    else:
        try:
            import playwright  # noqa: F401
        except ImportError:
            problem = "the playwright package is not installed"
    for item in items:
        if "e2e" in Path(str(item.fspath)).parts:
            item.add_marker(pytest.mark.e2e)
            if problem:
                if os.environ.get("CI") == "true":
                    pytest.exit(
                        f"e2e tests cannot run under CI=true: {problem}", returncode=3
                    )
                item.add_marker(pytest.mark.skip(reason=f"e2e skipped: {problem}"))


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop; Django refuses ORM calls from
    # async contexts unless told this is deliberate (tests only).
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, args=CHROMIUM_ARGS
            )
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def new_page(browser, live_server):
    """`new_page(width=1280, locale="zh-CN")` → a page in a fresh context on the live server."""
    contexts = []

    def make(*, viewport=None, locale="zh-CN"):
        context = browser.new_context(
            viewport=viewport or DESKTOP, locale=locale, base_url=live_server.url
        )
        context.set_default_timeout(15000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def shot(tmp_path):
    """`shot(page, "name")` saves a full-page screenshot and returns its path."""
    target = SCREENSHOT_DIR if os.environ.get("SCREENSHOTS") == "1" else tmp_path

    def take(page, name):
        target.mkdir(parents=True, exist_ok=True)
        path = target / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


def no_horizontal_scroll(page) -> bool:
    return page.evaluate(
        "document.documentElement.scrollWidth <= window.innerWidth + 1"
    )


def overflowing(page) -> list[str]:
    """The elements that stick out to the right of the viewport (for messages)."""
    return page.evaluate(
        """() => [...document.querySelectorAll('body *')]
            .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
            .slice(0, 8)
            .map(e => e.tagName + '.' + e.className + ' «' + (e.innerText || '').slice(0, 40) + '»')"""
    )


def sms_code(mobile: str) -> str:
    """The newest code the simulated SMS gateway sent to `mobile` (what the
    citizen reads on their phone)."""
    import re

    from people.models import SimSmsMessage

    text = SimSmsMessage.objects.filter(mobile=mobile).latest("id").text
    return re.search(r"\d{6}", text).group(0)
