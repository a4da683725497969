"""The operator's program dashboard in Chromium: it renders under the site's CSP, the legal
basis warning shows, axe-core finds no violation; screenshots (phone and desktop) are saved to
tests/browser/screenshots/ to be looked at."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from django.utils import timezone
from playwright.sync_api import BrowserContext, expect

from tests.browser.visitor import SHOTS, axe_violations, describe_violations
from tests.staff import session_key, staff_user


def operator_session() -> str:
    """A signed-in operator with a verified TOTP device: the session cookie's value."""
    user = staff_user("olive.operator", "operator", email="olive@clinic.test")
    doc = staff_user("pat.physician", "physician", email="pat@clinic.test", totp=False)
    from crossline.program.models import ConsentText, OnCallEntry

    OnCallEntry.objects.create(user=doc, position=1)
    ConsentText.objects.create(
        kind="contact", version="2027-01-15", text_en="e", text_es="s", published_at=timezone.now()
    )
    return session_key(user)


def signed_in(context: BrowserContext, live_server: Any, key: str) -> BrowserContext:
    host = urlsplit(live_server.url).hostname
    context.add_cookies([{"name": "sessionid", "value": key, "domain": host, "path": "/"}])
    return context


def test_the_program_dashboard_renders_and_is_accessible(
    open_context: Callable[..., BrowserContext], live_server: Any, shot_prefix: str
) -> None:
    key = operator_session()
    errors: list[str] = []  # CSP violations and failed responses, on every page below
    for name, viewport in (("phone", None), ("desktop", {"width": 1280, "height": 900})):
        page = signed_in(open_context(), live_server, key).new_page()
        if viewport:
            page.set_viewport_size(viewport)
        # (Chromium's own /favicon.ico request 404s on every page of the site: not counted.)
        page.on(
            "console",
            lambda m, errors=errors: (
                errors.append(m.text) if "Content Security Policy" in m.text else None
            ),
        )
        page.on(
            "response",
            lambda r, errors=errors: (
                errors.append(f"{r.status} {r.url}") if r.status >= 400 else None
            ),
        )
        page.goto(f"{live_server.url}/clinic/program/")
        expect(page.get_by_role("heading", level=1)).to_have_text("Program")
        expect(page.locator("p.warning").first).to_contain_text("telemedicine legal basis")
        expect(page.get_by_role("link", name="Change program settings")).to_be_visible()
        page.screenshot(path=str(SHOTS / f"{shot_prefix}-{name}.png"), full_page=True)
        page.screenshot(path=str(SHOTS / f"{shot_prefix}-{name}-first-screen.png"))
        for section in ("settings", "counts"):
            page.locator(f'section[aria-labelledby="{section}-h"]').screenshot(
                path=str(SHOTS / f"{shot_prefix}-{name}-{section}.png")
            )
        assert not errors, errors  # no CSP violation, no failed stylesheet

    axe_page = signed_in(open_context(bypass_csp=True), live_server, key).new_page()
    axe_page.goto(f"{live_server.url}/clinic/program/")
    found = axe_violations(axe_page)
    assert not found, describe_violations({"/clinic/program/": found})
