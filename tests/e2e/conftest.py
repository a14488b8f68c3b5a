"""Browser journeys: Playwright driving Debian's chromium against pytest-django's live server.

Never downloads a browser: without /usr/bin/chromium every test here is skipped with the reason.
Screenshots go to test-artifacts/screenshots/ at the repository root (git-ignored).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = Path(os.environ.get("OPENCALL_CHROMIUM", "/usr/bin/chromium"))
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
REPO = Path(__file__).resolve().parents[2]
SHOTS = REPO / "test-artifacts" / "screenshots"


NEEDS_CHROMIUM = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason=f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium) to run the browser journeys",
)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """One chromium per module. Playwright's sync API keeps an event loop running in this thread while
    it is open, and the ORM calls that arrange and check data are plain synchronous calls: Django's
    async guard stands aside for exactly that long, not for the rest of the suite."""
    from playwright.sync_api import sync_playwright

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
            yield browser
            browser.close()


@pytest.fixture
def e2e_settings(settings):
    """The site as a deployment runs it, with background jobs kept out of the request cycle."""
    settings.ROOT_URLCONF = "tests.e2e.urls"
    # The immediate backend cannot defer jobs, but advancing into a phase with an end date queues one.
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    return settings


@pytest.fixture
def new_context(browser, live_server, e2e_settings):
    """Open a fresh browser context (its own cookies: one per person) on the live server."""
    contexts = []

    def make(viewport: tuple[int, int] = (1280, 900)):
        context = browser.new_context(base_url=live_server.url, viewport={"width": viewport[0], "height": viewport[1]})
        context.set_default_timeout(30_000)  # a loaded 2-core CI box can be slow to render
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def shoot():
    """Save a screenshot of the page under test-artifacts/screenshots/<name>.png."""
    SHOTS.mkdir(parents=True, exist_ok=True)

    def save(page, name: str, *, full_page: bool = False) -> Path:
        path = SHOTS / f"{name}.png"
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(path), full_page=full_page)
        return path

    return save


def log_in(context, email: str, password: str):
    """Log in through the form in a fresh page of this context; returns the page, on the home page."""
    page = context.new_page()
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("main").get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/$"))
    return page
