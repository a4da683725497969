"""Staff pages in Chromium with a clinic zone configured (`CROSSLINE_TIME_ZONE`): the queue and
the record show local times with the zone's abbreviation, and the record page stays free of
axe-core violations; screenshots are saved to tests/browser/screenshots/ to be looked at."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from django.test import override_settings
from playwright.sync_api import BrowserContext, expect

from crossline.accounts.roles import Role
from crossline.clinic.models import Case
from tests.browser.test_program_dashboard import signed_in
from tests.browser.visitor import SHOTS, axe_violations, describe_violations
from tests.clinic.conftest import open_case
from tests.staff import session_key, staff_user

OPENED = datetime(2026, 7, 15, 19, 5, tzinfo=UTC)  # 15:05 in New York (EDT)


@override_settings(TIME_ZONE="America/New_York")
def test_the_queue_and_the_record_show_the_clinics_local_time(
    open_context: Callable[..., BrowserContext], live_server: Any, shot_prefix: str
) -> None:
    case = open_case(at=OPENED)
    Case.objects.filter(pk=case.pk).update(opened_at=OPENED)
    key = session_key(staff_user("ivy.intake", Role.INTAKE))
    page = signed_in(open_context(), live_server, key).new_page()
    page.goto(f"{live_server.url}/clinic/")
    page.screenshot(path=SHOTS / f"{shot_prefix}-1-queue.png", full_page=True)
    page.goto(f"{live_server.url}/clinic/cases/{case.public_id}/")
    opened = page.locator("dt", has_text="Opened").locator("xpath=following-sibling::dd[1]")
    expect(opened).to_have_text("Jul 15, 2026 15:05 EDT")
    page.screenshot(path=SHOTS / f"{shot_prefix}-2-record.png")  # the top: status and times
    axe_page = signed_in(open_context(bypass_csp=True), live_server, key).new_page()
    axe_page.goto(f"{live_server.url}/clinic/cases/{case.public_id}/")
    violations = axe_violations(axe_page)
    assert not violations, describe_violations({"record": violations})
