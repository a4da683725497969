"""Patient-record retention (`crossline.clinic.retention`): nothing unless the operator set a
period; a record past it is deleted whole — every part, one transaction, counted in the
aggregates, one audit event — unless it still needs someone; the worker applies it daily."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.apps import apps
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import models
from django.utils import timezone

from crossline.audit.log import verify
from crossline.audit.models import Event
from crossline.care.models import Alert
from crossline.care.schedule import jobs, run_due
from crossline.clinic import retention
from crossline.clinic.models import Case, RecordHold
from crossline.course import dispensing, recovery, services
from crossline.course.models import Course, Weekly
from crossline.engine import course as rules
from crossline.evaluation.models import Addendum, Decision, Letter
from crossline.intake.models import AggregateCount, Assessment
from crossline.program.models import ProgramSettings
from crossline.visits.models import Reminder, Visit
from tests.course.conftest import (
    SAFE_POST,
    SAFE_PRE,
    approve,
    course_today,
    decide,
    plan,
    weekly_answers,
)
from tests.staff import signed_in, staff_user
from tests.visits.conftest import make_patient

pytestmark = pytest.mark.django_db

YEARS = 7


@pytest.fixture
def physician() -> User:
    return staff_user("dr.retention", "physician", email="dr.retention@program.example")


@pytest.fixture
def program() -> ProgramSettings:
    settings = ProgramSettings.current()
    settings.notification_emails = "team@program.example"  # alerts notify: Notification rows
    settings.record_retention_years = YEARS
    settings.save()
    return settings


def treated(physician: User) -> Case:
    """A whole treated record: screen, contact, evaluation, visit with a reminder, a course
    with a session and its check-ins (the pre-session one in two steps: item 9 above 0 first),
    a safety alert (acknowledged), a documented risk assessment, a weekly questionnaire, a
    supply, a recovery plan, and the course stopped."""
    patient = make_patient()
    case, now = patient.case, timezone.now()
    approve(case, physician)
    Addendum.objects.create(evaluation=case.evaluation, text={"text": "note"}, author=physician)
    visit = Visit.objects.create(
        case=case,
        starts_at=now - timedelta(days=2),
        duration_minutes=45,
        time_zone="America/New_York",
        video_url="https://video.example/room",
        proposed_by=physician,
        proposed_at=now - timedelta(days=3),
        status=Visit.Status.ATTENDED,
    )
    Reminder.objects.create(visit=visit, kind="24h", sequence=0, claimed_at=now, sent_at=now)
    Assessment.objects.filter(pk=case.assessment_id).update(
        idempotency_key="k" * 64, idempotency_body="b" * 64, idempotency_token="t"
    )
    course = plan(case, physician, patient.token)
    services.sign_consent(course, "Zephyrine Quillfeather", "en", now)
    session, _ = services.schedule_session(
        course, now + timedelta(hours=1), user=physician, request=None, now=now
    )
    services.first_step_at_risk(course, {"phq9.9": 1}, now, session=session)
    services.submit_session_checkin(session, "pre", {**SAFE_PRE, "phq9.9": 1}, "en", now)
    Alert.objects.filter(case=case).update(acknowledged_at=now, next_escalation_at=None)
    kw = {"user": physician, "request": None, "now": now}
    services.document_risk(course, risk="low", note="Passive thoughts; plan reviewed.", **kw)
    session = services.clear_hold(course.sessions.get(), proceed=True, note="Cleared.", **kw)
    services.submit_session_checkin(session, "post", SAFE_POST, "en", now, doses_taken=1)
    weekly = Weekly.objects.filter(course=course).order_by("number").first()
    assert weekly is not None
    bladder = {"course.bladder": "no"} if weekly.bladder else {}
    services.submit_weekly(weekly, weekly_answers([1] * 8 + [0], [1] * 7, **bladder), "en", now)
    dispensing.record_supply(
        course,
        dispensed_on=course_today(),  # the course's day: its UTC date is tomorrow some evenings
        quantity="6 troches",
        doses=6,
        pharmacy="Example Pharmacy",
        delivery_signed=True,
        pdmp_checked_on=course_today(),
        pdmp_note="checked",
        doses_reported_left=None,
        **kw,
    )
    recovery.save_plan(course, content={"therapy": "weekly CBT"}, agreed_on=now.date(), **kw)
    services.decide(course, decision="stop", sessions_added=0, note="Course complete.", **kw)
    return Case.objects.get(pk=case.pk)


def declined(physician: User) -> Case:
    """A record that ended at the evaluation: declined, with the patient's letter."""
    case = make_patient().case
    now = timezone.now()
    evaluation = decide(case, physician, Decision.DECLINE)
    Letter.objects.create(
        evaluation=evaluation,
        assessment=case.assessment,
        kind=Decision.DECLINE,
        language="en",
        text={"reason": "r"},
        issued_at=now,
    )
    Case.objects.filter(pk=case.pk).update(
        status=Case.Status.CLOSED, closed_at=now, close_reason="declined"
    )
    return Case.objects.get(pk=case.pk)


def parts_of(case: Case) -> dict[str, int]:
    return {model.__name__: rows.count() for model, rows in retention._rows(case)}


def interval(job: str) -> timedelta:
    return {j.name: j for j in jobs()}[job].interval()


def whole(case: Case) -> bool:
    """Every part of a treated record still there (an approved case has no letter; this one
    no legal hold)."""
    return all(n for name, n in parts_of(case).items() if name not in ("Letter", "RecordHold"))


def years_after(day: date, years: int, days: int = 1) -> datetime:
    """Noon UTC, `days` days after `day`, `years` years on (29 February → 1 March)."""
    later = day + timedelta(days=days)
    try:
        later = later.replace(year=later.year + years)
    except ValueError:
        later = later.replace(year=later.year + years, day=28) + timedelta(days=1)
    return datetime.combine(later, time(12), tzinfo=UTC)


def test_every_model_that_holds_part_of_a_record_is_a_part() -> None:
    """A new model pointing at a case, a screen or any part of one must join `PARTS` (or the
    deletion fails on PROTECT, or leaves patient data behind)."""
    parts = {model for model, _, _ in retention.PARTS}
    missing = [
        f"{model.__name__}.{field.name}"
        for model in apps.get_models()
        if model.__module__.startswith("crossline.") and model not in parts
        for field in model._meta.get_fields()
        if isinstance(field, models.ForeignKey | models.OneToOneField)
        and field.related_model in parts
    ]
    assert missing == []


def test_a_whole_record_past_its_years_is_deleted_and_counted(
    program: ProgramSettings, physician: User, tmp_path: Path
) -> None:
    old = treated(physician)
    other = declined(physician)
    kept = make_patient().case  # open: a record in use
    before = {name: n + parts_of(other)[name] for name, n in parts_of(old).items()}
    del before["RecordHold"]  # a held record is never deleted (below)
    assert all(before.values()), before  # between them, the two records fill every other part
    day = retention.last_activity(old)
    assert day > retention.last_activity(other)  # a course's planned dates run ahead of today

    # On the day the treated record's last activity is exactly 7 years old, only the declined
    # one is past its years; the open case is past them too, but held back.
    first = retention.apply(years_after(day, YEARS, days=0), YEARS)
    assert first.deleted == 1
    assert not any(parts_of(other).values())
    assert whole(old)
    assert [h.case.pk for h in first.held] == [kept.pk]
    assert first.held[0].held == ("the case is still open",)

    applied = retention.apply(years_after(day, YEARS), YEARS)  # the day after
    assert applied.deleted == 1
    assert not any(parts_of(old).values())
    assert Case.objects.filter(pk=kept.pk).exists()
    # Reporting keeps them: each screen counted by its day, result, safety level and state.
    counted = AggregateCount.objects.filter(eligibility=old.eligibility, state=old.state)
    assert sum(c.count for c in counted) == 2
    events = Event.objects.filter(action="record.deleted").order_by("seq")
    assert [e.patient for e in events] == [str(other.public_id), str(old.public_id)]
    assert events[0].actor == "system"
    assert events[1].detail == {"last_activity": day.isoformat(), "retention_years": YEARS}
    assert verify(tmp_path / "anchors").ok  # the log itself untouched: the chain still verifies


def test_the_latest_entry_anywhere_keeps_the_record(
    program: ProgramSettings, physician: User
) -> None:
    case = declined(physician)
    opened = retention.last_activity(case)
    late = timezone.now() + timedelta(days=400)  # an addendum written a year on
    Addendum.objects.create(evaluation=case.evaluation, text={"text": "late"}, author=physician)
    Addendum.objects.filter(evaluation=case.evaluation).update(created_at=late)
    assert retention.last_activity(case) == late.date()
    assert retention.apply(years_after(opened, YEARS), YEARS).deleted == 0
    assert retention.apply(years_after(late.date(), YEARS), YEARS).deleted == 1


def test_a_record_that_still_needs_someone_is_held_back(
    program: ProgramSettings, physician: User
) -> None:
    case = treated(physician)
    Course.objects.filter(case=case).update(status=rules.SUSPENDED)
    Alert.objects.filter(case=case).update(acknowledged_at=None)
    Case.objects.filter(pk=case.pk).update(status=Case.Status.CLAIMED)
    later = years_after(retention.last_activity(case), YEARS)

    applied = retention.apply(later, YEARS)

    assert applied.deleted == 0
    assert applied.held[0].held == (
        "the case is still claimed",
        "a safety alert is not acknowledged",
        "the treatment course is not stopped",
    )
    assert whole(case)
    assert not Event.objects.filter(action="record.deleted").exists()


def test_a_record_settled_since_it_was_listed_is_checked_again_under_lock(
    program: ProgramSettings, physician: User
) -> None:
    case = declined(physician)
    later = years_after(retention.last_activity(case), YEARS)
    [listed] = retention.due(later, YEARS)
    Case.objects.filter(pk=case.pk).update(status=Case.Status.OPEN)  # reopened meanwhile
    assert retention.delete(listed.case.pk, later, YEARS) is False
    assert Case.objects.filter(pk=case.pk).exists()


@pytest.mark.parametrize(
    ("today", "years", "expected"),
    [
        (date(2033, 11, 28), 7, date(2026, 11, 28)),
        (date(2028, 2, 29), 1, date(2027, 2, 28)),  # no 29 February: the 28th
        (date(2028, 2, 29), 4, date(2024, 2, 29)),
    ],
)
def test_the_cutoff_is_the_same_calendar_day(today: date, years: int, expected: date) -> None:
    now = datetime(today.year, today.month, today.day, 23, 30, tzinfo=UTC)
    assert retention.cutoff(now, years) == expected


def test_nothing_is_deleted_without_a_period(physician: User) -> None:
    case = declined(physician)
    assert ProgramSettings.current().record_retention_years is None
    out = StringIO()
    call_command("purge_records", stdout=out)
    assert "not set" in out.getvalue()
    # The worker's daily job does nothing either, however old the record.
    assert interval("clinic.purge_records") == timedelta(hours=1)
    assert "clinic.purge_records" in run_due(timezone.now() + timedelta(days=365 * 100))
    assert Case.objects.filter(pk=case.pk).exists()


def test_the_command_lists_then_deletes(
    program: ProgramSettings, physician: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    gone = declined(physician)
    held = declined(physician)
    Case.objects.filter(pk=held.pk).update(status=Case.Status.CLAIMED)
    later = years_after(retention.last_activity(gone), YEARS)
    monkeypatch.setattr(timezone, "now", lambda: later)

    out = StringIO()
    call_command("purge_records", "--dry-run", stdout=out)
    listing = out.getvalue()
    assert "would delete 1 patient records" in listing
    assert f"case {gone.public_id}: last activity" in listing
    assert f"case {held.public_id}: last activity" in listing
    assert "the case is still claimed" in listing
    assert Case.objects.count() == 2  # a dry run changes nothing

    out = StringIO()
    call_command("purge_records", stdout=out)
    assert "deleted 1 patient records" in out.getvalue()
    assert list(Case.objects.values_list("pk", flat=True)) == [held.pk]
    assert not Assessment.objects.filter(pk=gone.assessment_id).exists()


def test_the_scan_reads_records_in_chunks_and_a_budget_stops_it(
    program: ProgramSettings, physician: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    cases = [declined(physician) for _ in range(3)]
    monkeypatch.setattr(retention, "SCAN_CHUNK", 2)  # two chunks: 2 cases, then 1
    later = years_after(max(retention.last_activity(c) for c in cases), YEARS)
    assert [d.case.pk for d in retention.due(later, YEARS)] == [c.pk for c in cases]
    assert retention.last_activities(cases) == {c.pk: retention.last_activity(c) for c in cases}

    spent = retention.apply(later, YEARS, budget=0)  # the worker's budget, already spent
    assert (spent.deleted, spent.finished) == (0, False)
    done = retention.apply(later, YEARS, budget=60)
    assert (done.deleted, done.finished) == (3, True)


def test_the_anonymous_purge_stops_between_batches_when_its_budget_is_spent() -> None:
    from crossline.intake.retention import purge_anonymous
    from tests.screens import submitted
    from tests.web.personas import CANDIDATE

    for _ in range(3):
        submitted(CANDIDATE)
    later = timezone.now() + timedelta(days=91)
    assert purge_anonymous(later, 90, batch_size=1, budget=0).deleted == 1
    assert purge_anonymous(later, 90, batch_size=1).deleted == 2


def test_the_worker_applies_the_period_hourly(program: ProgramSettings, physician: User) -> None:
    case = declined(physician)
    later = years_after(retention.last_activity(case), YEARS)
    assert "clinic.purge_records" in run_due(later)
    assert not Case.objects.filter(pk=case.pk).exists()


def test_the_worker_purges_anonymous_screens_hourly() -> None:
    from tests.screens import submitted
    from tests.web.personas import CANDIDATE

    screen, _ = submitted(CANDIDATE)
    assert interval("intake.purge_anonymous") == timedelta(hours=1)
    assert "intake.purge_anonymous" in run_due(timezone.now() + timedelta(days=91))
    assert not Assessment.objects.filter(pk=screen.pk).exists()
    assert AggregateCount.objects.get().count == 1


# --- legal holds ------------------------------------------------------------------------------

HOLDS = "/admin/clinic/recordhold/"


def test_a_legal_hold_keeps_a_record_whatever_its_age(
    program: ProgramSettings, physician: User
) -> None:
    case = declined(physician)
    operator = staff_user("olive.operator", "operator")
    client = signed_in(operator)
    form = {"case_id": str(case.public_id), "reference": "Matter 2027-14", "_save": "Save"}
    response = client.post(f"{HOLDS}add/", form)
    assert response.status_code == 302, response.content.decode()[:2000]
    hold = RecordHold.objects.get()
    assert (hold.case, hold.placed_by) == (case, operator)
    for page in ("", f"{hold.pk}/change/"):  # the list, and the hold (its reference editable)
        assert client.get(f"{HOLDS}{page}").status_code == 200
    later = years_after(retention.last_activity(case), YEARS)

    applied = retention.apply(later, YEARS)
    assert applied.deleted == 0
    assert applied.held[0].held == ("a legal hold is placed (Matter 2027-14)",)

    response = client.post(f"{HOLDS}{hold.pk}/delete/", {"post": "yes"})  # released
    assert response.status_code == 302
    assert retention.apply(later, YEARS).deleted == 1
    changes = Event.objects.filter(action="record.hold_changed").order_by("seq")
    assert [(e.patient, e.detail["operation"], e.actor) for e in changes] == [
        (str(case.public_id), "added", "olive.operator"),
        (str(case.public_id), "deleted", "olive.operator"),
    ]


@pytest.mark.parametrize(
    ("case_id", "error"),
    [
        ("not-an-id", "Enter a valid UUID."),
        ("5b0c6f1e-0000-4000-8000-000000000000", "No case has this id."),
        ("held", "This case is already under a legal hold."),
    ],
)
def test_a_hold_is_refused_naming_the_field(physician: User, case_id: str, error: str) -> None:
    case = declined(physician)
    operator = staff_user("olive.operator", "operator")
    if case_id == "held":
        RecordHold.objects.create(
            case=case, reference="first", placed_by=operator, placed_at=timezone.now()
        )
        case_id = str(case.public_id)
    before = RecordHold.objects.count()
    response = signed_in(operator).post(
        f"{HOLDS}add/", {"case_id": case_id, "reference": "Matter 9", "_save": "Save"}
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {"case_id": [error]}
    assert RecordHold.objects.count() == before
    assert not Event.objects.filter(action="record.hold_changed").exists()


@pytest.mark.parametrize("role", ["intake", "physician"])
def test_only_an_operator_places_a_hold(physician: User, role: str) -> None:
    case = declined(physician)
    client = signed_in(staff_user(f"someone.{role}", role))
    form = {"case_id": str(case.public_id), "reference": "Matter 9", "_save": "Save"}
    assert client.post(f"{HOLDS}add/", form).status_code in (302, 403)
    assert not RecordHold.objects.exists()
