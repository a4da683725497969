"""A closed case's record in Chromium: it says why and when the case was closed, and a clinician
reopens it from there. The closed record stays free of axe-core violations; screenshots go to
tests/browser/screenshots/ to be looked at."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.utils import timezone
from playwright.sync_api import BrowserContext, expect

from crossline.accounts.roles import Role
from crossline.clinic import claims
from crossline.clinic.models import Case
from tests.browser.test_program_dashboard import signed_in
from tests.browser.visitor import SHOTS, axe_violations, describe_violations
from tests.clinic.conftest import open_case
from tests.staff import session_key, staff_user


def test_a_closed_case_says_why_and_a_clinician_reopens_it(
    open_context: Callable[..., BrowserContext], live_server: Any, shot_prefix: str
) -> None:
    case = open_case()
    nurse = staff_user("ivy.intake", Role.INTAKE)
    claims.claim(case.public_id, nurse)
    claims.close(Case.objects.get(pk=case.pk), nurse, "unreachable", None, timezone.now())
    key = session_key(nurse)
    url = f"{live_server.url}/clinic/cases/{case.public_id}/"

    axe_page = signed_in(open_context(bypass_csp=True), live_server, key).new_page()
    axe_page.goto(url)
    violations = axe_violations(axe_page)
    assert not violations, describe_violations({"closed record": violations})

    page = signed_in(open_context(), live_server, key).new_page()
    page.goto(url)
    status = page.locator("dt", has_text="Status").locator("xpath=following-sibling::dd[1]")
    expect(status).to_contain_text("closed — Could not be reached after repeated attempts")
    expect(page.get_by_role("button", name="Close")).to_have_count(0)
    page.get_by_label("Reopen the case").select_option("got_in_touch")
    page.screenshot(path=SHOTS / f"{shot_prefix}-1-closed.png")
    page.get_by_role("button", name="Reopen").click()
    done = page.get_by_role("status").filter(has_text="The case is open again")
    expect(done).to_contain_text("The case is open again, and you hold it.")
    expect(status).to_contain_text("claimed — claimed by you")
    page.screenshot(path=SHOTS / f"{shot_prefix}-2-reopened.png")
    history = page.locator("section[aria-labelledby=case-history-title]")
    expect(history.locator("tbody tr")).to_have_count(3)  # claimed, closed, reopened
    expect(history.locator("tbody tr").nth(2)).to_contain_text(
        "Reopened: The person got in touch again"
    )
