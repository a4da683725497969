"""Visits tests: clinicians with verified MFA, a case whose person left an e-mail address, a
real SMTP server (tests/mail.py), and django-tasks-db's own worker loop."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import transaction
from django.test import Client
from django.utils import timezone
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult

from crossline.accounts.roles import Role
from crossline.clinic.cases import open_case
from crossline.clinic.models import Case
from crossline.intake.models import ContactRequest
from crossline.program.models import ProgramSettings
from crossline.visits.forms import shown_value
from tests.mail import mailbox, smtp  # noqa: F401 — fixtures for this directory's tests
from tests.screens import submitted
from tests.staff import signed_in, staff_user
from tests.web.personas import CANDIDATE

VIDEO_URL = "https://video.example-program.org/room/crossline"
PATIENT_NAME = "Zephyrine Quillfeather"  # distinctive: found nowhere unless something leaks it
PATIENT_EMAIL = "zephyrine.q@example.org"
CLINICIAN_EMAIL = "dr.alvarez@program.example"


def run_worker() -> None:
    """django-tasks-db's worker, run until the queue is empty: each ready task is locked,
    claimed and run by the worker's own `run_task`, as `crossline worker` does. (Not its polling
    loop, which closes "old" database connections between tasks — that would close the
    connection holding this test's transaction.)"""
    worker = Worker(
        queue_names=["default"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="visits-test",
        excluded_queue_names=[],
    )
    while True:
        with transaction.atomic():
            result = DBTaskResult.objects.ready().get_locked()
            if result is None:
                return
            result.claim(worker.worker_id)
        worker.run_task(result)


# --- people ------------------------------------------------------------------------------------


@pytest.fixture
def physician() -> User:
    return staff_user("dr.alvarez", Role.PHYSICIAN, email=CLINICIAN_EMAIL)


@pytest.fixture
def staff(client: Client, physician: User) -> Client:
    return signed_in(physician, client)


# --- the patient and their case ----------------------------------------------------------------


@dataclass
class Patient:
    case: Case
    token: str


def answer_visit(
    patient: Patient,
    answer: str,
    client: Client | None = None,
    message: str = "",
    csrfmiddlewaretoken: str = "",
    **headers: Any,
) -> Any:
    """The patient answers the proposal their visit page shows now: the form's `shown` value
    (the latest visit and its sequence) goes with it, as the page sends it."""
    visit = patient.case.visits.first()  # the latest proposal
    form = {"answer": answer, "shown": shown_value(visit) if visit else "", "message": message}
    if csrfmiddlewaretoken:
        form["csrfmiddlewaretoken"] = csrfmiddlewaretoken
    return (client or Client()).post(f"/r/{patient.token}/visit/", form, **headers)


def make_patient(lang: str = "en", email: str | None = PATIENT_EMAIL, state: str = "FL") -> Patient:
    """A candidate who asked for an evaluation (name, e-mail, phone), with their case opened."""
    answers = {**CANDIDATE, "profile.state": state}
    assessment, token = submitted(answers, lang)
    contact = {"name": PATIENT_NAME, "phone": "2015550147", "state": state}
    if email:
        contact["email"] = email
    with transaction.atomic():
        request = ContactRequest.objects.create(
            assessment=assessment,
            kind=ContactRequest.Kind.EVALUATION,
            contact=contact,
            consent_to_contact=True,
            consent_version="test",
        )
        case = open_case(request, timezone.now())
    return Patient(case=case, token=token)


@pytest.fixture
def program() -> ProgramSettings:
    settings = ProgramSettings.current()
    settings.video_visit_url = VIDEO_URL
    settings.save()
    return settings


@pytest.fixture
def patient(program: ProgramSettings) -> Patient:
    return make_patient()


def proposal(when: datetime, zone: str = "America/New_York", minutes: int = 45) -> dict[str, str]:
    """The staff form for a visit starting at `when` (any aware datetime), in `zone`."""
    from zoneinfo import ZoneInfo

    local = when.astimezone(ZoneInfo(zone))
    return {
        "date": local.date().isoformat(),
        "time": local.strftime("%H:%M"),
        "time_zone": zone,
        "duration_minutes": str(minutes),
    }


def in_days(days: int, hour: int = 15) -> datetime:
    """A whole hour `days` from now (UTC), so form round trips are exact."""
    return (timezone.now() + timedelta(days=days)).replace(
        hour=hour, minute=0, second=0, microsecond=0
    )


Propose = Callable[..., Any]
