"""The course page in Chromium: an intake clinician sees the hold alert a high blood pressure
before a home session raised, opens the course, reads the reasons and clears the session.

Screenshots go to tests/browser/screenshots/ (look at them). The page is checked with the site's
CSP enforced (no blocked style or script) and, in a bypass_csp context, with axe-core.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.conf import settings
from django.utils import timezone
from playwright.sync_api import BrowserContext, Page, expect

from crossline.accounts.roles import Role
from crossline.course import services
from crossline.course.models import Session
from crossline.engine import course as rules
from tests.browser.visitor import SHOTS, axe_violations, describe_violations
from tests.course.conftest import HIGH_BP_PRE, Planned, approve, plan, schedule, sign
from tests.staff import session_key, staff_user
from tests.visits.conftest import make_patient

SUMMARY = "Blood pressure before the session is above the program limit."


def carrying(context: BrowserContext, base_url: str, role: Role, name: str) -> BrowserContext:
    """The browser carries the session of a clinician who passed the second factor."""
    cookie = session_key(staff_user(name, role, email=f"{name}@example.org"))
    context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": base_url}])
    return context


def shoot(page: Page, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SHOTS / f"course-staff-{name}.png", full_page=True)


def _a_scheduled_session() -> tuple[Planned, Any]:
    """An approved, planned and signed course with its first session scheduled."""
    physician = staff_user("dr.okafor", Role.PHYSICIAN, email="dr.okafor@example.org")
    patient = make_patient()
    approve(patient.case, physician)
    planned = Planned(plan(patient.case, physician, patient.token), patient.case, "", physician)
    sign(planned)
    session, _ = schedule(planned)
    return planned, session


@pytest.mark.django_db(transaction=True)
def test_a_clinician_clears_a_session_held_for_high_blood_pressure(
    open_context: Callable[..., BrowserContext], live_server: Any
) -> None:
    base = live_server.url
    planned, session = _a_scheduled_session()
    services.submit_session_checkin(session, "pre", HIGH_BP_PRE, "en", timezone.now())

    staff = carrying(open_context(), base, Role.INTAKE, "nurse.park")
    page = staff.new_page()
    page.set_viewport_size({"width": 1200, "height": 900})
    blocked: list[str] = []
    page.on(
        "console",
        lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None,
    )
    page.goto(f"{base}/clinic/alerts/")
    row = page.get_by_role("row").filter(has_text="checkin.pre.bp_high")
    expect(row).to_contain_text("pre-session check-in")
    expect(row).to_contain_text(SUMMARY)
    shoot(page, "01-alerts")
    row.get_by_role("link", name="Open the course").click()

    expect(page.get_by_role("heading", name="Treatment course", level=1)).to_be_visible()
    held = page.locator("#session-1")
    expect(held).to_contain_text("held")
    expect(held).to_contain_text(SUMMARY)
    shoot(page, "02-held")

    held.get_by_label("Clear: the session may go ahead").check()
    held.get_by_label("Note (what was checked and decided)").fill(
        "Called: seated re-check 128/82 on a validated cuff."
    )
    held.get_by_role("button", name="Record").click()
    expect(page.get_by_role("status").filter(has_text="Session 1 cleared")).to_be_visible()
    expect(page.locator("#session-1")).to_contain_text("ready")
    shoot(page, "03-cleared")
    assert Session.objects.get(pk=session.pk).status == rules.READY
    assert not blocked, blocked

    axe = carrying(open_context(bypass_csp=True), base, Role.PHYSICIAN, "dr.axe")
    check = axe.new_page()
    check.goto(f"{base}/clinic/courses/{planned.course.public_id}/")
    found = axe_violations(check)
    assert not found, describe_violations({check.url: found})


@pytest.mark.django_db(transaction=True)
def test_the_course_page_fits_a_360_pixel_phone(
    open_context: Callable[..., BrowserContext], live_server: Any
) -> None:
    """Rule ids in <code> (checkin.pre.bp_high, …) are long words: they wrap rather than push
    the page wider than a small phone's screen."""
    base = live_server.url
    planned, session = _a_scheduled_session()
    answers = {**HIGH_BP_PRE, "pre.new_medications": ["Quillstatin 5 mg"]}
    services.submit_session_checkin(session, "pre", answers, "en", timezone.now())
    page = carrying(open_context(), base, Role.INTAKE, "nurse.park").new_page()
    page.set_viewport_size({"width": 360, "height": 800})
    page.goto(f"{base}/clinic/courses/{planned.course.public_id}/")
    expect(page.locator("#session-1")).to_contain_text("checkin.pre.medication_unrecognised")
    wider = page.evaluate("document.documentElement.scrollWidth") - 360
    if wider > 1:
        shoot(page, "phone-360")
    assert wider <= 1, f"{wider}px wider than the screen"
