"""Reminders before a confirmed visit: 24 hours and 1 hour before (reminders.REMINDERS), each
sent once, through a real SMTP server. `sweep(now)` takes the time as an argument: no test waits.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from crossline.audit.models import Event
from crossline.visits import reminders
from crossline.visits.models import Reminder, Visit
from tests.mail import Mailbox
from tests.visits.conftest import (
    PATIENT_EMAIL,
    PATIENT_NAME,
    VIDEO_URL,
    Patient,
    answer_visit,
    in_days,
    proposal,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def confirmed(staff: Client, patient: Patient) -> Visit:
    """Confirmed three days ahead (the invitation e-mails are not part of these tests)."""
    staff.post(f"/clinic/cases/{patient.case.public_id}/visit/", proposal(in_days(3)))
    answer_visit(patient, "confirm")
    visit = Visit.objects.get(case=patient.case)
    assert visit.status == "confirmed"
    return visit


def before(visit: Visit, **delta: Any) -> datetime:
    return visit.starts_at - timedelta(**delta)


def test_nothing_is_sent_25_hours_before(smtp: Mailbox, confirmed: Visit) -> None:
    assert reminders.sweep(before(confirmed, hours=25)) == 0
    assert smtp.messages == []


def test_the_24_hour_reminder_goes_out_once(smtp: Mailbox, confirmed: Visit) -> None:
    assert reminders.sweep(before(confirmed, hours=23)) == 1
    assert reminders.sweep(before(confirmed, hours=23)) == 0
    assert reminders.sweep(before(confirmed, hours=22)) == 0
    [message] = smtp.to(PATIENT_EMAIL)
    assert "Reminder" in str(message["Subject"])
    body = message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert VIDEO_URL in body and PATIENT_NAME not in body
    assert "/r/" in body  # their private link, kept from their answer
    [kind] = Reminder.objects.values_list("kind", flat=True)
    assert kind == "24h"
    [event] = Event.objects.filter(action="notification.sent")
    assert event.detail == {"kind": "visit.reminder.24h", "to": "patient"}


def test_the_1_hour_reminder_follows(smtp: Mailbox, confirmed: Visit) -> None:
    reminders.sweep(before(confirmed, hours=23))
    assert reminders.sweep(before(confirmed, minutes=50)) == 1
    assert reminders.sweep(before(confirmed, minutes=10)) == 0
    assert len(smtp.to(PATIENT_EMAIL)) == 2
    assert sorted(Reminder.objects.values_list("kind", flat=True)) == ["1h", "24h"]


def test_a_late_sweep_sends_only_the_latest_reminder(smtp: Mailbox, confirmed: Visit) -> None:
    assert reminders.sweep(before(confirmed, minutes=50)) == 1
    assert list(Reminder.objects.values_list("kind", flat=True)) == ["1h"]


def test_nothing_once_the_visit_has_started(smtp: Mailbox, confirmed: Visit) -> None:
    assert reminders.sweep(confirmed.starts_at) == 0
    assert reminders.sweep(confirmed.starts_at + timedelta(minutes=5)) == 0


def test_no_reminder_whose_time_had_come_before_the_patient_confirmed(
    smtp: Mailbox, confirmed: Visit
) -> None:
    confirmed.confirmed_at = before(confirmed, hours=20)  # the invitation has just told them
    confirmed.save()
    assert reminders.sweep(before(confirmed, hours=19)) == 0
    assert reminders.sweep(before(confirmed, minutes=30)) == 1  # the 1-hour one still goes


def test_an_unconfirmed_visit_gets_no_reminder(
    smtp: Mailbox, staff: Client, patient: Patient
) -> None:
    staff.post(f"/clinic/cases/{patient.case.public_id}/visit/", proposal(in_days(3)))
    visit = Visit.objects.get()
    assert reminders.sweep(before(visit, hours=23)) == 0


def test_a_reminder_another_sweep_has_claimed_is_not_sent_again(
    smtp: Mailbox, confirmed: Visit
) -> None:
    """Two sweeps at once: the second's insert of the same (visit, kind, proposal) row fails on
    the unique constraint, so it leaves the reminder to the first."""
    Reminder.objects.create(
        visit=confirmed, kind="24h", sequence=confirmed.sequence, claimed_at=timezone.now()
    )
    assert reminders.sweep(before(confirmed, hours=23)) == 0
    assert smtp.messages == []


def test_a_new_time_gets_its_own_reminders(
    smtp: Mailbox, staff: Client, patient: Patient, confirmed: Visit
) -> None:
    reminders.sweep(before(confirmed, hours=23))
    staff.post(f"/clinic/cases/{patient.case.public_id}/visit/", proposal(in_days(3, hour=18)))
    answer_visit(patient, "confirm")
    new = Visit.objects.get(case=patient.case, status="confirmed")  # a confirmed time never moves
    assert new.pk != confirmed.pk
    new.confirmed_at = before(new, hours=30)
    new.save()
    assert reminders.sweep(before(new, hours=23)) == 1
    assert len(smtp.to(PATIENT_EMAIL)) == 2


def test_a_failed_send_is_retried_by_the_next_sweep(
    smtp: Mailbox, settings: Any, confirmed: Visit
) -> None:
    from tests.mail import free_port

    good = settings.EMAIL_PORT
    settings.EMAIL_PORT = free_port()  # nothing listens there
    assert reminders.sweep(before(confirmed, hours=23)) == 0
    assert not Reminder.objects.exists()
    settings.EMAIL_PORT = good
    assert reminders.sweep(before(confirmed, hours=22)) == 1
    assert len(smtp.to(PATIENT_EMAIL)) == 1


def test_the_sweep_is_a_django_task_for_the_worker() -> None:
    assert reminders.sweep_task.name == "sweep_task"
    assert reminders.SWEEP_EVERY_MINUTES <= 10
