"""The staff pages on a phone (390 px, as a physician on call opens an alert at night): nothing
runs off the side of the page. A wide table scrolls inside its own region instead; the page
itself never scrolls sideways. Screenshots (the case record, and any page too wide) go to
tests/browser/screenshots/ to be looked at."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import BrowserContext

from crossline.accounts.roles import Role
from tests.browser.test_program_dashboard import signed_in
from tests.browser.visitor import SHOTS
from tests.security.test_authorization_matrix import OPERATOR, STAFF, World, world  # noqa: F401
from tests.staff import session_key, staff_user

pytestmark = pytest.mark.django_db(transaction=True)

# How far the page may be wider than the screen (sub-pixel rounding).
SLACK = 1


def _pages(w: World) -> list[tuple[str, str]]:
    """(role, url) of every staff page a person reads (not the JSON ones)."""
    out = []
    for route, (method, roles) in sorted(STAFF.items()):
        url = w.url(route)
        if method == "GET" and url is not None and not url.endswith(".json"):
            out.append(("operator" if roles == OPERATOR else "physician", url))
    return out


def test_no_staff_page_runs_off_a_phone_screen(
    world: World,  # noqa: F811
    open_context: Callable[..., BrowserContext],
    live_server: Any,
    shot_prefix: str,
) -> None:
    keys = {
        "physician": session_key(staff_user("phone.physician@example.org", Role.PHYSICIAN)),
        "operator": session_key(staff_user("phone.operator@example.org", Role.OPERATOR)),
    }
    pages = {
        role: signed_in(open_context(), live_server, key).new_page() for role, key in keys.items()
    }
    too_wide = []
    stacked: set[str] = set()
    for role, url in _pages(world):
        page = pages[role]
        response = page.goto(live_server.url + url)
        assert response is not None
        if response.status != 200:
            continue  # e.g. a new course for a case not approved: a refusal, not a page
        # Against the screen's width: a phone browser widens its layout to fit a page that
        # runs off the side (window.innerWidth grows), which would hide the overflow.
        screen = page.viewport_size["width"] if page.viewport_size else 390
        width = page.evaluate("document.documentElement.scrollWidth") - screen
        name = "-".join(p[:8] for p in url.strip("/").split("/")[1:]) or "queue"
        # The crisis line is on every page, staff pages too (at their foot).
        crisis = page.locator('footer.staff-crisis a[href="/crisis/"]')
        assert crisis.count() == 1 and "988" in crisis.inner_text(), url
        # The tables of long text stack: every cell as wide as its row, nothing to scroll to.
        for table in page.locator("table.stack").all():
            region = table.locator("xpath=..")
            assert region.evaluate("r => r.scrollWidth <= r.clientWidth"), url
            widths = table.locator("tbody tr:first-child > *").evaluate_all(
                "cells => cells.map(c => Math.round(c.getBoundingClientRect().width))"
            )
            assert len(set(widths)) == 1, (url, widths)
            stacked.add(url)
        if url == world.url("clinic/cases/<uuid:public_id>/"):
            for part in ("reasons", "answers"):
                section = page.locator(f"section[aria-labelledby={part}-title]")
                section.screenshot(path=SHOTS / f"{shot_prefix}-record-{part}.png")
        if url in (world.url("clinic/"), world.url("clinic/alerts/")):
            page.screenshot(path=SHOTS / f"{shot_prefix}-{name}.png", full_page=True)
        if width > SLACK:
            page.screenshot(path=SHOTS / f"{shot_prefix}-{name}.png", full_page=True)
            too_wide.append((url, width))
    assert not too_wide, too_wide
    for stacks in ("clinic/", "clinic/alerts/", "clinic/cases/<uuid:public_id>/"):
        assert world.url(stacks) in stacked, stacks
