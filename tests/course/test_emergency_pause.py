"""An emergency reported in an after-session check (call 911) pauses the course until the
physician decides: no further session starts before a clinician has looked at it (program-safety
policy, ADR 0006). An `alert` after a session does not pause."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from crossline.accounts.roles import Role
from crossline.audit.models import Event
from crossline.care.models import Alert
from crossline.course import services
from crossline.course.models import Course, Session
from crossline.crypto import token_hash
from crossline.engine import course as rules
from crossline.intake.models import new_token
from tests.course.conftest import SAFE_POST, SAFE_PRE, Planned, later_today, schedule, sign
from tests.course.test_reactivation import POSITIVE_WEEKLY, decide, document
from tests.staff import signed_in, staff_user

pytestmark = pytest.mark.django_db

CHEST_PAIN = {**SAFE_POST, "post.emergency_symptoms": ["chest_pain"]}
DEEP_SEDATION = {**SAFE_POST, "post.sedation": 2}
SEVERE_DISSOCIATION = {**SAFE_POST, "post.dissociation": "severe"}  # an alert, not a 911


def after_session(p: Planned, post: dict[str, Any]) -> tuple[Session, str]:
    """A session whose pre check-in went ahead and whose after-session check sent `post`."""
    sign(p)
    session, token = schedule(p)
    services.submit_session_checkin(session, "pre", SAFE_PRE, "en", timezone.now())
    services.submit_session_checkin(session, "post", post, "en", timezone.now(), doses_taken=1)
    p.course.refresh_from_db()
    return session, token


def left_open(p: Planned) -> tuple[Session, str]:
    """A session open on a paused course. Scheduling refuses one (`rules.may_schedule`), so it
    is written directly: the pre check-in must refuse it too, whatever left it there."""
    token = new_token()
    when = later_today()
    session = Session.objects.create(
        course=p.course,
        block=p.course.block,
        number=p.course.sessions.count() + 1,
        scheduled_for=when,
        token_hash=token_hash(token),
        token=token,
        link_expires_at=when + timedelta(hours=48),
        scheduled_by=p.physician,
        scheduled_at=timezone.now(),
    )
    return session, token


@pytest.mark.parametrize("post", [CHEST_PAIN, DEEP_SEDATION], ids=["symptom", "sedation"])
def test_an_emergency_after_a_session_pauses_the_course_audited_and_alerts(
    planned: Planned, post: dict[str, Any]
) -> None:
    session, _ = after_session(planned, post)
    assert (planned.course.status, planned.course.status_reason) == (rules.PAUSED, "emergency")
    alert = Alert.objects.get(case=planned.case, source=Alert.Source.POST)
    assert alert.level == Alert.Level.ACUTE and alert.is_open
    paused = Event.objects.get(action="course.paused")
    assert paused.object_id == str(planned.course.public_id)
    assert paused.detail == {"reason": "emergency", "session": session.number}
    with pytest.raises(services.CourseError, match="paused until the physician decides"):
        schedule(planned)


def test_no_session_starts_until_the_physician_decides_and_continue_reactivates(
    planned: Planned,
) -> None:
    after_session(planned, CHEST_PAIN)
    no_session_until_decided(planned)


def no_session_until_decided(planned: Planned) -> None:
    """A course paused for a report: a session left open refuses its pre check-in and its link
    shows the wait page (en, es); the physician's continue reactivates the course, and the next
    session goes ahead."""
    waiting, token = left_open(planned)
    with pytest.raises(services.CourseError, match="the course is paused"):
        services.submit_session_checkin(waiting, "pre", SAFE_PRE, "en", timezone.now())
    for lang, words in (("en", "Your treatment course is on hold."), ("es", "en espera")):
        page = Client(HTTP_ACCEPT_LANGUAGE=lang).get(f"/s/{token}/").content.decode()
        assert 'id="wait"' in page and words in page and 'name="vitals.systolic"' not in page
    waiting.delete()
    decide(planned)
    assert (planned.course.status, planned.course.status_reason) == (rules.ACTIVE, "")
    assert services.awaiting_decision(planned.course) == []
    following, _ = schedule(planned)
    services.submit_session_checkin(following, "pre", SAFE_PRE, "en", timezone.now())
    following.refresh_from_db()
    assert following.status == rules.READY


def test_the_patient_keeps_the_911_page_and_their_course_page_says_on_hold(
    planned: Planned,
) -> None:
    _, token = after_session(planned, CHEST_PAIN)
    for lang, words in (
        ("en", "Your treatment course is on hold."),
        ("es", "Su tratamiento está en espera."),
    ):
        browser = Client(HTTP_ACCEPT_LANGUAGE=lang)
        emergency = browser.get(f"/s/{token}/").content.decode()
        assert 'href="tel:911"' in emergency and 'id="session-done"' not in emergency
        overview = browser.get(f"/r/{planned.result_token}/course/").content.decode()
        assert words in overview and "Your clinician will schedule" not in overview


def test_an_alert_after_a_session_does_not_pause(planned: Planned) -> None:
    after_session(planned, SEVERE_DISSOCIATION)
    assert planned.course.status == rules.ACTIVE
    assert Alert.objects.get(case=planned.case, source=Alert.Source.POST).level == "non_acute"
    assert not Event.objects.filter(action="course.paused").exists()
    schedule(planned)


def test_an_emergency_on_the_last_session_of_the_block_names_the_emergency(
    planned: Planned,
) -> None:
    """The same session reached the re-evaluation point: one decision answers both, and the
    pause is named for the emergency, which the physician must read first."""
    course = planned.course
    course.sessions_planned = course.reevaluation_after = 1
    course.save()
    after_session(planned, CHEST_PAIN)
    assert (planned.course.status, planned.course.status_reason) == (rules.PAUSED, "emergency")
    reasons = [a.reasons for a in Alert.objects.filter(case=planned.case, source="post")]
    assert ["course.reevaluation_due"] in reasons


def test_a_suspension_lifted_by_a_risk_assessment_waits_for_the_decision_on_an_emergency(
    planned: Planned,
) -> None:
    """A positive weekly answer suspended the course between the session's go-ahead and its
    after-check: the emergency leaves it suspended, and the risk assessment that lifts the
    suspension pauses the course for the physician instead of making it active."""
    sign(planned)
    session, _ = schedule(planned)
    now = timezone.now()
    services.submit_session_checkin(session, "pre", SAFE_PRE, "en", now)
    services.submit_weekly(planned.course.weeklies.get(number=0), POSITIVE_WEEKLY, "en", now)
    services.submit_session_checkin(session, "post", CHEST_PAIN, "en", now, doses_taken=1)
    planned.course.refresh_from_db()
    assert planned.course.status == rules.SUSPENDED
    document(planned, "low")
    assert (planned.course.status, planned.course.status_reason) == (rules.PAUSED, "emergency")
    decide(planned)
    assert planned.course.status == rules.ACTIVE


def test_the_course_page_shows_the_emergency_behind_the_pause_until_the_decision(
    planned: Planned,
) -> None:
    session, _ = after_session(planned, CHEST_PAIN)
    check = session.checkins.get(kind="post")
    nurse = signed_in(staff_user("nurse.ivy", Role.INTAKE))
    url = f"/clinic/courses/{planned.course.public_id}/"
    page = nurse.get(url).content.decode()
    assert "paused after an emergency reported in an after-session check" in page
    assert 'id="awaiting-decision"' in page
    assert f'id="awaiting-emergency-{check.pk}"' in page
    assert f"Emergency after session {session.number}," in page
    assert "checkin.post.emergency_symptom" in page and f'href="#checkin-{check.pk}"' in page
    assert f'id="checkin-{check.pk}"' in page
    doctor = signed_in(planned.physician)
    decided = doctor.post(
        f"{url}decision/",
        {"decision": "continue", "sessions_added": "4", "note": "Recovered; continue."},
    )
    assert decided.status_code == 302
    planned.course.refresh_from_db()
    assert planned.course.status == rules.ACTIVE
    assert 'id="awaiting-decision"' not in nurse.get(url).content.decode()


def test_an_active_course_with_an_emergency_from_before_the_pause_rule_shows_no_box(
    planned: Planned,
) -> None:
    """A course that stayed active after an emergency (as before emergencies paused courses)
    is not said to be waiting: sessions may start on it."""
    after_session(planned, CHEST_PAIN)
    Course.objects.filter(pk=planned.course.pk).update(status=rules.ACTIVE, status_reason="")
    page = signed_in(planned.physician).get(f"/clinic/courses/{planned.course.public_id}/")
    assert 'id="awaiting-decision"' not in page.content.decode()
