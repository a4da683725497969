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
    answer_visit,
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
    answer_visit(patient, "confirm")
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
    answer_visit(patient, "confirm", HTTP_ACCEPT_LANGUAGE="es")
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
    answer_visit(patient, "reschedule", message="Quillfeather evenings")
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


# --- a confirmed time that no longer stands: both calendars drop it ------------------------------


def cancels(messages: list[EmailMessage]) -> list[EmailMessage]:
    return [m for m in messages for p in m.walk() if p.get_param("method") == "CANCEL"]


def event_of(message: EmailMessage) -> tuple[str, Any]:
    cal, _ = calendar_of(message)
    [event] = cal.walk("VEVENT")
    return str(cal["METHOD"]), event


def test_the_cancellation_outranks_the_invitation_it_withdraws(
    smtp: Mailbox, staff: Client, patient: Patient
) -> None:
    """RFC 5546 §3.2.5: a CANCEL carries a SEQUENCE above the REQUEST's, or calendar programs
    take it for an old copy and keep the event."""
    visit = propose_and_confirm(staff, patient, smtp)
    staff.post(f"/clinic/cases/{patient.case.public_id}/visit/{visit.public_id}/cancel")
    run_worker()
    for address in (PATIENT_EMAIL, CLINICIAN_EMAIL):
        invited, cancelled = (event_of(m) for m in smtp.to(address)[-2:])
        assert (invited[0], cancelled[0]) == ("REQUEST", "CANCEL")
        assert str(cancelled[1]["UID"]) == str(invited[1]["UID"])
        assert cancelled[1]["SEQUENCE"] > invited[1]["SEQUENCE"]


def test_a_new_time_for_a_confirmed_visit_cancels_the_old_event_on_both_sides(
    smtp: Mailbox, staff: Client, patient: Patient
) -> None:
    old = propose_and_confirm(staff, patient, smtp)
    [(_, held)] = [event_of(smtp.to(PATIENT_EMAIL)[-1])]
    staff.post(f"/clinic/cases/{patient.case.public_id}/visit/", proposal(in_days(6, hour=19)))
    run_worker()

    *_, cancelled, notice = smtp.to(PATIENT_EMAIL)
    method, event = event_of(cancelled)
    assert method == "CANCEL" and str(event["UID"]) == str(held["UID"])
    assert event.decoded("DTSTART") == old.starts_at  # the time that no longer stands
    assert event["SEQUENCE"] > held["SEQUENCE"]
    assert "proposed a new time" in body_of(cancelled)
    assert str(cancelled["Subject"]) == "crossline: The time of your video visit has changed"
    assert "proposed a time" in body_of(notice)  # the new time, to confirm or not
    assert not [p for p in notice.walk() if p.get_content_type() == "text/calendar"]
    to_clinician = smtp.to(CLINICIAN_EMAIL)[-1]
    method, event = event_of(to_clinician)
    assert method == "CANCEL" and str(event["UID"]) == str(held["UID"])
    assert "new time was proposed" in body_of(to_clinician)
    for message in (cancelled, to_clinician):
        assert_no_phi(body_of(message), calendar_of(message)[1])

    # The old visit is cancelled; the new time is a visit of its own, with its own event.
    old.refresh_from_db()
    assert old.status == "cancelled"
    new = Visit.objects.get(case=patient.case, status="proposed")
    assert new.starts_at == in_days(6, hour=19)
    answer_visit(patient, "confirm")
    run_worker()
    for address in (PATIENT_EMAIL, CLINICIAN_EMAIL):
        method, event = event_of(smtp.to(address)[-1])
        assert method == "REQUEST" and str(event["UID"]) == f"visit-{new.public_id}@crossline"
        assert event.decoded("DTSTART") == new.starts_at


def test_asking_for_another_time_after_confirming_takes_the_event_out_of_both_calendars(
    smtp: Mailbox, staff: Client, patient: Patient
) -> None:
    visit = propose_and_confirm(staff, patient, smtp)
    before = len(smtp.to(CLINICIAN_EMAIL))
    answer_visit(patient, "reschedule", message="Quillfeather evenings")
    # The clinic proposes a new time before the worker has sent anything: the cancellations
    # still carry the time the patient had confirmed.
    staff.post(f"/clinic/cases/{patient.case.public_id}/visit/", proposal(in_days(6, hour=19)))
    run_worker()

    to_patient = [m for m in smtp.to(PATIENT_EMAIL) if "another time" in str(m["Subject"])]
    [to_patient] = to_patient
    [to_clinician] = smtp.to(CLINICIAN_EMAIL)[before:]  # one message, not a notice and a cancel
    for message in (to_patient, to_clinician):
        method, event = event_of(message)
        assert method == "CANCEL" and str(event["UID"]) == f"visit-{visit.public_id}@crossline"
        assert event.decoded("DTSTART") == visit.starts_at
        assert_no_phi(body_of(message), calendar_of(message)[1])
        assert "evenings" not in body_of(message)
    assert "You asked for another time" in body_of(to_patient)
    assert "asked for another time" in body_of(to_clinician)
    assert "Propose a new time" in body_of(to_clinician)
    assert len(cancels(smtp.messages)) == 2  # withdrawn once, not again at the new proposal
    sent = Event.objects.filter(action="notification.sent").values_list("detail", flat=True)
    assert {"to": "clinician", "kind": "visit.cancellation.patient_asked"} in list(sent)


def test_a_spanish_speaker_is_told_in_spanish_that_the_confirmed_time_changed(
    smtp: Mailbox, staff: Client, program: object
) -> None:
    patient = make_patient(lang="es")
    staff.post(f"/clinic/cases/{patient.case.public_id}/visit/", proposal(in_days(4)))
    answer_visit(patient, "confirm", HTTP_ACCEPT_LANGUAGE="es")
    staff.post(f"/clinic/cases/{patient.case.public_id}/visit/", proposal(in_days(5)))
    run_worker()
    [cancelled] = cancels(smtp.to(PATIENT_EMAIL))
    assert str(cancelled["Subject"]) == "crossline: Cambió la hora de su visita por video"
    assert "nueva hora" in body_of(cancelled)
    assert "hora del Este" in body_of(cancelled)
    assert "Visita de telesalud de crossline" in calendar_of(cancelled)[1]


def test_a_spanish_speaker_who_asks_for_another_time_is_answered_in_spanish(
    smtp: Mailbox, staff: Client, program: object
) -> None:
    patient = make_patient(lang="es")
    staff.post(f"/clinic/cases/{patient.case.public_id}/visit/", proposal(in_days(4)))
    for answer in ("confirm", "reschedule"):
        answer_visit(patient, answer, HTTP_ACCEPT_LANGUAGE="es")
    run_worker()
    [cancelled] = cancels(smtp.to(PATIENT_EMAIL))
    assert "Usted pidió otra hora para su visita por video" in str(cancelled["Subject"])
    assert "propondrá una nueva hora" in body_of(cancelled)
