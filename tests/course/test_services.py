"""The course services end to end over the database: plan, consent, sessions, holds, weekly
questionnaires, risk assessments, re-evaluation decisions — and the alerts they raise."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from crossline.audit.models import Event
from crossline.care.models import Alert
from crossline.course import services
from crossline.course.forms import PER_WEEK, PlanForm, ScheduleForm
from crossline.course.models import CheckIn, Course, Session, Weekly
from crossline.engine import course as rules
from crossline.engine.errors import InvalidInput
from tests.course.conftest import (
    HIGH_BP_PRE,
    PLAN,
    SAFE_POST,
    SAFE_PRE,
    Planned,
    approve,
    course_today,
    plan,
    schedule,
    sign,
    weekly_answers,
)
from tests.visits.conftest import make_patient

pytestmark = pytest.mark.django_db


def now():
    return timezone.now()


def stop(planned: Planned, note: str) -> None:
    """The physician stops the course, at any time."""
    services.decide(
        planned.course,
        decision="stop",
        sessions_added=0,
        note=note,
        user=planned.physician,
        request=None,
        now=now(),
    )


def test_a_plan_creates_the_baseline_and_weekly_questionnaires(planned: Planned) -> None:
    course = planned.course
    weeklies = list(course.weeklies.all())
    assert weeklies[0].number == 0 and weeklies[0].due_on == course.start_date
    assert weeklies[0].bladder is True  # the first of every 28 days
    assert len(weeklies) == 4  # 6 sessions at 2 a week: 3 weeks, plus the baseline
    assert course.rules_snapshot["bp_hold_above"] == [140, 90]
    assert course.status == rules.ACTIVE


# --- the plan's rules hold for every caller, not only the form ----------------------------------


def days_from_today(n: int) -> Any:
    """A start `n` days from the course's today, worked out when the test runs."""
    return lambda: course_today() + timedelta(days=n)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"sessions_per_week": 0}, "sessions_per_week: 1, 2 or 3 sessions a week"),
        ({"sessions_per_week": 4}, "sessions_per_week: "),
        ({"sessions_per_week": "2"}, "sessions_per_week: "),
        ({"sessions_per_week": True}, "sessions_per_week: "),
        ({"sessions_planned": 0}, "sessions: from 1 to the program cap of 6"),
        ({"sessions_planned": 7}, "sessions: "),
        ({"sessions_planned": "6"}, "sessions: "),
        ({"time_zone": "Mars/Olympus_Mons"}, "time_zone: choose one of the time zones"),
        ({"time_zone": "Europe/Madrid"}, "time_zone: "),  # real, but not one the form offers
        ({"language": "fr"}, "language: en or es"),
        ({"language": ""}, "language: "),
        ({"start_date": days_from_today(-1)}, "start_date: Choose a day from today to a year"),
        ({"start_date": days_from_today(400)}, "start_date: Choose a day from today"),
        ({"start_date": date(2999, 12, 31)}, "start_date: Choose a day from today"),
        ({"start_date": "2027-03-01"}, "start_date: a day (a date, without a time)"),
        ({"start_date": datetime(2027, 3, 1, tzinfo=UTC)}, "start_date: a day"),
    ],
)  # fmt: skip
def test_the_service_refuses_a_plan_the_form_would_refuse(
    physician: User, overrides: dict[str, Any], message: str
) -> None:
    """A caller other than the form (the shell, a test, a future API) meets the same rules,
    named by field — among them a course of 0 sessions a week, which would divide by zero —
    and nothing is stored."""
    patient = make_patient()
    approve(patient.case, physician)
    values = {name: v() if callable(v) else v for name, v in overrides.items()}
    with pytest.raises(services.CourseError) as refused:
        plan(patient.case, physician, patient.token, **values)
    assert str(refused.value).startswith(message)
    assert not Course.objects.exists() and not Weekly.objects.exists()
    assert not Event.objects.filter(action="course.planned").exists()


def test_the_start_rule_is_the_forms_in_the_courses_time_zone(physician: User) -> None:
    """One rule (services.within_a_year), in the course's zone: at 02:00 UTC on 1 March 2027 it
    is still 28 February in Chicago, already 1 March in Guam — the form's message either way."""
    at = datetime(2027, 3, 1, 2, 0, tzinfo=UTC)
    patient = make_patient()
    approve(patient.case, physician)
    with pytest.raises(services.CourseError) as refused:
        plan(patient.case, physician, None, start_date=date(2027, 2, 28), time_zone="Pacific/Guam",
             now=at)  # fmt: skip
    field, _, message = str(refused.value).partition(": ")
    form = PlanForm({"start_date": "2027-02-28", "time_zone": "Pacific/Guam"}, cap=6, now=at)
    form.is_valid()
    assert field == "start_date" and form.errors["start_date"] == [message]
    course = plan(patient.case, physician, None, start_date=date(2027, 2, 28),
                  time_zone="America/Chicago", now=at)  # fmt: skip
    assert course.induction_end == date(2027, 3, 21)  # 6 sessions at 2 a week: 3 weeks


# --- the plan's contents: the plan form's fields and bounds, for every caller -------------------

DROP = object()  # a field left out of the plan


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"units_per_session": 0}, "plan.units_per_session: a whole number from 1 to 99"),
        ({"units_per_session": 100}, "plan.units_per_session: "),
        ({"units_per_session": "2"}, "plan.units_per_session: "),
        ({"units_per_session": True}, "plan.units_per_session: "),
        ({"units_per_session": 1.5}, "plan.units_per_session: "),
        ({"units_per_session": None}, "plan.units_per_session: "),
        ({"units_per_session": DROP}, "plan.units_per_session: "),
        ({"medication": "   "}, "plan.medication: required"),
        ({"medication": DROP}, "plan.medication: text"),
        ({"prescription_text": " \n "}, "plan.prescription_text: required"),
        ({"prescription_text": "x" * 4001}, "plan.prescription_text: at most 4000 characters"),
        ({"monitor_name": "M" * 201}, "plan.monitor_name: at most 200 characters"),
        ({"form": "f" * 201}, "plan.form: at most 200"),
        ({"strength": None}, "plan.strength: text, blank when none"),
        ({"notes": DROP}, "plan.notes: text, blank when none"),
        ({"notes": "n" * 4001}, "plan.notes: at most 4000"),
        ({"medication": "keta\x00mine"}, "plan.medication: no null characters"),
        ({"dose_mg": 50}, "plan.dose_mg: not a field of the plan form"),
    ],
)
def test_the_service_refuses_plan_contents_the_form_would_not_build(
    physician: User, changes: dict[str, Any], message: str
) -> None:
    """An invalid units per session would be read as "not written" (`dispensing.per_session`),
    turning the "more than prescribed" check off unsaid; any other field would be stored where
    no page shows it. Only the shape is checked, never what the physician wrote. Nothing is
    stored and nothing audited."""
    patient = make_patient()
    approve(patient.case, physician)
    contents = {k: v for k, v in {**PLAN, **changes}.items() if v is not DROP}
    with pytest.raises(services.CourseError) as refused:
        plan(patient.case, physician, patient.token, plan=contents)
    assert str(refused.value).startswith(message)
    assert not Course.objects.exists() and not Weekly.objects.exists()
    assert not Event.objects.filter(action="course.planned").exists()


def test_the_service_refuses_a_plan_that_is_not_the_forms_fields(physician: User) -> None:
    patient = make_patient()
    approve(patient.case, physician)
    with pytest.raises(services.CourseError, match=r"^plan: the plan form's fields$"):
        plan(patient.case, physician, None, plan=[("units_per_session", 1)])
    assert not Course.objects.exists()


def plan_form(**fields: Any) -> PlanForm:
    """The plan form filled in as a physician would, with `fields` changed."""
    data = {
        "start_date": course_today().isoformat(), "sessions_planned": 6,
        "sessions_per_week": 2, "time_zone": "America/New_York",
        "prescription_text": PLAN["prescription_text"], "medication": PLAN["medication"],
        "route": PLAN["form"], "strength": PLAN["strength"],
        "units_per_session": PLAN["units_per_session"], "monitor_name": PLAN["monitor_name"],
        "notes": "",
    }  # fmt: skip
    return PlanForm({**data, **fields}, cap=6)


@pytest.mark.parametrize(
    ("field", "key", "value"),
    [
        ("units_per_session", "units_per_session", 0),
        ("units_per_session", "units_per_session", 100),
        ("medication", "medication", "   "),
        ("prescription_text", "prescription_text", " \n "),
        ("prescription_text", "prescription_text", "x" * 4001),
        ("route", "form", "f" * 201),
        ("strength", "strength", "s" * 201),
        ("monitor_name", "monitor_name", "M" * 201),
        ("notes", "notes", "n" * 4001),
    ],
)
def test_the_form_and_the_service_refuse_the_same_plan_contents(
    physician: User, field: str, key: str, value: Any
) -> None:
    assert field in plan_form(**{field: value}).errors
    patient = make_patient()
    approve(patient.case, physician)
    with pytest.raises(services.CourseError, match=rf"^plan\.{key}: "):
        plan(patient.case, physician, None, plan={**PLAN, key: value})


def test_the_forms_plan_at_its_bounds_is_the_services(physician: User) -> None:
    """What the form takes at the edge of each bound, the service stores as written."""
    form = plan_form(
        units_per_session=99, medication="m" * 200, prescription_text=" As written.\n" * 300,
        route="", strength="", monitor_name="M" * 200, notes="n" * 4000,
    )  # fmt: skip
    assert form.is_valid(), form.errors
    assert set(form.plan()) == services.PLAN_FIELDS
    patient = make_patient()
    approve(patient.case, physician)
    course = plan(patient.case, physician, None, plan=form.plan())
    course.refresh_from_db()
    assert course.plan == form.plan() and course.plan["units_per_session"] == 99


def test_the_form_offers_the_schedules_the_service_takes() -> None:
    assert [n for n, _ in PER_WEEK] == list(services.SESSIONS_PER_WEEK)


# --- the schedule form's rules hold for every caller, not only the form -------------------------

AT = datetime(2027, 3, 1, 2, 0, tzinfo=UTC)  # still 28 February in New York, the course's zone


@pytest.mark.parametrize(
    ("day", "at", "fold", "field", "message"),
    [
        ("2027-02-27", "10:00", 0, "day", "Choose a date and time in the future."),
        ("2028-02-29", "10:00", 0, "day", "a year from now (2027-02-28 to 2028-02-28)."),
        ("2999-12-31", "10:00", 0, "day", "Choose a day from today to a year from now"),
        ("2027-03-14", "02:30", 0, "time", "This time does not exist in that zone (the clocks"),
        ("2027-03-14", "02:30", 1, "time", "This time does not exist in that zone"),
        ("2027-11-07", "01:30", 0, "time", "This time happens twice in that zone on that day"),
        ("2027-11-07", "01:30", 1, "time", "This time happens twice in that zone on that day"),
    ],
)  # fmt: skip
def test_the_service_refuses_a_session_time_the_form_would_with_its_message(
    planned: Planned, day: str, at: str, fold: int, field: str, message: str
) -> None:
    """A caller other than the form (the shell, a test, a future API) cannot schedule a session
    in the past, beyond a year, or at a time the course's clocks skip or show twice (written as
    a datetime on them, either `fold`): the form's message, named `when`; nothing is stored."""
    zone = ZoneInfo(planned.course.time_zone)
    written = datetime.combine(date.fromisoformat(day), time.fromisoformat(at), zone)
    with pytest.raises(services.CourseError) as refused:
        services.schedule_session(
            planned.course, written.replace(fold=fold), user=planned.physician, request=None,
            now=AT,
        )  # fmt: skip
    name, _, said = str(refused.value).partition(": ")
    form = ScheduleForm({"day": day, "time": at}, zone=planned.course.time_zone, now=AT)
    assert not form.is_valid()
    assert name == "when" and form.errors[field] == [said] and message in said
    assert not Session.objects.exists()
    assert not Event.objects.filter(action="session.scheduled").exists()


@pytest.mark.parametrize(
    "when",
    [
        datetime(2027, 3, 2, 10, 0),  # no zone: no moment at all
        date(2027, 3, 2),
        "2027-03-02T10:00:00-05:00",
        datetime(2027, 3, 14, 2, 30, tzinfo=ZoneInfo("America/Chicago")),  # skipped there
    ],
)
def test_the_service_refuses_a_time_that_names_no_single_moment(
    planned: Planned, when: Any
) -> None:
    """Whatever zone the time was written in: Python would read 02:30 on the night Chicago's
    clocks skip it as 03:30, a session an hour from the one meant."""
    with pytest.raises(services.CourseError, match=r"^when: "):
        services.schedule_session(
            planned.course, when, user=planned.physician, request=None, now=AT
        )
    assert not Session.objects.exists()
    assert not Event.objects.filter(action="session.scheduled").exists()


def test_a_session_time_is_stored_as_the_moment_it_names(planned: Planned) -> None:
    """Written on the course's clocks the day before they go forward, its link still lasts the
    policy's hours in real time (not on the clocks, which lose one that night)."""
    written = datetime(2027, 3, 13, 10, 0, tzinfo=ZoneInfo("America/New_York"))
    session, _ = services.schedule_session(
        planned.course, written, user=planned.physician, request=None, now=AT
    )
    session.refresh_from_db()
    assert session.scheduled_for == datetime(2027, 3, 13, 15, 0, tzinfo=UTC)
    hours = services.policy().checkin_link_hours
    assert session.link_expires_at - session.scheduled_for == timedelta(hours=hours)


def test_no_session_starts_without_the_signed_consent(planned: Planned) -> None:
    session, _ = schedule(planned)
    with pytest.raises(services.CourseError, match="consent"):
        services.submit_session_checkin(session, "pre", SAFE_PRE, "en", now())
    assert not CheckIn.objects.exists()


def test_a_high_reading_holds_and_only_a_clinician_clears(planned: Planned) -> None:
    sign(planned)
    session, _ = schedule(planned)
    stored = services.submit_session_checkin(session, "pre", HIGH_BP_PRE, "en", now())
    assert stored.action == "hold"
    session.refresh_from_db()
    assert session.status == rules.HELD
    alert = Alert.objects.get(case=planned.case)
    assert alert.source == "pre" and "checkin.pre.bp_high" in alert.reasons
    with pytest.raises(services.CourseError, match="held"):
        services.submit_session_checkin(session, "post", SAFE_POST, "en", now())
    with pytest.raises(services.CourseError, match="held"):
        services.mark_done(session, user=planned.physician, request=None, now=now())
    services.clear_hold(
        session,
        proceed=True,
        note="Re-checked: 128/80",
        user=planned.physician,
        request=None,
        now=now(),
    )
    services.submit_session_checkin(session, "post", SAFE_POST, "en", now(), doses_taken=1)
    session.refresh_from_db()
    assert session.status == rules.DONE and session.doses_taken == 1


def test_next_session_waits_for_the_after_check_or_an_override(planned: Planned) -> None:
    sign(planned)
    session, _ = schedule(planned)
    services.submit_session_checkin(session, "pre", SAFE_PRE, "en", now())
    with pytest.raises(services.CourseError, match="already scheduled"):
        schedule(planned)
    services.mark_done(session, user=planned.physician, request=None, now=now())
    with pytest.raises(services.CourseError, match="after-check"):
        schedule(planned)
    second, _ = schedule(planned, override_reason="After-check taken by phone")
    assert second.number == 2 and second.override_reason == {"reason": "After-check taken by phone"}


def test_the_course_pauses_at_the_reevaluation_point(planned: Planned) -> None:
    sign(planned)
    course = planned.course
    course.sessions_planned = course.reevaluation_after = 1
    course.save()
    session, _ = schedule(planned)
    services.submit_session_checkin(session, "pre", SAFE_PRE, "en", now())
    services.submit_session_checkin(session, "post", SAFE_POST, "en", now(), doses_taken=1)
    course.refresh_from_db()
    assert course.status == rules.PAUSED and course.status_reason == "reevaluation"
    with pytest.raises(services.CourseError, match="paused"):
        schedule(planned)
    services.decide(
        course,
        decision="continue",
        sessions_added=4,
        note="Partial response; continue.",
        user=planned.physician,
        request=None,
        now=now(),
    )
    course.refresh_from_db()
    assert course.status == rules.ACTIVE and course.block == 2 and course.sessions_planned == 4
    second, _ = schedule(planned)
    assert second.block == 2


def test_a_new_block_starts_on_the_course_s_own_date_in_the_evening(planned: Planned) -> None:
    """Continued at 22:00 in New York (the course's zone) — 02:00 or 03:00 UTC the next day —
    the new block, its end and its first weekly questionnaire start on New York's date, not
    the UTC one. Decided two months on, past every weekly of the first block, so the first new
    questionnaire is due on the block's first day."""
    sign(planned)
    course = planned.course
    course.sessions_planned = course.reevaluation_after = 1
    course.save()
    session, _ = schedule(planned)
    services.submit_session_checkin(session, "pre", SAFE_PRE, "en", now())
    services.submit_session_checkin(session, "post", SAFE_POST, "en", now(), doses_taken=1)
    last = course.weeklies.order_by("-number").first()
    assert last is not None
    evening_day = course_today() + timedelta(days=60)
    local = datetime.combine(evening_day, time(22), tzinfo=ZoneInfo(course.time_zone))
    evening = local.astimezone(UTC)  # as timezone.now() gives it
    assert evening.date() == evening_day + timedelta(days=1)
    services.decide(
        course,
        decision="continue",
        sessions_added=2,
        note="Partial response; continue.",
        user=planned.physician,
        request=None,
        now=evening,
    )
    course.refresh_from_db()
    assert course.induction_end == evening_day + timedelta(weeks=1)  # 2 sessions, 2 a week
    first_new = course.weeklies.get(number=last.number + 1)
    assert first_new.due_on == evening_day


def test_a_positive_weekly_answer_suspends_the_course(planned: Planned) -> None:
    weekly = planned.course.weeklies.get(number=0)
    answers = weekly_answers(
        [2, 2, 2, 2, 2, 2, 2, 2, 1],
        [1] * 7,
        **{"asq.1": "yes", "asq.2": "no", "asq.3": "no", "asq.4": "no", "asq.5": "no"},
        **{"course.bladder": "no"},
    )
    stored = services.submit_weekly(weekly, answers, "en", now())
    assert stored.safety_level == "non_acute" and stored.decision["scores"]["phq9"] == 17
    course = planned.course
    course.refresh_from_db()
    assert course.status == rules.SUSPENDED
    assert Alert.objects.get(case=planned.case).level == "non_acute"
    with pytest.raises(services.CourseError, match="suspended"):
        schedule(planned)
    services.document_risk(
        course,
        risk="low",
        note="Passive thoughts; safety plan reviewed.",
        user=planned.physician,
        request=None,
        now=now(),
    )
    course.refresh_from_db()
    assert course.status == rules.ACTIVE
    # The documented assessment answers the alert: it stops paging the roster.
    alert = Alert.objects.get(case=planned.case)
    assert not alert.is_open and alert.acknowledged_by == planned.physician
    assert alert.next_escalation_at is None


def test_a_missing_weekly_answer_stores_nothing(planned: Planned) -> None:
    weekly = planned.course.weeklies.get(number=0)
    answers = weekly_answers([1] * 8 + [0], [1] * 6, **{"course.bladder": "no"})
    with pytest.raises(InvalidInput) as caught:
        services.submit_weekly(weekly, answers, "en", now())
    assert [e.field for e in caught.value.errors] == ["gad7.7"]
    assert not CheckIn.objects.exists()
    assert Session.objects.count() == 0


def test_the_program_courses_page_counts_states_and_rates(planned: Planned, client) -> None:
    from crossline.accounts.roles import Role
    from crossline.audit.models import Event
    from tests.staff import signed_in, staff_user

    for week, phq in ((0, [2] * 8 + [0]), (1, [1] * 4 + [0] * 5)):
        weekly = planned.course.weeklies.get(number=week)
        answers = weekly_answers(phq, [1] * 7, **({"course.bladder": "no"} if week == 0 else {}))
        services.submit_weekly(weekly, answers, "en", now())
    operator = staff_user("ops.lead", Role.OPERATOR)
    html = signed_in(operator, client).get("/clinic/program/courses/").content.decode()
    assert '<th scope="row">Active</th><td>1</td>' in html
    assert "1 of 1 (100.0%)" in html  # PHQ-9 16 → 4: response and remission
    assert "Zephyrine" not in html
    assert Event.objects.filter(action="program.outcomes_viewed").count() == 1


def test_a_weekly_questionnaire_updates_both_charts(planned: Planned, client) -> None:
    from django.test import Client

    from tests.staff import signed_in

    for week, phq in ((0, [2] * 8 + [0]), (1, [1] * 4 + [0] * 5)):
        weekly = planned.course.weeklies.get(number=week)
        answers = weekly_answers(phq, [1] * 7, **({"course.bladder": "no"} if week == 0 else {}))
        services.submit_weekly(weekly, answers, "en", now())
    staff = signed_in(planned.physician, client)
    html = staff.get(f"/clinic/courses/{planned.course.public_id}/").content.decode()
    assert 'id="outcome-phq9"' in html and "<svg" in html
    assert "PHQ-9 went from 16 at baseline to 4" in html
    patient = Client(HTTP_ACCEPT_LANGUAGE="es")
    page = patient.get(f"/r/{planned.result_token}/course/").content.decode()
    assert "Cómo le va" in page and 'id="outcome-phq9"' in page


@pytest.mark.parametrize("doses", [-1, 21, "1"])
def test_the_service_refuses_a_dose_count_the_form_would(planned: Planned, doses: Any) -> None:
    """The after-check form takes 0 to 20: any other caller too. A negative count reached the
    database's constraint (a server error); nothing is stored and the session is still ready."""
    sign(planned)
    session, _ = schedule(planned)
    services.submit_session_checkin(session, "pre", SAFE_PRE, "en", now())
    with pytest.raises(services.CourseError, match=r"^doses_taken: from 0 to 20$"):
        services.submit_session_checkin(session, "post", SAFE_POST, "en", now(), doses_taken=doses)
    session.refresh_from_db()
    assert session.status == rules.READY and session.doses_taken is None
    assert not CheckIn.objects.filter(kind="post").exists()


def test_an_after_check_reporting_more_doses_than_prescribed_alerts(planned: Planned) -> None:
    sign(planned)
    session, _ = schedule(planned)
    services.submit_session_checkin(session, "pre", SAFE_PRE, "en", now())
    services.submit_session_checkin(session, "post", SAFE_POST, "en", now(), doses_taken=3)
    alert = Alert.objects.get(case=planned.case, source="dispensing")
    assert alert.reasons == ["course.more_than_prescribed"] and alert.level == "routine"


def test_a_physician_may_stop_the_course_at_any_time(planned: Planned) -> None:
    sign(planned)
    session, _ = schedule(planned)
    course = planned.course
    with pytest.raises(services.CourseError, match="paused for the physician's decision"):
        services.decide(
            course,
            decision="continue",
            sessions_added=2,
            note="More.",
            user=planned.physician,
            request=None,
            now=now(),
        )
    stop(planned, "Adverse event: stopped.")
    course.refresh_from_db()
    session.refresh_from_db()
    assert course.status == rules.STOPPED and session.status == rules.CANCELLED
    with pytest.raises(services.CourseError, match="stopped already"):
        stop(planned, "Again.")


def test_a_clinician_may_cancel_a_scheduled_session(planned: Planned) -> None:
    session, _ = schedule(planned)
    services.clear_hold(
        session,
        proceed=False,
        note="Patient unwell today.",
        user=planned.physician,
        request=None,
        now=now(),
    )
    session.refresh_from_db()
    assert session.status == rules.CANCELLED
    second, _ = schedule(planned)  # a cancelled session needs no after-check
    assert second.number == 2


def test_a_course_alert_email_names_its_kind_not_suicide_risk(
    planned: Planned, smtp, django_capture_on_commit_callbacks
) -> None:
    from crossline.program.models import ProgramSettings

    program = ProgramSettings.current()
    program.notification_emails = "team@program.example"
    program.save()
    sign(planned)
    session, _ = schedule(planned)
    with django_capture_on_commit_callbacks(execute=True):
        services.submit_session_checkin(session, "pre", HIGH_BP_PRE, "en", now())
    from tests.visits.conftest import run_worker

    run_worker()
    (message,) = [m for m in smtp.wait_for(1) if "team@program.example" in m["To"]]
    body = message.get_content()
    assert "course alert" in message["Subject"] and "suicide" not in body
    assert "From: pre-session check-in" in body
    assert "bp_high" not in body and "Zephyrine" not in body


def test_a_hold_cannot_be_cleared_to_go_ahead_while_the_course_is_suspended(
    planned: Planned, client
) -> None:
    sign(planned)
    session, _ = schedule(planned)
    positive = {
        **SAFE_PRE,
        "phq9.9": 1,
        "asq.1": "yes",
        "asq.2": "no",
        "asq.3": "no",
        "asq.4": "no",
        "asq.5": "no",
    }
    services.submit_session_checkin(session, "pre", positive, "en", now())
    session.refresh_from_db()
    planned.course.refresh_from_db()
    assert session.status == rules.HELD and planned.course.status == rules.SUSPENDED
    with pytest.raises(services.CourseError, match="suspended"):
        services.clear_hold(
            session, proceed=True, note="ok", user=planned.physician, request=None, now=now()
        )
    services.document_risk(
        planned.course,
        risk="low",
        note="Assessed by phone.",
        user=planned.physician,
        request=None,
        now=now(),
    )
    services.clear_hold(
        session,
        proceed=True,
        note="Risk assessed; may go ahead.",
        user=planned.physician,
        request=None,
        now=now(),
    )
    session.refresh_from_db()
    assert session.status == rules.READY


def test_the_after_check_stays_open_but_says_wait_when_the_course_is_suspended(
    planned: Planned,
) -> None:
    from django.test import Client

    sign(planned)
    session, token = schedule(planned)
    services.submit_session_checkin(session, "pre", SAFE_PRE, "en", now())
    weekly = planned.course.weeklies.get(number=0)
    answers = weekly_answers(
        [1] * 8 + [1],
        [1] * 7,
        **{"asq.1": "yes", "asq.2": "no", "asq.3": "no", "asq.4": "no", "asq.5": "no"},
        **{"course.bladder": "no"},
    )
    services.submit_weekly(weekly, answers, "en", now())
    html = Client().get(f"/s/{token}/").content.decode()
    assert "If you have not taken your dose yet, do not take it today." in html
    assert 'name="post.sedation"' in html
    assert "You can go ahead" not in html


@pytest.mark.parametrize("proceed", [True, False])
def test_clearing_or_cancelling_a_hold_acknowledges_the_alert_it_raised(
    planned: Planned, proceed: bool
) -> None:
    """The clinician's answer to the hold answers its alert: it stops paging the roster and
    leaves the queue's open list, acknowledged by the one who cleared it (audited)."""
    from datetime import timedelta

    from crossline.audit.models import Event
    from crossline.care.alerts import escalate_due
    from crossline.care.models import AlertEvent

    sign(planned)
    session, _ = schedule(planned)
    services.submit_session_checkin(session, "pre", HIGH_BP_PRE, "en", now())
    alert = Alert.objects.get(case=planned.case)
    assert alert.is_open and alert.next_escalation_at is not None
    services.clear_hold(
        session,
        proceed=proceed,
        note="Rechecked: 128/80.",
        user=planned.physician,
        request=None,
        now=now(),
    )
    alert.refresh_from_db()
    assert not alert.is_open and alert.acknowledged_by == planned.physician
    assert alert.next_escalation_at is None
    assert alert.events.filter(kind=AlertEvent.Kind.ACKNOWLEDGED).count() == 1
    audit = Event.objects.get(action="alert.acknowledged")
    assert audit.detail["by"] == "session.cleared"
    assert escalate_due(now() + timedelta(days=1)) == 0


def test_cancelling_a_safety_hold_leaves_its_safety_alert_open(planned: Planned) -> None:
    """A positive suicide-risk answer's alert asks for a documented risk assessment: cancelling
    the session it held does not answer it."""
    sign(planned)
    session, _ = schedule(planned)
    asq = {"asq.1": "yes", "asq.2": "no", "asq.3": "no", "asq.4": "no", "asq.5": "no"}
    services.submit_session_checkin(session, "pre", {**SAFE_PRE, "phq9.9": 1, **asq}, "en", now())
    services.clear_hold(
        session,
        proceed=False,
        note="Not today.",
        user=planned.physician,
        request=None,
        now=now(),
    )
    (alert,) = Alert.objects.filter(case=planned.case)
    assert alert.is_safety and alert.is_open


def test_weekly_scores_are_dated_by_their_questionnaire_not_the_utc_day_they_came(
    planned: Planned,
) -> None:
    # An evening answer in Florida is the next day in UTC; a late one days after its due day.
    for week, late in ((0, timedelta(hours=23, minutes=30)), (1, timedelta(days=3))):
        weekly = planned.course.weeklies.get(number=week)
        answers = weekly_answers(
            [2] * 8 + [0], [1] * 7, **({"course.bladder": "no"} if week == 0 else {})
        )
        sent = datetime.combine(weekly.due_on, time(12), tzinfo=UTC) + late
        services.submit_weekly(weekly, answers, "en", sent)
    dates = [m.date for m in services.measures(planned.course)]
    assert sorted(dates) == sorted(
        w.due_on for w in planned.course.weeklies.filter(number__in=(0, 1))
    )


def test_stopping_the_course_cancels_each_open_session_audited_and_answers_its_hold_alert(
    planned: Planned,
) -> None:
    from crossline.audit.models import Event

    sign(planned)
    session, _ = schedule(planned)
    services.submit_session_checkin(session, "pre", HIGH_BP_PRE, "en", now())
    alert = Alert.objects.get(case=planned.case)
    stop(planned, "Blood pressure keeps rising: stopped.")
    session.refresh_from_db()
    alert.refresh_from_db()
    assert session.status == rules.CANCELLED and session.cleared_by == planned.physician
    assert session.clear_note == {"note": services.STOPPED_NOTE}
    cleared = Event.objects.get(action="session.cleared")
    assert cleared.object_id == str(session.public_id)
    assert cleared.detail == {"proceed": False, "course_stopped": True}
    assert not alert.is_open and alert.acknowledged_by == planned.physician
    decided = Event.objects.get(action="course.decided")
    assert decided.detail["sessions_cancelled"] == 1


def test_a_weekly_link_runs_to_the_end_of_its_last_day_on_the_course_s_clock(
    planned: Planned,
) -> None:
    """A week after the questionnaire's day, at 23:59 where the course runs — not 23:59 UTC,
    which is 18:59 or 19:59 in New York, hours before the patient's day is over."""
    zone = ZoneInfo(planned.course.time_zone)
    every = services.policy().weekly_every_days
    for weekly in planned.course.weeklies.all():
        local = weekly.link_expires_at.astimezone(zone)
        assert local.date() == weekly.due_on + timedelta(days=every)
        assert local.time() == time(23, 59)
