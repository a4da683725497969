"""A course coming back to active after a pause or a suspension: never while the latest
documented suicide-risk assessment is high, and never on a pre-session check-in answered
before the pause."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone

from crossline.accounts.roles import Role
from crossline.audit.models import Event
from crossline.course import services
from crossline.course.models import CourseDecision, Session
from crossline.engine import course as rules
from tests.course.conftest import SAFE_PRE, Planned, schedule, sign, weekly_answers
from tests.staff import signed_in, staff_user

pytestmark = pytest.mark.django_db

POSITIVE_WEEKLY = weekly_answers(
    [1] * 8 + [1],
    [1] * 7,
    **{"asq.1": "yes", "asq.2": "no", "asq.3": "no", "asq.4": "no", "asq.5": "no"},
    **{"course.bladder": "no"},
)


def suspend(p: Planned) -> None:
    """A positive weekly answer suspends the course."""
    services.submit_weekly(p.course.weeklies.get(number=0), POSITIVE_WEEKLY, "en", timezone.now())
    p.course.refresh_from_db()
    assert p.course.status == rules.SUSPENDED


def document(p: Planned, risk: str) -> None:
    services.document_risk(
        p.course,
        risk=risk,
        note="Assessed by phone.",
        user=p.physician,
        request=None,
        now=timezone.now(),
    )
    p.course.refresh_from_db()


def decide(p: Planned, decision: str = "continue") -> None:
    services.decide(
        p.course,
        decision=decision,
        sessions_added=4,
        note="Reviewed.",
        user=p.physician,
        request=None,
        now=timezone.now(),
    )
    p.course.refresh_from_db()


def ready(p: Planned) -> tuple[Session, str]:
    """A session whose pre check-in said go ahead."""
    sign(p)
    session, token = schedule(p)
    services.submit_session_checkin(session, "pre", SAFE_PRE, "en", timezone.now())
    session.refresh_from_db()
    assert session.status == rules.READY
    return session, token


def test_continue_is_refused_while_the_latest_documented_risk_is_high(planned: Planned) -> None:
    suspend(planned)
    document(planned, "high")
    assert planned.course.status == rules.PAUSED
    for decision in ("continue", "change"):
        with pytest.raises(services.CourseError, match="decision: the latest documented"):
            decide(planned, decision)
    planned.course.refresh_from_db()
    assert planned.course.status == rules.PAUSED and planned.course.block == 1
    assert not CourseDecision.objects.exists()
    assert not Event.objects.filter(action="course.decided").exists()


def test_a_newer_assessment_that_is_not_high_lets_the_physician_continue(
    planned: Planned,
) -> None:
    suspend(planned)
    document(planned, "high")
    document(planned, "moderate")
    assert planned.course.status == rules.PAUSED  # still the physician's decision
    decide(planned)
    assert planned.course.status == rules.ACTIVE and planned.course.block == 2


def test_stop_is_always_possible_with_a_high_risk(planned: Planned) -> None:
    suspend(planned)
    document(planned, "high")
    decide(planned, "stop")
    assert planned.course.status == rules.STOPPED


def test_the_decision_form_shows_the_refusal_and_stores_nothing(planned: Planned) -> None:
    suspend(planned)
    document(planned, "high")
    doctor = signed_in(planned.physician)
    url = f"/clinic/courses/{planned.course.public_id}/decision/"
    response = doctor.post(url, {"decision": "continue", "sessions_added": "4", "note": "Better."})
    assert response.status_code == 422
    html = response.content.decode()
    assert "Decision: the latest documented suicide-risk assessment is high" in html
    planned.course.refresh_from_db()
    assert planned.course.status == rules.PAUSED
    assert not CourseDecision.objects.exists()


def _post_page(token: str) -> str:
    return Client().get(f"/s/{token}/").content.decode()


def test_a_go_ahead_from_before_a_suspension_does_not_survive_it(planned: Planned) -> None:
    session, token = ready(planned)
    suspend(planned)
    document(planned, "low")
    assert planned.course.status == rules.ACTIVE
    session.refresh_from_db()
    assert session.status == rules.CANCELLED
    assert session.clear_note == {"note": services.STALE_NOTE}
    html = _post_page(token)
    assert "You can go ahead" not in html and "This session was cancelled." in html
    event = Event.objects.get(action="session.cleared", object_id=str(session.public_id))
    assert event.detail == {"proceed": False, "checkin_before_pause": True}
    # The next session asks for a new pre check-in (no override: the old one was cancelled).
    _, second_token = schedule(planned)
    assert 'name="step" value="pre"' in _post_page(second_token)


def test_a_go_ahead_from_before_a_pause_does_not_survive_the_decision(planned: Planned) -> None:
    session, token = ready(planned)
    suspend(planned)
    document(planned, "high")
    document(planned, "low")
    decide(planned)
    session.refresh_from_db()
    assert session.status == rules.CANCELLED
    assert "You can go ahead" not in _post_page(token)
    decided = Event.objects.get(action="course.decided")
    assert decided.detail["sessions_cancelled"] == 1


def test_a_held_session_stays_for_the_clinician(planned: Planned) -> None:
    sign(planned)
    session, _ = schedule(planned)
    positive = {**SAFE_PRE, "phq9.9": 1, "asq.1": "yes", "asq.2": "no", "asq.3": "no",
                "asq.4": "no", "asq.5": "no"}  # fmt: skip
    services.submit_session_checkin(session, "pre", positive, "en", timezone.now())
    document(planned, "low")
    session.refresh_from_db()
    assert session.status == rules.HELD  # the clinician clears or cancels it, with a note


def test_the_staff_page_says_why_the_session_was_cancelled(planned: Planned) -> None:
    ready(planned)
    suspend(planned)
    document(planned, "low")
    nurse = signed_in(staff_user("nurse.ivy", Role.INTAKE))
    page = nurse.get(f"/clinic/courses/{planned.course.public_id}/").content.decode()
    assert "its pre-session check-in was answered before the course was paused" in page
