"""The calendar invitation: when the patient confirms, django-tasks queues the e-mails (after
the commit), the worker sends them through a real SMTP server, and each of the patient and the
clinician receives a text/calendar attachment (RFC 5545, METHOD:REQUEST) with the video link.
Nothing clinical and nothing that names the patient is in any e-mail or calendar file."""

from __future__ import annotations

from datetime import UTC
from email.message import EmailMessage
from typing import Any

import pytest
from django.test import Client
from icalendar import Calendar

from crossline.audit.models import Event
from crossline.visits.models import Visit
from tests.mail import Mailbox
from tests.visits.conftest import (
    CLINICIAN_EMAIL,
    PATIENT_EMAIL,
    PATIENT_NAME,
    VIDEO_URL,
    Patient,
    in_days,
    make_patient,
    proposal,
    run_worker,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def commits(django_capture_on_commit_callbacks: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test runs inside one transaction, rolled back at its end (pytest-django). Every
    request below is wrapped so its on-commit callbacks — which queue the e-mail tasks — run
    when the request's own work is done, as they would after a real commit."""
    real = Client.generic

    def generic(self: Client, *args: Any, **kwargs: Any) -> Any:
        with django_capture_on_commit_callbacks(execute=True):
            return real(self, *args, **kwargs)

    monkeypatch.setattr(Client, "generic", generic)


PHONE = "2015550147"


def calendar_of(message: EmailMessage) -> tuple[Calendar, str]:
    [part] = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    assert part.get_param("method") == "REQUEST" or part.get_param("method") == "CANCEL"
    assert part.get_filename() == "visit.ics"
    raw = part.get_content()
    return Calendar.from_ical(raw), raw


def body_of(message: EmailMessage) -> str:
    text = message.get_body(preferencelist=("plain",))
    assert text is not None
    return str(text.get_content())


def assert_no_phi(*texts: str) -> None:
    for text in texts:
        for secret in (PATIENT_NAME, "Zephyrine", "Quillfeather", PHONE, "201-555"):
            assert secret not in text
        for clinical in ("PHQ", "depress", "ketamine", "suicid", "eligib", "candidate"):
            assert clinical.lower() not in text.lower()


def propose_and_confirm(staff: Client, patient: Patient, inbox: Mailbox) -> Visit:
    staff.post(f"/clinic/cases/{patient.case.public_id}/visit/", proposal(in_days(4, hour=19)))
    run_worker()  # the proposal notice
    Client().post(f"/r/{patient.token}/visit/", {"answer": "confirm"})
    run_worker()  # the two invitations
    return Visit.objects.get(case=patient.case)


def test_confirming_sends_both_a_calendar_invitation(
    smtp: Mailbox, staff: Client, patient: Patient
) -> None:
    visit = propose_and_confirm(staff, patient, smtp)
    [notice, to_patient] = smtp.to(PATIENT_EMAIL)
    [to_clinician] = smtp.to(CLINICIAN_EMAIL)
    assert "proposed a time" in body_of(notice)
    assert not [p for p in notice.walk() if p.get_content_type() == "text/calendar"]

    for message in (to_patient, to_clinician):
        cal, raw = calendar_of(message)
        assert cal["METHOD"] == "REQUEST"
        [event] = cal.walk("VEVENT")
        start, end = event.decoded("DTSTART"), event.decoded("DTEND")
        assert start == visit.starts_at and start.utcoffset().total_seconds() == 0
        assert end == visit.ends_at
        assert "DTSTART:" in raw and raw.split("DTSTART:")[1].split("\r\n")[0].endswith("Z")
        assert str(event["UID"]) == f"visit-{visit.public_id}@crossline"
        assert event.decoded("DTSTAMP").tzinfo is not None
        assert str(event["SUMMARY"]) == "crossline telehealth visit"
        assert str(event["URL"]) == VIDEO_URL and str(event["LOCATION"]) == VIDEO_URL
        assert str(event["ORGANIZER"]) == "mailto:crossline@localhost"
        assert [a["ACTION"] for a in event.walk("VALARM")] == ["DISPLAY"]
        assert_no_phi(raw, body_of(message), str(message["Subject"]))

    patient_body = body_of(to_patient)
    assert f"http://testserver/r/{patient.token}/" in patient_body  # their private link
    assert VIDEO_URL in patient_body
    assert "Eastern time (America/New_York)" in patient_body
    clinician_body = body_of(to_clinician)
    assert patient.token not in clinician_body  # the patient's link is theirs alone
    assert f"/clinic/cases/{patient.case.public_id}/visit/" in clinician_body
    assert visit.starts_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") in clinician_body

    sent = Event.objects.filter(action="notification.sent").values_list("detail", flat=True)
    assert sorted(d["to"] + ":" + d["kind"] for d in sent) == [
        "clinician:visit.invitation",
        "patient:visit.invitation",
        "patient:visit.proposal",
    ]


def test_a_spanish_speaker_gets_the_invitation_in_spanish(
    smtp: Mailbox, staff: Client, program: object
) -> None:
    patient = make_patient(lang="es")
    staff.post(f"/clinic/cases/{patient.case.public_id}/visit/", proposal(in_days(4)))
    run_worker()
    Client().post(f"/r/{patient.token}/visit/", {"answer": "confirm"}, HTTP_ACCEPT_LANGUAGE="es")
    run_worker()
    [notice, invitation] = smtp.to(PATIENT_EMAIL)
    assert "Le proponemos una hora" in str(notice["Subject"])
    assert str(invitation["Subject"]) == "crossline: Su visita por video está confirmada"
    assert "hora del Este" in body_of(invitation)
    cal, _ = calendar_of(invitation)
    assert str(cal.walk("VEVENT")[0]["SUMMARY"]) == "Visita de telesalud de crossline"
    [to_clinician] = smtp.to(CLINICIAN_EMAIL)
    assert "Video visit confirmed" in str(to_clinician["Subject"])  # staff: English


def test_asking_for_another_time_tells_the_clinician_without_the_note(
    smtp: Mailbox, staff: Client, patient: Patient
) -> None:
    staff.post(f"/clinic/cases/{patient.case.public_id}/visit/", proposal(in_days(4)))
    Client().post(
        f"/r/{patient.token}/visit/", {"answer": "reschedule", "message": "Quillfeather evenings"}
    )
    run_worker()
    [message] = smtp.to(CLINICIAN_EMAIL)
    assert "asked for another time" in body_of(message)
    assert "evenings" not in body_of(message)
    assert_no_phi(body_of(message))


def test_a_replaced_proposal_is_not_announced(
    smtp: Mailbox, staff: Client, patient: Patient
) -> None:
    url = f"/clinic/cases/{patient.case.public_id}/visit/"
    staff.post(url, proposal(in_days(4)))
    staff.post(url, proposal(in_days(5)))  # before the worker ran
    run_worker()
    [notice] = smtp.to(PATIENT_EMAIL)
    assert str(in_days(5).day) in body_of(notice)


def test_cancelling_a_confirmed_visit_withdraws_the_calendar_event(
    smtp: Mailbox, staff: Client, patient: Patient
) -> None:
    visit = propose_and_confirm(staff, patient, smtp)
    staff.post(f"/clinic/cases/{patient.case.public_id}/visit/{visit.public_id}/cancel")
    run_worker()
    cancelled = smtp.to(PATIENT_EMAIL)[-1]
    cal, raw = calendar_of(cancelled)
    assert cal["METHOD"] == "CANCEL"
    assert str(cal.walk("VEVENT")[0]["UID"]) == f"visit-{visit.public_id}@crossline"
    clinician_cal, _ = calendar_of(smtp.to(CLINICIAN_EMAIL)[-1])
    assert clinician_cal["METHOD"] == "CANCEL"
    assert_no_phi(raw, body_of(cancelled))


def test_without_an_e_mail_address_nothing_is_sent_and_staff_are_told(
    smtp: Mailbox, staff: Client, program: object
) -> None:
    phone_only = make_patient(email=None)
    url = f"/clinic/cases/{phone_only.case.public_id}/visit/"
    staff.post(url, proposal(in_days(4)))
    run_worker()
    assert smtp.messages == []
    assert "tell the patient the time by phone" in staff.get(url).content.decode()
