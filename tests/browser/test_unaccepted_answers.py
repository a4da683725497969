"""A clinician answering a safety alert sees the answers a course page could not store (the
person's link had run out): in Chromium, in the knowledge base's words, with no axe-core
violations."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import BrowserContext, expect

from crossline.accounts.roles import Role
from crossline.care.models import Alert
from crossline.course import services
from crossline.knowledge import load
from tests.browser.test_course_patient import planned_course
from tests.browser.test_program_dashboard import signed_in
from tests.browser.visitor import SHOTS, axe_violations, describe_violations
from tests.staff import session_key, staff_user


@pytest.mark.django_db(transaction=True)
def test_the_alert_page_shows_what_the_person_sent(
    open_context: Callable[..., BrowserContext], live_server: Any, shot_prefix: str
) -> None:
    p = planned_course("en")
    sent = {"phq9.9": 2, "asq.1": "yes", "asq.2": "no", "asq.5": "refused"}
    alert = services.risk_reported_unsaved(p.course, Alert.Source.WEEKLY, sent, timezone.now())
    assert alert is not None and alert.level == Alert.Level.ACUTE
    url = f"{live_server.url}/clinic/alerts/{alert.public_id}/"
    key = session_key(staff_user("ivy.intake", Role.INTAKE))
    page = signed_in(open_context(), live_server, key).new_page()
    page.goto(url)
    section = page.locator(
        "section", has=page.get_by_role("heading", name="Answers that could not be stored")
    )
    k = load()
    expect(section).to_contain_text(k.items["phq9.9"].text["en"])
    expect(section).to_contain_text("More than half the days")
    expect(section).to_contain_text("I'd rather not answer")  # asq.5 refused, in its words
    section.scroll_into_view_if_needed()
    page.screenshot(path=SHOTS / f"{shot_prefix}-alert.png", full_page=True)
    axe = signed_in(open_context(bypass_csp=True), live_server, key).new_page()
    axe.goto(url)
    found = axe_violations(axe)
    assert not found, describe_violations({url: found})
