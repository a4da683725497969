"""A clinician finds a caller's cases by the phone number they give, in Chromium: the search
form, the result table, and no axe-core violations on either."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from playwright.sync_api import BrowserContext, expect

from crossline.accounts.roles import Role
from tests.browser.test_program_dashboard import signed_in
from tests.browser.visitor import SHOTS, axe_violations, describe_violations
from tests.clinic.conftest import open_case
from tests.staff import session_key, staff_user


def test_a_clinician_finds_a_callers_cases_by_phone(
    open_context: Callable[..., BrowserContext], live_server: Any, shot_prefix: str
) -> None:
    cases = [open_case(), open_case()]
    key = session_key(staff_user("ivy.intake", Role.INTAKE))
    for axe in (False, True):  # as served (its CSP enforced), then with axe-core injected
        context = open_context(bypass_csp=axe)
        page = signed_in(context, live_server, key).new_page()
        page.goto(f"{live_server.url}/clinic/")
        page.get_by_role("link", name="Find").click()
        field = page.get_by_label("E-mail address or phone number")
        field.fill("201 555 0147")
        page.get_by_role("button", name="Find").click()
        table = page.get_by_role("table", name="2 cases of this person, newest first.")
        expect(table).to_be_visible()
        for case in cases:
            expect(table.locator(f'a[href="/clinic/cases/{case.public_id}/"]')).to_have_count(1)
        assert "555" not in page.url  # what was searched for is in no URL
        page.screenshot(path=SHOTS / f"{shot_prefix}-found.png", full_page=True)
        if axe:
            found = axe_violations(page)
            assert not found, describe_violations({page.url: found})
        field = page.get_by_label("E-mail address or phone number")
        field.fill("555")
        page.get_by_role("button", name="Find").click()
        expect(page.get_by_role("alert")).to_contain_text("10 digits")
        if axe:
            found = axe_violations(page)
            assert not found, describe_violations({page.url: found})
