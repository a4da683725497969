"""Course tests: an approved case (its evaluation decided "approve" by a physician), a planned
course, and answer sets for the check-ins. Shared by the course tests and their helpers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from crossline.accounts.roles import Role
from crossline.clinic.models import Case
from crossline.course import services
from crossline.course.models import Course, Session
from crossline.evaluation.models import Decision, Evaluation
from tests.mail import mailbox, smtp  # noqa: F401 — fixtures for this directory's tests
from tests.staff import staff_user
from tests.visits.conftest import make_patient

PLAN = {
    "medication": "ketamine (compounded)",
    "form": "sublingual troche",
    "strength": "as written on the prescription",
    "units_per_session": 1,
    "prescription_text": "As written by the physician: one troche under the tongue per session.",
    "monitor_name": "Odalys Brightwater",
    "notes": "",
}
SAFE_PRE: dict[str, Any] = {
    "vitals.systolic": 122,
    "vitals.diastolic": 78,
    "vitals.pulse": 72,
    "pre.monitor_present": "yes",
    "pre.fasted": "yes",
    "pre.alcohol_today": "no",
    "pre.sedatives_today": "no",
    "pre.stimulants_today": "no",
    "pre.will_drive": "no",
    "pre.new_medications": [],
    "phq9.9": 0,
}
HIGH_BP_PRE = {**SAFE_PRE, "vitals.systolic": 162, "vitals.diastolic": 96}
SAFE_POST: dict[str, Any] = {
    "vitals.systolic": 130,
    "vitals.diastolic": 82,
    "post.sedation": 5,
    "post.dissociation": "mild",
    "post.breathing_problem": "no",
    "post.nausea": "no",
    "post.emergency_symptoms": [],
    "post.minutes_to_baseline": 70,
}


def weekly_answers(phq9: list[int], gad7: list[int], **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {f"phq9.{i}": v for i, v in enumerate(phq9, start=1)}
    out.update({f"gad7.{i}": v for i, v in enumerate(gad7, start=1)})
    out.update(extra)
    return out


@dataclass
class Planned:
    course: Course
    case: Case
    result_token: str
    physician: User


@pytest.fixture
def physician() -> User:
    return staff_user("dr.alvarez", Role.PHYSICIAN, email="dr.alvarez@program.example")


def decide(case: Case, physician: User, decision: str) -> Evaluation:
    """The case's evaluation, decided now by `physician`; the case marked decided."""
    now = timezone.now()
    evaluation = Evaluation.objects.create(
        case=case,
        status=Evaluation.Status.DECIDED,
        decision=decision,
        content={},
        updated_by=physician,
        decided_at=now,
        decided_by=physician,
    )
    Case.objects.filter(pk=case.pk).update(status=Case.Status.DECIDED)
    return evaluation


def approve(case: Case, physician: User) -> None:
    decide(case, physician, Decision.APPROVE)


COURSE_ZONE = "America/New_York"


def course_today() -> date:
    """Today where the test courses run (their time zone), which is not the machine's (UTC)
    date every evening: a course starting on the UTC date would start tomorrow, its baseline
    questionnaire not yet due."""
    return timezone.now().astimezone(ZoneInfo(COURSE_ZONE)).date()


def plan(case: Case, physician: User, token: str | None, **overrides: Any) -> Course:
    values: dict[str, Any] = {
        "plan": PLAN,
        "start_date": course_today(),
        "sessions_planned": 6,
        "sessions_per_week": 2,
        "time_zone": COURSE_ZONE,
        "language": "en",
        "result_token": token,
        "user": physician,
        "request": None,
        "now": timezone.now(),
    }
    values.update(overrides)
    return services.plan_course(case, **values)


@pytest.fixture
def planned(physician: User) -> Planned:
    patient = make_patient()
    approve(patient.case, physician)
    course = plan(patient.case, physician, patient.token)
    return Planned(course, patient.case, patient.token, physician)


def later_today(now: datetime | None = None) -> datetime:
    """An hour from `now` — or, late in the evening where the courses run, just before their
    midnight: a session's pre check-in opens on its own day (services.pre_checkin_opens_at),
    and the tests that answer it do so now. Still after `now` (scheduling refuses a time that
    is not ahead) unless `now` is the last microsecond of the day."""
    now = now or timezone.now()
    today = now.astimezone(ZoneInfo(COURSE_ZONE)).date()
    midnight = datetime.combine(today + timedelta(days=1), time.min, tzinfo=ZoneInfo(COURSE_ZONE))
    return min(now + timedelta(hours=1), midnight - timedelta(microseconds=1))


def schedule(p: Planned, when: datetime | None = None, **kw: Any) -> tuple[Session, str]:
    now = timezone.now()
    return services.schedule_session(
        p.course, when or later_today(now), user=p.physician, request=None, now=now, **kw
    )


def sign(p: Planned) -> None:
    services.sign_consent(p.course, "Zephyrine Quillfeather", "en", timezone.now())
