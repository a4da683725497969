"""A check-in's first step with PHQ-9 item 9 above 0 (FACTS §F2 ✎ 2–4): the ASQ step comes
next, and the person may leave there. The course is suspended at once and the first step's safety
answers kept; the ASQ step, when it comes, is stored as the check-in with one alert at its tier;
if it never comes, the worker raises one acute alert with the answers after the grace period.
Pre-session check-ins and weekly questionnaires alike, through the patient's pages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from crossline.accounts.roles import Role
from crossline.audit.models import Event
from crossline.care.models import Alert
from crossline.care.schedule import jobs
from crossline.course import services
from crossline.course.models import CheckIn, Course, FirstStep, Session, Weekly
from crossline.engine import course as rules
from crossline.knowledge import load
from crossline.program.models import ProgramSettings
from tests.course.conftest import SAFE_PRE, Planned, schedule, sign, weekly_answers
from tests.course.test_patient_pages import client, form, shows_crisis_help, text
from tests.course.test_staff_pages import seen_on
from tests.staff import signed_in, staff_user

pytestmark = pytest.mark.django_db

KINDS = ["pre", "weekly"]
NON_ACUTE = {"asq.1": "yes", "asq.2": "no", "asq.3": "no", "asq.4": "no", "asq.5": "no"}
ACUTE = {**NON_ACUTE, "asq.5": "yes"}
SAFETY_RULE = {"pre": "checkin.pre.safety_positive", "weekly": "weekly.safety_positive"}
SOURCE = {"pre": Alert.Source.PRE, "weekly": Alert.Source.WEEKLY}


@dataclass
class Sitting:
    """A check-in in progress on its link: the session (scheduled either way: the one a weekly's
    first step must keep from starting), the link, and the first step's answers."""

    kind: str
    session: Session
    url: str
    answers: dict[str, Any]

    def first_step(self, browser: Client, **changes: Any) -> Any:
        return browser.post(self.url, form({**self.answers, **changes}, step=self.kind))

    def asq_step(self, browser: Client, asq: dict[str, str], **changes: Any) -> Any:
        sent = {**self.answers, **asq, **changes}
        return browser.post(self.url, form(sent, step=self.kind, asq_shown="1"))


def sitting(p: Planned, kind: str, item9: int = 2) -> Sitting:
    sign(p)
    session, token = schedule(p)
    if kind == "pre":
        return Sitting(kind, session, f"/s/{token}/", {**SAFE_PRE, "phq9.9": item9})
    w = p.course.weeklies.get(number=0)
    extra = {"course.bladder": "no"} if w.bladder else {}
    answers = weekly_answers([0] * 8 + [item9], [0] * 7, **extra)
    return Sitting(kind, session, f"/w/{w.token}/", answers)


def status(p: Planned) -> str:
    return Course.objects.get(pk=p.course.pk).status


def sweep(now: datetime) -> Any:
    """The worker's job, as `crossline worker` runs it every minute."""
    job = next(j for j in jobs() if j.name == "course.first_steps")
    return job.run(now)


def waiting() -> FirstStep:
    return FirstStep.objects.get(resolved_at__isnull=True)


# --- the first step ------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_a_first_step_with_item_9_above_0_suspends_the_course_at_once(
    planned: Planned, kind: str
) -> None:
    s = sitting(planned, kind)
    step = s.first_step(client("en"))
    assert step.status_code == 200 and 'name="asq.1"' in text(step)  # the ASQ step comes next
    assert not CheckIn.objects.exists() and not Alert.objects.exists()
    assert status(planned) == rules.SUSPENDED
    first = waiting()
    assert first.answers == {"phq9.9": 2} and first.alert is None
    assert (first.session_id is not None) == (kind == "pre")
    event = Event.objects.get(action="checkin.first_step_at_risk")
    assert event.detail == {"kind": kind, "suspended": True}
    assert event.patient == str(planned.case.public_id)
    # No session may start: its link shows the suspended course's page, the service refuses it.
    elsewhere = client("en").get(f"/s/{s.session.token}/")
    assert 'id="wait"' in text(elsewhere) and 'name="vitals.systolic"' not in text(elsewhere)
    assert shows_crisis_help(elsewhere, "en")
    with pytest.raises(services.CourseError, match="suspended"):
        services.submit_session_checkin(s.session, "pre", SAFE_PRE, "en", timezone.now())


@pytest.mark.parametrize("kind", KINDS)
def test_item_9_of_0_is_stored_as_ever_and_suspends_nothing(planned: Planned, kind: str) -> None:
    s = sitting(planned, kind, item9=0)
    assert s.first_step(client("en")).status_code == 302  # stored: no ASQ step
    assert CheckIn.objects.get().safety_level == "none"
    assert not FirstStep.objects.exists() and not Alert.objects.exists()
    assert status(planned) == rules.ACTIVE


def test_a_weekly_page_opened_in_another_browser_shows_the_crisis_resources(
    planned: Planned,
) -> None:
    s = sitting(planned, "weekly")
    s.first_step(client("es"))
    elsewhere = client("es").get(s.url)  # the questionnaire, still to answer, under them
    assert shows_crisis_help(elsewhere, "es") and 'name="phq9.1"' in text(elsewhere)


# --- the ASQ step comes --------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(("asq", "tier"), [(NON_ACUTE, "non_acute"), (ACUTE, "acute")])
def test_the_asq_step_is_stored_as_the_check_in_with_one_alert_at_its_tier(
    planned: Planned, kind: str, asq: dict[str, str], tier: str
) -> None:
    s = sitting(planned, kind)
    browser = client("en")
    s.first_step(browser)
    assert s.asq_step(browser, asq).status_code == 302
    checkin = CheckIn.objects.get()
    assert (checkin.kind, checkin.safety_level) == (kind, tier)
    [alert] = Alert.objects.all()
    assert (alert.source, alert.level) == (SOURCE[kind], tier)
    assert SAFETY_RULE[kind] in alert.reasons and not alert.unaccepted_answers
    assert not FirstStep.objects.filter(resolved_at__isnull=True).exists()
    assert status(planned) == rules.SUSPENDED
    s.session.refresh_from_db()
    assert s.session.status == (rules.HELD if kind == "pre" else rules.SCHEDULED)
    assert shows_crisis_help(client("en").get(s.url), "en")  # as a stored positive answer shows
    assert sweep(timezone.now() + timedelta(hours=1)) == 0
    assert Alert.objects.count() == 1


@pytest.mark.parametrize("kind", KINDS)
def test_a_negative_item_9_at_the_asq_step_does_not_undo_the_first(
    planned: Planned, kind: str
) -> None:
    """On the ASQ step, item 9 changed to 0 and sent without the ASQ (FACTS §F2 ✎ 6: never let
    a negative item 9 override a red flag): the course stays suspended, the first step still
    waits for its ASQ step, and the worker reports it."""
    s = sitting(planned, kind)
    browser = client("en")
    s.first_step(browser)
    s.asq_step(browser, {}, **{"phq9.9": 0})
    assert status(planned) == rules.SUSPENDED
    s.session.refresh_from_db()
    assert s.session.status == rules.SCHEDULED  # never a go-ahead
    first = waiting()
    assert sweep(first.sent_at + services.ASQ_STEP_GRACE) == 1
    [alert] = Alert.objects.all()
    assert alert.level == Alert.Level.ACUTE


# --- the ASQ step never comes --------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_a_first_step_left_at_the_asq_is_alerted_once_after_the_grace(
    planned: Planned, kind: str
) -> None:
    s = sitting(planned, kind)
    s.first_step(client("en"))
    first = waiting()
    assert sweep(first.sent_at + services.ASQ_STEP_GRACE - timedelta(seconds=1)) == 0
    assert not Alert.objects.exists()
    assert sweep(first.sent_at + services.ASQ_STEP_GRACE) == 1
    [alert] = Alert.objects.all()
    assert (alert.source, alert.level) == (SOURCE[kind], Alert.Level.ACUTE)  # acuity unknown
    assert alert.reasons == [SAFETY_RULE[kind]]
    answers = {"at": first.sent_at.isoformat(), "answers": {"phq9.9": 2}, "left_at_asq": True}
    assert alert.unaccepted_answers == [answers]
    first.refresh_from_db()
    assert first.alert == alert and first.resolved_at is None
    assert sweep(first.sent_at + timedelta(hours=1)) == 0  # a second sweep: nothing
    assert Alert.objects.count() == 1
    assert status(planned) == rules.SUSPENDED


def acute_minutes() -> timedelta:
    return timedelta(minutes=ProgramSettings.current().acute_deadline_minutes)


@pytest.mark.parametrize("kind", KINDS)
def test_the_alert_for_a_first_step_left_at_the_asq_is_due_from_the_answer(
    planned: Planned, kind: str
) -> None:
    """The worker reports the first step minutes after it was sent, but the person has waited
    since they answered: the response deadline counts from the first step, not the sweep. The
    roster is paged at the sweep, and the next person escalate_after_minutes later."""
    s = sitting(planned, kind)
    s.first_step(client("en"))
    first = waiting()
    swept_at = first.sent_at + timedelta(minutes=6)
    assert sweep(swept_at) == 1
    alert = Alert.objects.get()
    assert alert.created_at == swept_at
    assert alert.due_at == first.sent_at + acute_minutes()
    escalate = timedelta(minutes=ProgramSettings.current().escalate_after_minutes)
    assert alert.next_escalation_at == swept_at + escalate


def test_escalation_after_a_late_report_comes_no_later_than_its_deadline(
    planned: Planned,
) -> None:
    """The settings allow escalation as late as the acute deadline, and promise that an
    unacknowledged acute alert reaches the next person before its deadline passes: counted
    from the sweep, it would come after the deadline counted from the answer."""
    program = ProgramSettings.current()
    program.escalate_after_minutes = program.acute_deadline_minutes
    program.save()
    s = sitting(planned, "pre")
    s.first_step(client("en"))
    first = waiting()
    sweep(first.sent_at + timedelta(minutes=6))
    alert = Alert.objects.get()
    assert alert.next_escalation_at == alert.due_at == first.sent_at + acute_minutes()


@pytest.mark.parametrize("kind", KINDS)
def test_an_alert_raised_when_the_answer_comes_is_due_from_then(
    planned: Planned, kind: str
) -> None:
    """A check-in stored with its ASQ step: the alert is raised as the answer arrives, and its
    deadline counts from that moment as before."""
    s = sitting(planned, kind)
    browser = client("en")
    s.first_step(browser)
    s.asq_step(browser, ACUTE)
    alert = Alert.objects.get()
    assert alert.due_at == alert.created_at + acute_minutes()


@pytest.mark.parametrize("kind", KINDS)
def test_a_first_step_sent_again_after_the_alert_goes_onto_the_same_alert(
    planned: Planned, kind: str
) -> None:
    """Back to the first step after the alert was raised and taken by a clinician, sent again:
    the same sitting, so its answers join that alert — the roster is not paged again."""
    s = sitting(planned, kind)
    browser = client("en")
    s.first_step(browser)
    sweep(waiting().sent_at + services.ASQ_STEP_GRACE)
    Alert.objects.update(acknowledged_at=timezone.now(), next_escalation_at=None)
    again = s.first_step(browser, **{"phq9.9": 3})
    assert 'name="asq.1"' in text(again)  # the ASQ step, shown again
    second = FirstStep.objects.get(alert__isnull=True)
    assert sweep(second.sent_at + services.ASQ_STEP_GRACE) == 1
    [alert] = Alert.objects.all()
    assert [e["answers"]["phq9.9"] for e in alert.unaccepted_answers] == [2, 3]


@pytest.mark.parametrize("kind", KINDS)
def test_an_asq_step_sent_after_the_alert_is_stored_without_a_second_alert(
    planned: Planned, kind: str
) -> None:
    s = sitting(planned, kind)
    browser = client("en")
    s.first_step(browser)
    sweep(waiting().sent_at + services.ASQ_STEP_GRACE)
    assert s.asq_step(browser, NON_ACUTE).status_code == 302
    assert CheckIn.objects.get().safety_level == "non_acute"
    [alert] = Alert.objects.all()  # the sitting's acute alert covers it
    assert alert.level == Alert.Level.ACUTE
    assert not FirstStep.objects.filter(resolved_at__isnull=True).exists()


def test_an_asq_step_that_can_no_longer_be_stored_is_reported_once(planned: Planned) -> None:
    """The weekly's link runs out between its two steps: the ASQ answers are reported as any
    unstorable risky answer, and that report answers the first step too."""
    s = sitting(planned, "weekly")
    browser = client("en")
    s.first_step(browser)
    Weekly.objects.update(link_expires_at=timezone.now() - timedelta(minutes=1))
    assert s.asq_step(browser, NON_ACUTE).status_code == 409
    [alert] = Alert.objects.all()
    assert alert.level == Alert.Level.NON_ACUTE
    assert sweep(timezone.now() + timedelta(hours=1)) == 0
    assert Alert.objects.count() == 1


# --- the clinician ------------------------------------------------------------------------------


def test_the_course_page_shows_a_waiting_first_step_and_an_assessment_must_see_it(
    planned: Planned,
) -> None:
    """A clinician's page opened before the first step came cannot lift the suspension it put
    on; the page shown again lists it, and an assessment made with it answers it: the worker
    does not report it later."""
    nurse = signed_in(staff_user("nurse.ivy", Role.INTAKE))
    s = sitting(planned, "weekly")
    earlier = {**SAFE_PRE, "phq9.9": 1, **NON_ACUTE}  # a stored positive answer: suspended
    services.submit_session_checkin(s.session, "pre", earlier, "en", timezone.now())
    url = f"/clinic/courses/{planned.course.public_id}/"
    before = nurse.get(url).content.decode()
    s.first_step(client("en"))
    note = {"risk": "low", "note": "Spoke with the patient; safety plan reviewed."}
    stale = nurse.post(f"{url}risk/", {**note, "seen": seen_on(before)})
    assert stale.status_code == 422 and status(planned) == rules.SUSPENDED
    page = stale.content.decode()
    assert "waiting for the ASQ" in page and "<code>phq9.9</code></dt><dd>2</dd>" in page
    assert nurse.post(f"{url}risk/", {**note, "seen": seen_on(page)}).status_code == 302
    assert status(planned) == rules.ACTIVE
    first = FirstStep.objects.get()
    assert first.resolved_at is not None
    assert sweep(first.sent_at + timedelta(hours=1)) == 0
    assert Alert.objects.count() == 1  # the earlier check-in's


def test_the_alert_page_says_the_person_left_at_the_asq(planned: Planned) -> None:
    s = sitting(planned, "pre")
    s.first_step(client("en"))
    sweep(waiting().sent_at + services.ASQ_STEP_GRACE)
    alert = Alert.objects.get()
    nurse = signed_in(staff_user("nurse.ivy", Role.INTAKE))
    html = nurse.get(f"/clinic/alerts/{alert.public_id}/").content.decode()
    section = html.split('id="unaccepted"')[1]
    assert "the person left at the ASQ it opened" in section
    assert load().items["phq9.9"].text["en"] in section and "More than half the days" in section


def test_the_grace_is_the_program_policy_record_s() -> None:
    """The constant and the policy record that documents it say the same number."""
    minutes = int(services.ASQ_STEP_GRACE.total_seconds() // 60)
    assert minutes == 5
    assert f"within {minutes} minutes" in load().citations["policy.course_asq_step"].text


# --- at the same moment --------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_sweep_waits_for_an_asq_step_in_flight_and_then_reports_nothing(
    planned: Planned,
) -> None:
    """The ASQ step holds the course's lock while it stores the check-in: a sweep that found
    the first step waiting waits for it, reads it again, and raises no second alert."""
    import threading

    from django.db import connection, transaction

    if connection.vendor == "sqlite":
        pytest.skip("SQLite's in-memory test database cannot queue two writers; runs on PostgreSQL")
    s = sitting(planned, "weekly")
    s.first_step(client("en"))
    first = waiting()
    weekly = planned.course.weeklies.get(number=0)
    locked, go = threading.Event(), threading.Event()

    def the_asq_step_arrives() -> None:
        try:
            with transaction.atomic():
                Course.objects.select_for_update().get(pk=planned.course.pk)
                locked.set()
                go.wait(10)
                answers = {**s.answers, **NON_ACUTE}
                services.submit_weekly(weekly, answers, "en", timezone.now())
        finally:
            connection.close()

    reported: list[int] = []

    def the_worker_sweeps() -> None:
        try:
            reported.append(services.alert_left_first_steps(first.sent_at + timedelta(hours=1)))
        finally:
            connection.close()

    asq_step = threading.Thread(target=the_asq_step_arrives)
    asq_step.start()
    assert locked.wait(10)
    worker = threading.Thread(target=the_worker_sweeps)
    worker.start()
    worker.join(1)
    assert worker.is_alive()  # waiting for the course's lock, not deciding on what it read
    go.set()
    asq_step.join(10)
    worker.join(10)
    assert reported == [0]
    [alert] = Alert.objects.all()
    assert alert.level == Alert.Level.NON_ACUTE and not alert.unaccepted_answers
