"""A real Chromium, driven through Playwright's sync API, for the browser tests.

Chromium comes from the system (``apt-get install chromium``), never from
``playwright install``; without it the browser tests are skipped."""

from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parents[1] / "screenshots"  # gitignored


@pytest.fixture
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


@pytest.fixture
def chromium(monkeypatch) -> Iterator:
    """The browser: each test opens the contexts (a person's browser each) it needs."""
    if not CHROMIUM.exists():
        pytest.skip(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium); CI installs it")
    sync_api = pytest.importorskip("playwright.sync_api")
    # Playwright's sync API runs an event loop in this thread; the test's own ORM
    # calls between browser steps are ordinary blocking calls, not async code.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


def browser_context(browser, **options):
    """A context in Shanghai time with a Chinese locale, unless ``options`` say otherwise."""
    context = browser.new_context(**({"locale": "zh-CN", "timezone_id": "Asia/Shanghai"} | options))
    context.set_default_timeout(15_000)
    return context


@pytest.fixture
def browser_page(chromium) -> Iterator:
    """A fresh browser page (1920 × 1080, Shanghai time, Chinese locale)."""
    context = browser_context(chromium, viewport={"width": 1920, "height": 1080})
    try:
        yield context.new_page()
    finally:
        context.close()
