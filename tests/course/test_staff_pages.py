"""The staff course pages: the physician's plan, the course page and its actions, the alerts."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

import crossline
from crossline.accounts.roles import Role
from crossline.audit.models import Event
from crossline.course import services
from crossline.course.forms import PlanForm, ScheduleForm
from crossline.course.models import Course, Session
from crossline.engine import course as rules
from tests.course.conftest import (
    HIGH_BP_PRE,
    SAFE_POST,
    SAFE_PRE,
    Planned,
    approve,
    schedule,
    sign,
    weekly_answers,
)
from tests.staff import signed_in, staff_user
from tests.visits.conftest import make_patient

STATIC = Path(crossline.__file__).parent / "accounts" / "static"

pytestmark = pytest.mark.django_db


def client_for(user: User) -> Client:
    return signed_in(user)


@pytest.fixture
def nurse() -> Client:
    return signed_in(staff_user("nurse.ivy", Role.INTAKE))


@pytest.fixture
def doctor(physician: User) -> Client:
    return signed_in(physician)


def plan_form(**overrides: Any) -> dict[str, Any]:
    values = {
        "start_date": (date.today() + timedelta(days=2)).isoformat(),
        "sessions_planned": "6",
        "sessions_per_week": "2",
        "time_zone": "America/Chicago",
        "prescription_text": "As written: one troche under the tongue per session.",
        "medication": "ketamine (compounded)",
        "route": "sublingual troche",
        "strength": "as written",
        "units_per_session": "1",
        "monitor_name": "Odalys Brightwater",
        "notes": "",
    }
    values.update(overrides)
    return values


def course_url(course: Course) -> str:
    return f"/clinic/courses/{course.public_id}/"


def held(planned: Planned) -> Session:
    sign(planned)
    session, _ = schedule(planned)
    services.submit_session_checkin(session, "pre", HIGH_BP_PRE, "en", timezone.now())
    session.refresh_from_db()
    assert session.status == rules.HELD
    return session


# --- planning -----------------------------------------------------------------------------------


def test_a_physician_plans_a_course_for_an_approved_case(physician: User, doctor: Client) -> None:
    patient = make_patient(state="TX")
    approve(patient.case, physician)
    url = f"/clinic/cases/{patient.case.public_id}/course/new/"
    page = doctor.get(url)
    assert page.status_code == 200
    body = page.content.decode()
    assert 'value="America/Chicago" selected' in body  # Texas: Central time
    assert "140/90" in body and "above 100" in body and "2 hours" in body
    assert "policy.checkin_bp_hold" in body
    assert 'name="units_per_session"' in body and 'name="units_per_session" value' not in body
    response = doctor.post(url, plan_form())
    course = Course.objects.get(case=patient.case)
    assert response.status_code == 302
    assert response["Location"] == course_url(course)
    assert course.plan["prescription_text"].startswith("As written")
    assert course.plan["form"] == "sublingual troche"
    assert course.time_zone == "America/Chicago"
    assert course.sessions_planned == 6
    assert course.induction_end == date.today() + timedelta(days=2, weeks=3)
    assert Event.objects.filter(action="course.planned").count() == 1
    # Only once: a second plan is refused and nothing more is stored.
    again = doctor.post(url, plan_form())
    assert again.status_code == 409
    assert "has a course already" in again.content.decode()
    assert Course.objects.count() == 1


def test_an_intake_clinician_cannot_plan(physician: User, nurse: Client) -> None:
    patient = make_patient()
    approve(patient.case, physician)
    url = f"/clinic/cases/{patient.case.public_id}/course/new/"
    assert nurse.get(url).status_code == 403
    assert nurse.post(url, plan_form()).status_code == 403
    assert not Course.objects.exists()


def test_no_plan_for_a_case_not_approved(doctor: Client) -> None:
    patient = make_patient()
    url = f"/clinic/cases/{patient.case.public_id}/course/new/"
    assert doctor.get(url).status_code == 409
    assert doctor.post(url, plan_form()).status_code == 409
    assert not Course.objects.exists()


def test_validation_names_the_fields_and_stores_nothing(physician: User, doctor: Client) -> None:
    patient = make_patient()
    approve(patient.case, physician)
    url = f"/clinic/cases/{patient.case.public_id}/course/new/"
    response = doctor.post(
        url,
        plan_form(
            sessions_planned="7", prescription_text="", units_per_session="", sessions_per_week="4"
        ),
    )
    assert response.status_code == 422
    body = response.content.decode()
    assert "Number of sessions: Ensure this value is less than or equal to 6." in body
    assert "Prescription as written: This field is required." in body
    assert "Units per session (as written): This field is required." in body
    assert "Sessions per week: Select a valid choice." in body
    assert not Course.objects.exists()


RX = "\r\n  Ketamine HCl 100 mg troche\r\n    Sig: 1 troche  SL  per session\r\n    Disp: #6\r\n"


def test_the_prescription_is_kept_and_shown_as_the_physician_typed_it(
    physician: User, doctor: Client
) -> None:
    """PRODUCT.md step 4: the prescription as entered by the physician — not trimmed, not
    re-spaced: the indentation and spacing of a pasted prescription are part of how it reads."""
    patient = make_patient()
    approve(patient.case, physician)
    url = f"/clinic/cases/{patient.case.public_id}/course/new/"
    assert doctor.post(url, plan_form(prescription_text=RX)).status_code == 302
    course = Course.objects.get(case=patient.case)
    assert course.plan["prescription_text"] == RX
    page = doctor.get(course_url(course)).content.decode()
    shown = "<br>  Ketamine HCl 100 mg troche<br>    Sig: 1 troche  SL  per session<br>"
    assert f'<dd class="pre">{shown}    Disp: #6<br></dd>' in page
    css = (STATIC / "staff" / "staff.css").read_text()
    assert re.search(r"\.pre \{[^}]*white-space: pre-wrap", css)  # the spaces show as typed


def test_a_blank_prescription_is_refused(physician: User, doctor: Client) -> None:
    patient = make_patient()
    approve(patient.case, physician)
    url = f"/clinic/cases/{patient.case.public_id}/course/new/"
    response = doctor.post(url, plan_form(prescription_text=" \r\n\t "))
    assert response.status_code == 422
    assert "Prescription as written: This field is required." in response.content.decode()
    assert not Course.objects.exists()


@pytest.mark.parametrize("start", ["2001-01-01", "yesterday", "in 400 days", "2999-12-31"])
def test_the_start_is_from_today_to_a_year_from_now(
    physician: User, doctor: Client, start: str
) -> None:
    patient = make_patient()
    approve(patient.case, physician)
    today = timezone.now().astimezone(ZoneInfo("America/Chicago")).date()
    day = {
        "yesterday": today - timedelta(days=1),
        "in 400 days": today + timedelta(days=400),
    }.get(start) or date.fromisoformat(start)
    url = f"/clinic/cases/{patient.case.public_id}/course/new/"
    response = doctor.post(url, plan_form(start_date=day.isoformat()))
    assert response.status_code == 422
    assert "Start date: Choose a day from today to a year from now" in response.content.decode()
    assert not Course.objects.exists()


def test_the_start_bounds_are_days_in_the_courses_time_zone() -> None:
    # 02:00 UTC on 1 March 2027 is still 28 February in Chicago.
    now = datetime(2027, 3, 1, 2, 0, tzinfo=UTC)

    def errors(start: str, zone: str) -> Any:
        form = PlanForm(plan_form(start_date=start, time_zone=zone), cap=6, now=now)
        form.is_valid()
        return form.errors.get("start_date")

    assert errors("2027-02-28", "America/Chicago") is None
    assert errors("2027-02-28", "Pacific/Guam") is not None  # already 1 March there
    assert errors("2028-02-28", "America/Chicago") is None  # a year from today
    assert errors("2028-02-29", "America/Chicago") is not None


# --- the course page ----------------------------------------------------------------------------


def test_the_course_page_shows_a_hold_and_clearing_it_works(
    planned: Planned, nurse: Client
) -> None:
    session = held(planned)
    page = nurse.get(course_url(planned.course))
    assert page.status_code == 200
    body = page.content.decode()
    assert "checkin.pre.bp_high" in body
    assert "Blood pressure before the session is above the program limit." in body
    assert "Odalys Brightwater" in body
    assert "EDT" in body or "EST" in body  # the course's zone, shown
    assert Event.objects.filter(action="course.viewed").count() == 1
    # Marking it done is refused while held, with the service's message.
    refused = nurse.post(f"{course_url(planned.course)}sessions/{session.public_id}/done/")
    assert refused.status_code == 422
    assert "a clinician must clear it first" in refused.content.decode()
    session.refresh_from_db()
    assert session.status == rules.HELD
    # A note is required.
    clear = f"{course_url(planned.course)}sessions/{session.public_id}/clear/"
    missing = nurse.post(clear, {"outcome": "proceed", "note": ""})
    assert missing.status_code == 422
    assert "Note (what was checked and decided): This field is required." in (
        missing.content.decode()
    )
    ok = nurse.post(
        clear, {"outcome": "proceed", "note": "Rechecked by phone: 128/82."}, follow=True
    )
    assert "Session 1 cleared: it may go ahead." in ok.content.decode()
    session.refresh_from_db()
    assert session.status == rules.READY
    assert session.clear_note == {"note": "Rechecked by phone: 128/82."}
    assert Event.objects.filter(action="session.cleared").count() == 1
    done = nurse.post(f"{course_url(planned.course)}sessions/{session.public_id}/done/")
    assert done.status_code == 302
    session.refresh_from_db()
    assert session.status == rules.DONE


def test_the_course_page_costs_the_same_queries_however_many_weeks_it_has(
    planned: Planned, nurse: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The program settings are re-read every few seconds: not inside the counts below.
    monkeypatch.setattr("crossline.program.policy.TTL_SECONDS", 3600.0)
    course, url = planned.course, course_url(planned.course)

    def answer(number: int) -> None:
        weekly = course.weeklies.get(number=number)
        extra = {"course.bladder": "no"} if weekly.bladder else {}
        answers = weekly_answers([2] * 8 + [0], [1] * 7, **extra)
        services.submit_weekly(weekly, answers, "en", timezone.now())

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert nurse.get(url).status_code == 200
        return len(queries.captured_queries)

    answer(0)
    nurse.get(url)  # the session's first workspace page records when the session started
    few = count()
    # A "continue" decision adds a block's weeks (services.decide); answered, each is a row.
    first = course.weeklies.count()
    services.add_weeklies(course, course.start_date, 8, first_number=first, p=services.policy())
    for number in range(1, first + 8):
        answer(number)
    assert count() == few


def test_schedule_next_needs_the_after_check_or_an_override(
    planned: Planned, nurse: Client
) -> None:
    sign(planned)
    first, _ = schedule(planned)
    services.submit_session_checkin(first, "pre", SAFE_PRE, "en", timezone.now())
    services.mark_done(first, user=planned.physician, request=None, now=timezone.now())
    url = f"{course_url(planned.course)}schedule/"
    tomorrow = (timezone.now() + timedelta(days=2)).date().isoformat()
    page = nurse.get(course_url(planned.course)).content.decode()
    assert 'name="override_reason"' in page
    refused = nurse.post(url, {"day": tomorrow, "time": "18:00", "override_reason": ""})
    assert refused.status_code == 422
    assert "after-check is not in" in refused.content.decode()
    assert planned.course.sessions.count() == 1
    made = nurse.post(
        url, {"day": tomorrow, "time": "18:00", "override_reason": "After-check taken by phone."}
    )
    assert made.status_code == 200
    body = made.content.decode()
    second = planned.course.sessions.get(number=2)
    assert "/s/" in body and "e-mail reminder" in body
    token = body.split("/s/")[1].split("/")[0]
    assert services.session_by_token(token) == second
    assert second.override_reason == {"reason": "After-check taken by phone."}
    assert (
        second.scheduled_for.astimezone(__import__("zoneinfo").ZoneInfo("America/New_York")).hour
        == 18
    )
    # The link is not shown again on the course page.
    assert token not in nurse.get(course_url(planned.course)).content.decode()


def next_spring_forward(today: date) -> date:
    """The next day the clocks go forward in New York (the second Sunday of March)."""
    for year in (today.year, today.year + 1):
        march = date(year, 3, 8)  # the second Sunday is from the 8th to the 14th
        day = march + timedelta(days=(6 - march.weekday()) % 7)
        if day > today:
            return day
    raise AssertionError("unreachable")


def next_fall_back(today: date) -> date:
    """The next day the clocks go back in New York (the first Sunday of November)."""
    for year in (today.year, today.year + 1):
        november = date(year, 11, 1)
        day = november + timedelta(days=(6 - november.weekday()) % 7)
        if day > today:
            return day
    raise AssertionError("unreachable")


@pytest.mark.parametrize(
    ("when", "field", "message"),
    [
        ("far", "Session date", "Choose a day from today to a year from now"),
        ("gap", "Session time", "This time does not exist in that zone (the clocks change)."),
        ("fold", "Session time", "This time happens twice in that zone on that day"),
        ("past", "Session date", "Choose a date and time in the future."),
    ],
)
def test_a_session_is_a_real_moment_within_the_next_year(
    planned: Planned, nurse: Client, when: str, field: str, message: str
) -> None:
    today = timezone.now().astimezone(ZoneInfo("America/New_York")).date()
    day, at = {
        "far": ("2999-12-31", "10:00"),
        "gap": (next_spring_forward(today).isoformat(), "02:30"),
        "fold": (next_fall_back(today).isoformat(), "01:30"),  # EDT, then EST an hour later
        "past": ((today - timedelta(days=1)).isoformat(), "10:00"),
    }[when]
    url = f"{course_url(planned.course)}schedule/"
    refused = nurse.post(url, {"day": day, "time": at})
    assert refused.status_code == 422
    assert f"{field}: {message}" in refused.content.decode()
    assert not planned.course.sessions.exists()
    # Nothing stands in the way of a real one.
    tomorrow = (today + timedelta(days=1)).isoformat()
    assert nurse.post(url, {"day": tomorrow, "time": "10:00"}).status_code == 200


def test_the_last_day_a_session_may_be_scheduled_is_a_year_from_today() -> None:
    now = datetime(2027, 3, 1, 2, 0, tzinfo=UTC)  # 28 February in New York

    def errors(day: str) -> Any:
        form = ScheduleForm({"day": day, "time": "10:00"}, zone="America/New_York", now=now)
        form.is_valid()
        return form.errors.get("day")

    assert errors("2028-02-28") is None
    assert errors("2028-02-29") is not None


def test_scheduling_with_the_after_check_in_needs_no_override(
    planned: Planned, nurse: Client
) -> None:
    sign(planned)
    first, _ = schedule(planned)
    services.submit_session_checkin(first, "pre", SAFE_PRE, "en", timezone.now())
    services.submit_session_checkin(first, "post", SAFE_POST, "en", timezone.now(), 1)
    page = nurse.get(course_url(planned.course)).content.decode()
    assert 'name="override_reason"' not in page
    tomorrow = (timezone.now() + timedelta(days=2)).date().isoformat()
    made = nurse.post(f"{course_url(planned.course)}schedule/", {"day": tomorrow, "time": "09:30"})
    assert made.status_code == 200
    assert Event.objects.filter(action="session.scheduled").count() == 2


def test_a_risk_assessment_lifts_a_suspension(planned: Planned, nurse: Client) -> None:
    sign(planned)
    session, _ = schedule(planned)
    positive = {**SAFE_PRE, "phq9.9": 1, "asq.1": "no", "asq.2": "yes", "asq.3": "no",
                "asq.4": "no"}  # fmt: skip
    services.submit_session_checkin(session, "pre", positive, "en", timezone.now())
    planned.course.refresh_from_db()
    assert planned.course.status == rules.SUSPENDED
    page = nurse.get(course_url(planned.course)).content.decode()
    assert "suspended for safety until a clinician documents a risk assessment" in page
    url = f"{course_url(planned.course)}risk/"
    bad = nurse.post(url, {"risk": "", "note": "", "seen": seen_on(page)})
    assert bad.status_code == 422
    assert "Assessed risk: This field is required." in bad.content.decode()
    note = "Spoke with the patient; safety plan reviewed."
    ok = nurse.post(url, {"risk": "low", "note": note, "seen": seen_on(page)})
    assert ok.status_code == 302
    planned.course.refresh_from_db()
    assert planned.course.status == rules.ACTIVE
    assert Event.objects.filter(action="risk.documented").count() == 1


def seen_on(page: str) -> str:
    """The count of answers showing risk the course page sends with a risk assessment."""
    found = re.search(r'name="seen" value="(\d+)"', page)
    assert found is not None
    return found.group(1)


def test_a_risk_assessment_made_before_a_newer_risky_answer_is_refused(
    planned: Planned, nurse: Client
) -> None:
    """The patient sends another answer showing risk while the clinician writes the assessment
    of the first: it must not lift the suspension that answer put on, unseen."""
    sign(planned)
    session, _ = schedule(planned)
    positive = {**SAFE_PRE, "phq9.9": 1, "asq.1": "yes", "asq.2": "no", "asq.3": "no",
                "asq.4": "no", "asq.5": "no"}  # fmt: skip
    services.submit_session_checkin(session, "pre", positive, "en", timezone.now())
    page = nurse.get(course_url(planned.course)).content.decode()
    weekly = planned.course.weeklies.get(number=0)
    asq = {"asq.1": "yes", "asq.2": "yes", "asq.3": "no", "asq.4": "no", "asq.5": "yes"}
    extra = {"course.bladder": "no"} if weekly.bladder else {}
    answers = weekly_answers([2] * 9, [1] * 7, **asq, **extra)
    services.submit_weekly(weekly, answers, "en", timezone.now())
    url = f"{course_url(planned.course)}risk/"
    note = "Spoke with the patient about the check-in."
    stale = nurse.post(url, {"risk": "low", "note": note, "seen": seen_on(page)})
    assert stale.status_code == 422
    again = stale.content.decode()
    assert "a new answer showing suicide risk came in after this page was opened" in again
    planned.course.refresh_from_db()
    assert planned.course.status == rules.SUSPENDED
    assert not planned.course.risk_assessments.exists()
    assert seen_on(again) != seen_on(page)  # the page shown again shows the new answer
    ok = nurse.post(url, {"risk": "moderate", "note": note, "seen": seen_on(again)})
    assert ok.status_code == 302
    planned.course.refresh_from_db()
    assert planned.course.status == rules.ACTIVE


def paused(planned: Planned) -> None:
    Course.objects.filter(pk=planned.course.pk).update(
        status=rules.PAUSED, status_reason="reevaluation"
    )


def test_the_decision_at_the_pause(planned: Planned, doctor: Client, nurse: Client) -> None:
    paused(planned)
    url = f"{course_url(planned.course)}decision/"
    assert "paused for the physician" in nurse.get(course_url(planned.course)).content.decode()
    assert (
        nurse.post(url, {"decision": "continue", "sessions_added": "4", "note": "x"}).status_code
        == 403
    )
    over = doctor.post(url, {"decision": "continue", "sessions_added": "7", "note": "Better."})
    assert over.status_code == 422
    assert "Sessions in the next block" in over.content.decode()
    none = doctor.post(url, {"decision": "continue", "sessions_added": "", "note": "Better."})
    assert "Say how many sessions the next block has." in none.content.decode()
    ok = doctor.post(url, {"decision": "continue", "sessions_added": "4", "note": "Responding."})
    assert ok.status_code == 302
    planned.course.refresh_from_db()
    assert (planned.course.status, planned.course.block, planned.course.sessions_planned) == (
        rules.ACTIVE,
        2,
        4,
    )
    assert Event.objects.filter(action="course.decided").count() == 1


def test_the_alerts_list_shows_source_reasons_and_the_course(
    planned: Planned, nurse: Client
) -> None:
    held(planned)
    body = nurse.get("/clinic/alerts/").content.decode()
    assert "pre-session check-in" in body
    assert "checkin.pre.bp_high" in body
    assert "Blood pressure before the session is above the program limit." in body
    assert course_url(planned.course) in body
    from crossline.care.models import Alert

    alert = Alert.objects.get(case=planned.case, source="pre")
    detail = nurse.get(f"/clinic/alerts/{alert.public_id}/").content.decode()
    assert "checkin.pre.bp_high" in detail and course_url(planned.course) in detail
    record = nurse.get(f"/clinic/cases/{planned.case.public_id}/").content.decode()
    assert course_url(planned.course) in record


def test_unknown_courses_and_sessions_are_404(planned: Planned, nurse: Client) -> None:
    import uuid

    assert nurse.get(f"/clinic/courses/{uuid.uuid4()}/").status_code == 404
    url = f"{course_url(planned.course)}sessions/{uuid.uuid4()}/clear/"
    assert nurse.post(url, {"outcome": "proceed", "note": "n"}).status_code == 404


def test_a_physician_stops_the_course_from_its_page_and_a_nurse_cannot(
    planned: Planned, doctor: Client, nurse: Client
) -> None:
    session, _ = schedule(planned)
    url = course_url(planned.course)
    page = doctor.get(url).content.decode()
    assert "Stop the course" in page and f"Cancel session {session.number}" in page
    assert "Stop the course" not in nurse.get(url).content.decode()
    assert nurse.post(f"{url}decision/", {"decision": "stop", "note": "x"}).status_code == 403
    response = doctor.post(f"{url}decision/", {"decision": "stop", "note": "Adverse event."})
    assert response.status_code == 302
    planned.course.refresh_from_db()
    assert planned.course.status == rules.STOPPED
    assert Event.objects.filter(action="course.decided").count() == 1


def test_the_plan_suggests_no_schedule(physician: User, doctor: Client) -> None:
    """How often sessions run is the physician's choice, none preselected (oral and sublingual
    schedules vary, FACTS §D3): the form opens with nothing chosen and refuses none."""
    patient = make_patient()
    approve(patient.case, physician)
    url = f"/clinic/cases/{patient.case.public_id}/course/new/"
    page = doctor.get(url).content.decode()
    assert re.search(r'<option value=""[^>]*selected[^>]*>Choose…</option>', page)
    assert "(induction)" not in page
    response = doctor.post(url, plan_form(sessions_per_week=""))
    assert response.status_code == 422
    assert "Sessions per week: This field is required." in response.content.decode()
    assert not Course.objects.exists()
