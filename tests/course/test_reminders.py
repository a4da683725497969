"""Course reminders (before each session and weekly questionnaire, each once, by e-mail through a
real SMTP server and by the configured SMS sender) and missed check-ins flagged to the
clinicians. `sweep(now)` and `flag_missed(now)` take the time as an argument: no test waits."""

from __future__ import annotations

import dataclasses
import logging
from datetime import datetime, timedelta
from typing import Any, ClassVar

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from crossline.audit.models import Event
from crossline.care.models import Alert
from crossline.course import reminders, services
from crossline.course.models import Course, Session, Weekly
from crossline.engine import course as rules
from tests.course.conftest import (
    HIGH_BP_PRE,
    SAFE_PRE,
    Planned,
    approve,
    course_today,
    plan,
    schedule,
    sign,
)
from tests.mail import Mailbox, free_port
from tests.visits.conftest import PATIENT_EMAIL, PATIENT_NAME, make_patient

pytestmark = pytest.mark.django_db

PHONE = "2015550147"  # tests/visits/conftest.make_patient
PHI = (PATIENT_NAME, "Zephyrine", PATIENT_EMAIL.split("@")[0], "ketamine", "troche", PHONE)


class Recorder:
    """A provider stand-in named by dotted path, as a real one would be."""

    sent: ClassVar[list[tuple[str, str]]] = []

    def send(self, to: str, body: str) -> None:
        Recorder.sent.append((to, body))


def later_course(physician: User, lang: str = "en", days: int = 30) -> Planned:
    """A course starting in `days` (its weekly questionnaires out of the way)."""
    patient = make_patient(lang)
    approve(patient.case, physician)
    course = plan(
        patient.case, physician, patient.token, start_date=course_today() + timedelta(days=days),
        language=lang,
    )  # fmt: skip
    return Planned(course, patient.case, patient.token, physician)


def at(hours: float) -> datetime:
    return (timezone.now() + timedelta(days=2)).replace(minute=0, second=0, microsecond=0) + (
        timedelta(hours=hours)
    )


def body_of(message: Any) -> str:
    return str(message.get_body(preferencelist=("plain",)).get_content())


def assert_no_phi(message: Any) -> None:
    text = body_of(message) + str(message["Subject"])
    for word in PHI:
        assert word.lower() not in text.lower(), word


@pytest.fixture
def sms_backend(settings: Any) -> Any:
    def use(name: str) -> None:
        settings.CROSSLINE = dataclasses.replace(settings.CROSSLINE, sms_backend=name)

    return use


# --- session reminders ---------------------------------------------------------------------------


def test_a_session_reminder_goes_out_once_without_phi(smtp: Mailbox, physician: User) -> None:
    p = later_course(physician)
    session, token = schedule(p, at(0))
    assert reminders.sweep(at(-25)) == 0
    assert reminders.sweep(at(-23)) == 1
    assert reminders.sweep(at(-23)) == 0  # a second sweep, same moment
    assert reminders.sweep(at(-1)) == 0
    [message] = smtp.to(PATIENT_EMAIL)
    body = body_of(message)
    assert f"/s/{token}/" in body
    assert "check-in for your program session on" in body
    assert "Eastern time (America/New_York)" in body  # the clock it means, as the visit e-mails
    assert "988" in body and "911" in body
    assert_no_phi(message)
    session.refresh_from_db()
    assert session.reminded_at == at(-23)
    [event] = Event.objects.filter(action="reminder.sent")
    assert event.object_type == "session" and event.object_id == str(session.public_id)
    assert event.detail == {"email": True, "sms": False}


def test_a_sweep_holding_a_stale_row_loses_the_claim(smtp: Mailbox, physician: User) -> None:
    """Two workers: both read the session before either claimed it; one sends."""
    p = later_course(physician)
    schedule(p, at(0))
    stale = Session.objects.select_related("course__case").get()
    assert reminders.sweep(at(-23)) == 1
    sender = reminders.sms.sender()
    assert reminders._remind(Session.objects.all(), stale, stale.course, at(-23), sender) == 0
    assert len(smtp.messages) == 1


def test_a_session_cancelled_after_the_sweep_read_it_gets_no_reminder(
    smtp: Mailbox, physician: User
) -> None:
    """The sweep reads the due sessions, then sends one by one (each may wait on SMTP): one
    cancelled meanwhile is not reminded, nor one whose course was suspended meanwhile."""
    p = later_course(physician)
    session, _ = schedule(p, at(0))
    policy = services.policy()
    (read,) = reminders.due_sessions(at(-23), policy).select_related("course__case__assessment")
    services.clear_hold(
        session, proceed=False, note="Patient asked to cancel.", user=physician, request=None,
        now=timezone.now(),
    )  # fmt: skip
    sender = reminders.sms.sender()
    due = reminders.due_sessions(at(-23), policy)
    assert reminders._remind(due, read, read.course, at(-23), sender) == 0
    second, _ = schedule(p, at(1))
    (read,) = reminders.due_sessions(at(-22), policy).select_related("course__case__assessment")
    Course.objects.filter(pk=p.course.pk).update(status=rules.SUSPENDED)
    due = reminders.due_sessions(at(-22), policy)
    assert reminders._remind(due, read, read.course, at(-22), sender) == 0
    assert smtp.messages == [] and not Event.objects.filter(action="reminder.sent").exists()
    second.refresh_from_db()
    assert second.reminded_at is None


def test_no_reminder_once_the_pre_checkin_is_in(smtp: Mailbox, physician: User) -> None:
    p = later_course(physician)
    sign(p)
    session, _ = schedule(p, at(0))
    services.submit_session_checkin(session, "pre", SAFE_PRE, "en", at(0))
    assert reminders.sweep(at(-2)) == 0
    assert smtp.messages == []


def test_a_failed_send_is_tried_again(settings: Any, physician: User, smtp: Mailbox) -> None:
    p = later_course(physician)
    schedule(p, at(0))
    port = settings.EMAIL_PORT
    settings.EMAIL_PORT = free_port()  # nothing listens there
    assert reminders.sweep(at(-23)) == 0
    assert Session.objects.get().reminded_at is None
    settings.EMAIL_PORT = port
    assert reminders.sweep(at(-22)) == 1
    assert len(smtp.messages) == 1


def test_spanish_course_spanish_reminder(smtp: Mailbox, physician: User) -> None:
    p = later_course(physician, lang="es")
    _, token = schedule(p, at(0))
    assert reminders.sweep(at(-20)) == 1
    [message] = smtp.messages
    body = body_of(message)
    assert "Tiene un registro para la sesión de su programa" in body
    assert "hora del Este (America/New_York)" in body
    assert "988" in body and "911" in body and f"/s/{token}/" in body
    assert "registro" in str(message["Subject"])
    assert "check-in for your program" not in body
    assert_no_phi(message)


# --- weekly reminders ----------------------------------------------------------------------------


def test_a_weekly_reminder_24_hours_before_its_day(smtp: Mailbox, physician: User) -> None:
    p = later_course(physician, days=3)
    weekly = Weekly.objects.get(course=p.course, number=0)
    start = reminders.day_start(p.course, weekly.due_on)  # midnight in New York, as UTC
    assert reminders.sweep(start - timedelta(hours=25)) == 0
    assert reminders.sweep(start - timedelta(hours=23)) == 1
    assert reminders.sweep(start - timedelta(hours=1)) == 0
    [message] = smtp.messages
    assert f"/w/{weekly.token}/" in body_of(message)
    assert "weekly check-in for your program" in body_of(message)
    assert_no_phi(message)


def test_a_weekly_planned_later_is_reminded_on_its_day(smtp: Mailbox, planned: Planned) -> None:
    weekly = Weekly.objects.get(course=planned.course, number=0)  # the baseline, due today
    noon = reminders.day_start(planned.course, weekly.due_on) + timedelta(hours=12)
    assert reminders.sweep(noon) == 1
    assert reminders.sweep(noon) == 0
    assert [f"/w/{weekly.token}/" in body_of(m) for m in smtp.messages] == [True]


# --- SMS -----------------------------------------------------------------------------------------


def test_the_console_sender_logs_a_masked_number_only(
    smtp: Mailbox, physician: User, sms_backend: Any, caplog: Any
) -> None:
    sms_backend("console")
    p = later_course(physician)
    _, token = schedule(p, at(0))
    with caplog.at_level(logging.INFO, logger="crossline.course.sms"):
        assert reminders.sweep(at(-23)) == 1
    assert "sms queued to ***0147" in caplog.text
    for secret in (PHONE, token, PATIENT_NAME):
        assert secret not in caplog.text
    [event] = Event.objects.filter(action="reminder.sent")
    assert event.detail == {"email": True, "sms": True}


def test_a_provider_named_by_path_gets_the_number_and_a_text_without_phi(
    smtp: Mailbox, physician: User, sms_backend: Any
) -> None:
    sms_backend("tests.course.test_reminders.Recorder")
    Recorder.sent.clear()
    p = later_course(physician)
    _, token = schedule(p, at(0))
    reminders.sweep(at(-23))
    [(to, body)] = Recorder.sent
    assert to == PHONE
    assert f"/s/{token}/" in body and "988" in body and "911" in body
    for word in PHI:
        assert word.lower() not in body.lower()


def test_sms_disabled_by_default(smtp: Mailbox, physician: User) -> None:
    from crossline.course import sms

    assert not sms.enabled(sms.sender())
    assert sms.mask("(201) 555-0147") == "***0147"


# --- missed check-ins ----------------------------------------------------------------------------


def test_a_session_without_a_pre_checkin_is_missed_once(physician: User) -> None:
    planned = later_course(physician)
    session, _ = schedule(planned, at(0))
    assert reminders.flag_missed(at(23)) == 0
    assert reminders.flag_missed(at(25)) == 1
    assert reminders.flag_missed(at(26)) == 0
    session.refresh_from_db()
    assert session.status == rules.MISSED and session.missed_flagged_at == at(25)
    [alert] = Alert.objects.filter(case=planned.case)
    assert (alert.level, alert.source) == ("routine", "missed")
    assert alert.reasons == ["course.session_missed"]
    assert Event.objects.filter(action="session.missed", object_id=str(session.public_id)).exists()


def test_a_held_session_is_never_missed(physician: User) -> None:
    planned = later_course(physician)
    sign(planned)
    session, _ = schedule(planned, at(0))
    services.submit_session_checkin(session, "pre", HIGH_BP_PRE, "en", at(0))
    before = Alert.objects.count()
    assert reminders.flag_missed(at(72)) == 0
    session.refresh_from_db()
    assert session.status == rules.HELD and session.missed_flagged_at is None
    assert Alert.objects.count() == before


def test_a_missing_after_check_is_flagged_once(physician: User) -> None:
    planned = later_course(physician)
    sign(planned)
    session, _ = schedule(planned, at(0))
    services.submit_session_checkin(session, "pre", SAFE_PRE, "en", at(0))
    assert reminders.flag_missed(at(25)) == 1
    assert reminders.flag_missed(at(30)) == 0
    session.refresh_from_db()
    assert session.status == rules.READY and session.missed_flagged_at is not None
    [alert] = Alert.objects.filter(case=planned.case, source="missed")
    assert alert.reasons == ["course.after_check_missing"] and alert.level == "routine"


def test_a_weekly_still_due_a_day_after_its_day_is_missed(planned: Planned) -> None:
    weekly = Weekly.objects.get(course=planned.course, number=0)
    p = services.policy()
    missed_at = reminders.weekly_missed_at(weekly, p)
    assert missed_at == reminders.day_start(planned.course, weekly.due_on) + timedelta(hours=48)
    assert reminders.flag_missed(missed_at - timedelta(minutes=5)) == 0
    assert reminders.flag_missed(missed_at) == 1
    assert reminders.flag_missed(missed_at + timedelta(hours=1)) == 0
    weekly.refresh_from_db()
    assert weekly.status == Weekly.Status.MISSED
    [alert] = Alert.objects.filter(case=planned.case)
    assert alert.reasons == ["course.weekly_missed"] and alert.source == "missed"
    assert Weekly.objects.filter(course=planned.course, status="missed").count() == 1


def test_the_jobs_are_registered() -> None:
    from crossline.care import periodic  # noqa: F401 — registers the jobs
    from crossline.care.schedule import _JOBS

    assert {"course.reminders", "course.missed"} <= set(_JOBS)
    assert Course  # imported for the type of the fixtures


def test_the_sms_backend_is_configured_by_environment(tmp_path: Any) -> None:
    from crossline.config import from_environment

    env = {"CROSSLINE_DATA_DIR": str(tmp_path)}
    assert from_environment(env).sms_backend == "disabled"
    assert from_environment({**env, "CROSSLINE_SMS_BACKEND": "console"}).sms_backend == "console"


def test_no_session_reminder_while_the_course_is_suspended_none_once_stopped(
    smtp: Mailbox, physician: User
) -> None:
    p = later_course(physician, days=0)
    schedule(p, at(0))
    Course.objects.filter(pk=p.course.pk).update(status=rules.SUSPENDED)
    assert reminders.sweep(at(-23)) == 0  # its page says wait: no invitation to check in
    Course.objects.filter(pk=p.course.pk).update(status=rules.STOPPED)
    reminders.flag_missed(at(24 * 10))
    assert not Weekly.objects.filter(course=p.course, status=Weekly.Status.MISSED).exists()
