"""New or worse bladder or urinary symptoms answered in a weekly check-in pause the course until
the physician decides: FACTS §B4's rule table says "monitor; stop if new LUTS" (Spravato W&P
[S45c]; Ketalar 2.1/6 [S34][S37]), and stopping is the physician's decision. The same rule as an
emergency after a session (ADR 0006); its routine alert is raised as before."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from crossline.accounts.roles import Role
from crossline.audit.models import Event
from crossline.care.models import Alert
from crossline.course import services
from crossline.course.models import CheckIn, Weekly
from crossline.engine import course as rules
from tests.course.conftest import SAFE_PRE, Planned, schedule, sign, weekly_answers
from tests.course.test_emergency_pause import CHEST_PAIN, no_session_until_decided
from tests.course.test_reactivation import POSITIVE_WEEKLY, decide, document
from tests.staff import signed_in, staff_user

pytestmark = pytest.mark.django_db

CALM = weekly_answers([0] * 9, [0] * 7)
BLADDER_YES = {**CALM, "course.bladder": "yes"}
BLADDER_NO = {**CALM, "course.bladder": "no"}
ON_HOLD = {
    "en": (
        "Your care team will review this before your next session.",
        "Your treatment course is on hold until your clinician contacts you.",
    ),
    "es": (
        "Su equipo de atención revisará esto antes de su próxima sesión.",
        "Su tratamiento está en espera hasta que su profesional clínico se comunique con usted.",
    ),
}


def baseline(p: Planned) -> Weekly:
    """The baseline questionnaire, due on the start date: it asks about the bladder."""
    weekly = p.course.weeklies.get(number=0)
    assert weekly.bladder
    return weekly


def answer(p: Planned, answers: dict[str, Any], language: str = "en") -> CheckIn:
    stored = services.submit_weekly(baseline(p), answers, language, timezone.now())
    p.course.refresh_from_db()
    return stored


def thanks(p: Planned, lang: str) -> str:
    token = baseline(p).token
    return Client(HTTP_ACCEPT_LANGUAGE=lang).get(f"/w/{token}/").content.decode()


def test_new_bladder_symptoms_pause_the_course_audited_with_the_routine_alert(
    planned: Planned,
) -> None:
    answer(planned, BLADDER_YES)
    assert (planned.course.status, planned.course.status_reason) == (rules.PAUSED, "bladder")
    alert = Alert.objects.get(case=planned.case, source=Alert.Source.WEEKLY)
    assert alert.level == Alert.Level.ROUTINE and alert.reasons == ["weekly.bladder_symptoms"]
    paused = Event.objects.get(action="course.paused")
    assert paused.object_id == str(planned.course.public_id)
    assert paused.detail == {"reason": "bladder", "weekly": 0}
    with pytest.raises(services.CourseError, match="paused until the physician decides"):
        schedule(planned)


def test_no_session_starts_until_the_physician_decides_and_continue_reactivates(
    planned: Planned,
) -> None:
    sign(planned)
    answer(planned, BLADDER_YES)
    no_session_until_decided(planned)


def test_no_new_bladder_symptoms_leave_the_course_as_it_was(planned: Planned) -> None:
    answer(planned, BLADDER_NO)
    assert (planned.course.status, planned.course.status_reason) == (rules.ACTIVE, "")
    assert not Event.objects.filter(action="course.paused").exists()
    assert not Alert.objects.filter(case=planned.case).exists()
    assert services.awaiting_decision(planned.course) == []
    assert 'id="bladder-on-hold"' not in thanks(planned, "en")
    schedule(planned)


def test_a_suspension_lifted_by_a_risk_assessment_waits_for_the_decision_on_the_bladder(
    planned: Planned,
) -> None:
    """The same questionnaire showed suicide risk and new bladder symptoms: the course is
    suspended (safety first), and the risk assessment that lifts the suspension pauses it for
    the physician instead of making it active."""
    answer(planned, {**POSITIVE_WEEKLY, "course.bladder": "yes"})
    assert (planned.course.status, planned.course.status_reason) == (rules.SUSPENDED, "safety")
    document(planned, "low")
    assert (planned.course.status, planned.course.status_reason) == (rules.PAUSED, "bladder")
    decide(planned)
    assert planned.course.status == rules.ACTIVE


def test_a_pause_for_the_re_evaluation_point_is_named_for_the_bladder(planned: Planned) -> None:
    """One decision answers both; the symptoms are what the physician must read first."""
    sign(planned)
    planned.course.sessions_planned = planned.course.reevaluation_after = 1
    planned.course.save()
    session, _ = schedule(planned)
    services.submit_session_checkin(session, "pre", SAFE_PRE, "en", timezone.now())
    services.mark_done(session, user=planned.physician, request=None, now=timezone.now())
    planned.course.refresh_from_db()
    assert (planned.course.status, planned.course.status_reason) == (rules.PAUSED, "reevaluation")
    answer(planned, BLADDER_YES)
    assert (planned.course.status, planned.course.status_reason) == (rules.PAUSED, "bladder")


def test_the_course_page_lists_the_bladder_symptoms_and_an_emergency_in_one_box(
    planned: Planned,
) -> None:
    """A session went ahead, then the weekly answer paused the course (named for the bladder);
    the session's emergency renames the pause, and both wait for the same decision."""
    sign(planned)
    session, _ = schedule(planned)
    services.submit_session_checkin(session, "pre", SAFE_PRE, "en", timezone.now())
    weekly = answer(planned, BLADDER_YES)
    nurse = signed_in(staff_user("nurse.ivy", Role.INTAKE))
    url = f"/clinic/courses/{planned.course.public_id}/"
    page = nurse.get(url).content.decode()
    assert "paused after new or worse bladder or urinary symptoms" in page
    assert f'id="awaiting-bladder-{weekly.pk}"' in page
    assert "New bladder symptoms in the baseline weekly questionnaire," in page
    assert "weekly.bladder_symptoms" in page and f'href="#checkin-{weekly.pk}"' in page
    services.submit_session_checkin(
        session, "post", CHEST_PAIN, "en", timezone.now(), doses_taken=1
    )
    planned.course.refresh_from_db()
    assert (planned.course.status, planned.course.status_reason) == (rules.PAUSED, "emergency")
    page = nurse.get(url).content.decode()
    emergency = session.checkins.get(kind="post")
    assert page.count('id="awaiting-decision"') == 1
    assert f'id="awaiting-emergency-{emergency.pk}"' in page
    assert f'id="awaiting-bladder-{weekly.pk}"' in page
    doctor = signed_in(planned.physician)
    decided = doctor.post(
        f"{url}decision/",
        {"decision": "stop", "note": "New urinary symptoms and a chest-pain call: stop."},
    )
    assert decided.status_code == 302
    planned.course.refresh_from_db()
    assert planned.course.status == rules.STOPPED
    assert 'id="awaiting-decision"' not in nurse.get(url).content.decode()


def test_a_ready_session_page_tells_the_patient_not_to_take_the_dose(planned: Planned) -> None:
    """The go-ahead came before the weekly answer paused the course: the after-session check
    stays open, the dose waits."""
    sign(planned)
    session, token = schedule(planned)
    services.submit_session_checkin(session, "pre", SAFE_PRE, "en", timezone.now())
    answer(planned, BLADDER_YES)
    page = Client(HTTP_ACCEPT_LANGUAGE="en").get(f"/s/{token}/").content.decode()
    assert "If you have not taken your dose yet, do not take it today." in page
    assert 'name="post.sedation"' in page


@pytest.mark.parametrize("lang", ["en", "es"])
def test_the_patient_is_told_the_course_is_on_hold_until_their_clinician_contacts_them(
    planned: Planned, lang: str
) -> None:
    answer(planned, BLADDER_YES, lang)
    page = thanks(planned, lang)
    assert 'id="bladder-on-hold"' in page
    assert all(words in page for words in ON_HOLD[lang])
    overview = Client(HTTP_ACCEPT_LANGUAGE=lang).get(f"/r/{planned.result_token}/course/")
    body = overview.content.decode()
    assert {"en": "Your treatment course is on hold.", "es": "en espera"}[lang] in body
    assert 'id="course-on-hold"' in body
    decide(planned)
    assert 'id="bladder-on-hold"' not in thanks(planned, lang)


def test_the_weekly_form_posted_with_bladder_yes_pauses_the_course(planned: Planned) -> None:
    """Through the patient's page, as a browser sends it."""
    token = baseline(planned).token
    posted = {key: str(value) for key, value in BLADDER_YES.items()}
    sent = Client(HTTP_ACCEPT_LANGUAGE="en").post(f"/w/{token}/", posted)
    assert sent.status_code == 302
    planned.course.refresh_from_db()
    assert (planned.course.status, planned.course.status_reason) == (rules.PAUSED, "bladder")
    assert all(words in thanks(planned, "en") for words in ON_HOLD["en"])
