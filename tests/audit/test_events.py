"""Patient-side events (by token id only) and the operator's audit search."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from crossline.audit.log import verify
from crossline.audit.models import Event
from crossline.clinic.models import Case, Urgency
from tests.staff import staff_client
from tests.web.test_contact import (
    CANDIDATE,
    EMAIL,
    NAME,
    NON_ACUTE,
    PHONE,
    contact_me_form,
    evaluation_form,
    submitted,
)

pytestmark = pytest.mark.django_db


def _no_phi(events: list[Event]) -> None:
    text = json.dumps([[e.actor, e.patient, e.object_id, e.detail] for e in events])
    for secret in (NAME, EMAIL, EMAIL.lower(), PHONE, "2015550147"):
        assert secret not in text


def test_an_evaluation_request_opens_a_case_and_records_an_event(tmp_path) -> None:
    assessment, token = submitted(CANDIDATE, "candidate")
    assert Client().post(f"/r/{token}/request", evaluation_form()).status_code == 302
    case = Case.objects.get()
    assert case.assessment == assessment and case.urgency == Urgency.ROUTINE
    assert case.evaluation_requested and not case.contact_requested and case.due_at is None
    event = Event.objects.get(action="contact.created")
    assert event.actor == "anonymous" and event.patient == str(case.public_id)
    assert event.detail == {"kind": "evaluation"}
    _no_phi(list(Event.objects.all()))
    assert verify(tmp_path / "anchors").ok


def test_a_safety_contact_request_is_urgent_with_a_deadline() -> None:
    _, token = submitted(NON_ACUTE, "candidate")
    assert Client().post(f"/r/{token}/contact", contact_me_form()).status_code == 302
    case = Case.objects.get()
    assert case.urgency == Urgency.NON_ACUTE and case.contact_requested
    assert case.due_at is not None
    assert (case.due_at - case.opened_at).total_seconds() == 8 * 3600  # PRODUCT.md default


def test_search_is_for_operators_and_is_itself_audited() -> None:
    _, token = submitted(CANDIDATE, "candidate")
    Client().post(f"/r/{token}/request", evaluation_form())
    case = Case.objects.get()

    operator, _ = staff_client("op@example.org", "operator")
    html = operator.get("/clinic/audit/", {"patient": str(case.public_id)}).content.decode()
    assert "contact.created" in html
    assert Event.objects.filter(action="audit.searched").count() == 1
    _no_phi(list(Event.objects.all()))

    bad = operator.get("/clinic/audit/", {"patient": "not-a-uuid"})
    assert "Enter a case or assessment id" in bad.content.decode()

    clinician, _ = staff_client("dr@example.org", "physician")
    assert clinician.get("/clinic/audit/").status_code == 403
    assert Event.objects.filter(action="permission.denied", actor="dr@example.org").exists()
    anonymous = Client().get("/clinic/audit/")
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/clinic/sign-in/")
