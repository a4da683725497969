"""A patient on a phone answers the video visit a clinician proposed, through their private
result link: the proposal, then the confirmation — each page checked with axe, in English and
in Spanish. Screenshots go to tests/browser/screenshots/ (look at them)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, expect

from crossline.accounts.roles import Role
from tests.browser.visitor import SHOTS, axe_violations, describe_violations
from tests.staff import staff_user
from tests.visits.conftest import VIDEO_URL, in_days, make_patient

WORDS = {
    "en": {"proposed": "A time is proposed for your visit", "confirm": "Confirm this time",
           "confirmed": "Your visit is confirmed"},
    "es": {"proposed": "Le proponemos una hora para su visita", "confirm": "Confirmar esta hora",
           "confirmed": "Su visita está confirmada"},
}  # fmt: skip


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("lang", ["es", "en"])
def test_a_patient_confirms_the_proposed_visit(
    open_context: Callable[..., BrowserContext], live_server: Any, lang: str
) -> None:
    from django.db import transaction
    from django.test import RequestFactory
    from django.utils import timezone

    from crossline.program.models import ProgramSettings
    from crossline.visits import scheduling

    settings = ProgramSettings.current()
    settings.video_visit_url = VIDEO_URL
    settings.save()
    patient = make_patient(lang)
    request = RequestFactory().post("/clinic/")
    request.user = staff_user(f"dr.visit.{lang}", Role.PHYSICIAN)
    with transaction.atomic():
        scheduling.propose(
            patient.case,
            starts_at=in_days(4),
            duration_minutes=45,
            time_zone="America/New_York",
            request=request,
            now=timezone.now(),
        )

    w = WORDS[lang]
    url = f"{live_server.url}/r/{patient.token}/visit/"
    page = open_context(bypass_csp=True, locale="es-US" if lang == "es" else "en-US").new_page()
    found: dict[str, list[dict[str, Any]]] = {}
    page.goto(url)
    expect(page.locator("html")).to_have_attribute("lang", lang)
    expect(page.locator("h1")).to_have_text(w["proposed"])
    expect(page.locator("#video-link")).to_have_attribute("href", VIDEO_URL)
    found["proposed"] = axe_violations(page)
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SHOTS / f"visit-patient-1-proposed-{lang}.png", full_page=True)

    page.get_by_role("button", name=w["confirm"]).click()
    expect(page.locator("h1")).to_have_text(w["confirmed"])
    expect(page.locator("#visit-status")).to_be_visible()
    found["confirmed"] = axe_violations(page)
    page.screenshot(path=SHOTS / f"visit-patient-2-confirmed-{lang}.png", full_page=True)
    assert not any(found.values()), describe_violations(found)
