"""Real-browser tests: Debian's Chromium driven by pytest-playwright against pytest-django's
live server, on a phone-sized screen (../shared/TOOLING.md).

These tests must run in CI: a missing Chromium or axe-core fails the run there (`CI` set) and
only skips, with the reason, on a developer machine. `make test` installs both.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import BrowserContext, Page, Request

from tests.browser.visitor import AXE, SHOTS, Visitor

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    # Without these Chromium floods the closed network with its own background requests.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {"width": 390, "height": 844}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Browser tests run last (see `_django_allows_playwrights_event_loop`)."""
    here = Path(__file__).parent
    items.sort(key=lambda item: item.path.is_relative_to(here))  # stable: order kept otherwise
    for item in items:  # database tests: the Makefile runs them again on PostgreSQL
        if item.path.is_relative_to(here):
            item.add_marker(pytest.mark.django_db(transaction=True))


@pytest.fixture(scope="session", autouse=True)
def _django_allows_playwrights_event_loop() -> Iterator[None]:
    """Playwright's sync API runs an event loop in the test thread from the first browser test
    to the end of the session, and Django refuses ORM calls (live_server's database flush) while
    one runs unless DJANGO_ALLOW_ASYNC_UNSAFE is set. Tests only, and only from the first browser
    test on: the browser tests run last, so no other test, nor any subprocess it starts, sees
    it (Django's deployment check rightly rejects it: async.E001)."""
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    yield
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


@pytest.fixture(scope="session", autouse=True)
def browser_tools() -> None:
    """Chromium and axe-core are required; in CI their absence is a failure, not a skip."""
    missing = []
    if not os.access(CHROMIUM, os.X_OK):
        missing.append(f"{CHROMIUM} (apt-get install -y chromium)")
    if not AXE.is_file():
        missing.append(f"{AXE} (npm ci)")
    if not missing:
        return
    message = "browser tests need " + " and ".join(missing) + "; `make test` installs both"
    if _in_ci():
        pytest.fail(f"CI is set: {message}", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    return {**browser_type_launch_args, "executable_path": str(CHROMIUM), "args": CHROMIUM_FLAGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    """A phone: 390×844, touch, the viewport meta tag honoured. Chromium's default locale is
    en-US; a test passes `locale=` to `new_visitor` for another Accept-Language."""
    return {
        **browser_context_args,
        "viewport": PHONE,
        "device_scale_factor": 1,
        "is_mobile": True,
        "has_touch": True,
    }


@pytest.fixture
def offsite_requests(live_server: Any) -> Iterator[list[str]]:
    """Every request any page made to a host other than the live server (must stay empty)."""
    seen: list[str] = []
    yield seen
    assert not seen, "requests left the live server:\n" + "\n".join(seen)


@pytest.fixture
def open_context(
    new_context: Callable[..., BrowserContext], live_server: Any, offsite_requests: list[str]
) -> Callable[..., BrowserContext]:
    """A browser context (extra options allowed) whose every request is checked for its host."""
    own_host = urlsplit(live_server.url).netloc

    def note(request: Request) -> None:
        parts = urlsplit(request.url)
        if parts.scheme in ("http", "https", "ws", "wss") and parts.netloc != own_host:
            offsite_requests.append(f"{request.method} {request.url}")

    def _open(**options: Any) -> BrowserContext:
        context = new_context(**options)
        context.on("request", note)
        return context

    return _open


@pytest.fixture
def context(open_context: Callable[..., BrowserContext]) -> BrowserContext:
    """pytest-playwright's `page` comes from here: the request check covers every test."""
    return open_context()


@pytest.fixture
def shot_prefix(request: pytest.FixtureRequest) -> str:
    """This test's screenshot file prefix; its screenshots from an earlier run are removed."""
    prefix = re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.name.removeprefix("test_")).strip("-")
    SHOTS.mkdir(exist_ok=True)
    for old in SHOTS.glob(f"{prefix}-*.png"):
        old.unlink(missing_ok=True)
    return prefix


@pytest.fixture
def visitor(page: Page, live_server: Any, shot_prefix: str) -> Visitor:
    """A person on pytest-playwright's `page` (a phone, English, the site's CSP enforced)."""
    return Visitor(page, live_server.url, shot_prefix)


@pytest.fixture
def new_visitor(
    open_context: Callable[..., BrowserContext], live_server: Any, shot_prefix: str
) -> Callable[..., Visitor]:
    """`new_visitor(lang=..., **context_options)`: a person in a browser context of their own
    (no JavaScript, bypass_csp for axe-core, another locale)."""

    def _new(lang: str = "en", **options: Any) -> Visitor:
        page = open_context(**options).new_page()
        return Visitor(page, live_server.url, shot_prefix, lang=lang)

    return _new
