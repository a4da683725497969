"""The queue marks the same person's rows, in Chromium: the marker is words (not a colour), it
links to the other case and says who holds it, the page fits a 360 px phone, and axe-core finds
nothing on the queue or on the record "claim next" opens. Screenshots at 360 px and on a desktop
go to tests/browser/screenshots/ to be looked at."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from playwright.sync_api import BrowserContext, expect

from crossline.accounts.roles import Role
from crossline.clinic import claims
from tests.browser.test_program_dashboard import signed_in
from tests.browser.visitor import SHOTS, axe_violations, describe_violations
from tests.clinic.conftest import ACUTE, NON_ACUTE, open_case
from tests.staff import session_key, staff_user

SCREENS = {"phone": {"width": 360, "height": 740}, "desktop": {"width": 1280, "height": 900}}


def test_the_queue_marks_the_same_persons_cases_in_words(
    open_context: Callable[..., BrowserContext], live_server: Any, shot_prefix: str
) -> None:
    held = open_case(NON_ACUTE, kind="contact_me", name="", email="")  # a phone-only contact-me
    open_case(email="someone@example.net", phone="(212) 555-0199")  # someone else
    # The same phone, with an e-mail: the most urgent open case, so "claim next" takes it.
    asked_again = open_case(ACUTE, kind="contact_me", email="again@example.org")
    assert claims.claim(held.public_id, staff_user("oscar.intake", Role.INTAKE)).won
    key = session_key(staff_user("ivy.intake", Role.INTAKE))
    for axe in (False, True):  # as served (its CSP enforced), then with axe-core injected
        for name, screen in SCREENS.items():
            page = signed_in(open_context(bypass_csp=axe), live_server, key).new_page()
            page.set_viewport_size(screen)
            page.goto(f"{live_server.url}/clinic/")
            marker = page.locator("p.same-person")
            expect(marker).to_have_count(2)
            opens = page.locator(f'td.actions a[href="/clinic/cases/{asked_again.public_id}/"]')
            row = page.get_by_role("row").filter(has=opens)
            expect(row).to_contain_text("Same person as 1 other open case")
            expect(row).to_contain_text("claimed by oscar.intake")
            link = row.locator(f'p.same-person a[href="/clinic/cases/{held.public_id}/"]')
            expect(link).to_be_visible()
            overflow = page.evaluate("document.documentElement.scrollWidth") - screen["width"]
            assert overflow <= 1, (name, overflow)
            if not axe:
                page.screenshot(path=SHOTS / f"{shot_prefix}-queue-{name}.png", full_page=True)
                continue
            found = axe_violations(page)
            assert not found, describe_violations({f"queue at {name}": found})
    page.goto(f"{live_server.url}/clinic/")
    page.get_by_role("button", name="Claim the next most urgent case").click()
    expect(page).to_have_url(f"{live_server.url}/clinic/cases/{asked_again.public_id}/")
    note = page.get_by_role("note").filter(has_text="Same person as 1 other open case")
    expect(note).to_contain_text("claimed by oscar.intake")
    note.screenshot(path=SHOTS / f"{shot_prefix}-record-note.png")
    found = axe_violations(page)
    assert not found, describe_violations({"record after claim next": found})
