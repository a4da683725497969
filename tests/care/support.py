"""People and screens the alert tests share (also used by `tests.care.subprocess_db`, which
seeds and inspects the worker tests' own database from another process)."""

from __future__ import annotations

import os
from typing import Any

from django.utils import timezone

from crossline.intake.models import Assessment
from crossline.knowledge import load
from tests.screens import submitted
from tests.staff import staff_user
from tests.web.personas import CANDIDATE

# Safety personas (tests/web/test_contact.py has the same answer sets).
NON_ACUTE: dict[str, Any] = {**CANDIDATE, "phq9.9": 1, "asq.4": "yes", "asq.5": "no"}
ACUTE: dict[str, Any] = {
    **CANDIDATE, "phq9.9": 2, "asq.1": "yes", "asq.3": "yes", "asq.5": "yes",
}  # fmt: skip

# The patient's details: distinctive, so finding them anywhere in a message is a leak.
NAME = "Zephyrine Quillfeather"
EMAIL = "zephyrine.q@example.org"
PHONE = "(201) 555-0147"
PHONE_DIGITS = "2015550147"
LEAKS = (NAME, "Zephyrine", "Quillfeather", EMAIL, PHONE, PHONE_DIGITS, "555-0147", "sertraline")

TEAM = "safety-team@clinic.example"


def contact_me_form() -> dict[str, str]:
    version = load().copy["consent"]["contact"]["version"]
    form = {"phone": PHONE, "email": EMAIL, "name": NAME, "consent": "on",
            "consent_version": version}  # fmt: skip
    return {f"contact-{k}": v for k, v in form.items()}


def evaluation_form() -> dict[str, str]:
    version = load().copy["consent"]["contact"]["version"]
    form = {"name": NAME, "email": EMAIL, "phone": PHONE, "state": "FL", "consent": "on",
            "consent_version": version}  # fmt: skip
    return {f"evaluation-{k}": v for k, v in form.items()}


def staff(username: str, *roles: str, email: str = "") -> Any:
    return staff_user(
        username,
        *roles,
        email=email or f"{username}@clinic.example",
        password=None,
        first_name="Dr",
        last_name=username.capitalize(),
    )


def on_call(*users: Any) -> None:
    from crossline.program.models import OnCallEntry

    for position, user in enumerate(users, start=1):
        OnCallEntry.objects.create(user=user, position=position * 10)


def contact_me(assessment: Assessment) -> Any:
    """The person asks a clinician to contact them (`record_request`, as the view calls it)."""
    from django.db import transaction

    from crossline.intake import contact
    from crossline.intake.models import ContactRequest

    form = contact.contact_me_form(load(), "en", contact_me_form())
    assert form.is_valid(), form.errors
    with transaction.atomic():
        request, _ = contact.record_request(
            assessment, ContactRequest.Kind.CONTACT_ME, form, timezone.now()
        )
    return request


def seed() -> dict[str, Any]:
    """A roster of one, a team address and an acute contact request."""
    from crossline.care.models import Alert
    from crossline.program.models import ProgramSettings

    on_call(staff("ada", "physician"))
    program = ProgramSettings.current()
    program.notification_emails = TEAM
    program.save()
    assessment, _ = submitted(ACUTE)
    contact_me(assessment)
    return {"alert": str(Alert.objects.get().public_id)}


def seed_many(count: int) -> None:
    """A roster of two and `count` acute alerts, for the concurrent-sweep test."""
    on_call(staff("ada", "physician"), staff("ben", "physician"))
    for _ in range(count):
        assessment, _ = submitted(ACUTE)
        contact_me(assessment)


def sweep_when(go: str, now: str) -> int:
    """Wait for the file `go` to appear (so two processes start together), then sweep."""
    import time
    from datetime import datetime
    from pathlib import Path

    from django.db import connection

    from crossline.care.alerts import escalate_due

    connection.ensure_connection()
    Path(f"{go}.{os.getpid()}.ready").touch()
    while not Path(go).exists():
        time.sleep(0.001)
    return escalate_due(datetime.fromisoformat(now))


def counts() -> dict[str, Any]:
    from crossline.audit.models import Event
    from crossline.care.models import Alert, AlertEvent, Notification

    return {
        "alerts": Alert.objects.count(),
        "steps": sorted(set(Alert.objects.values_list("step", flat=True))),
        "escalated_events": AlertEvent.objects.filter(kind="escalated").count(),
        "escalated_audit": Event.objects.filter(action="alert.escalated").count(),
        "step1_notifications": Notification.objects.filter(step=1).count(),
        "sent": Notification.objects.filter(status="sent").count(),
        "latest": max(Alert.objects.values_list("created_at", flat=True)).isoformat(),
    }
