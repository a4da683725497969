"""A case's record as a FHIR R4 Bundle download: the person, the screen's answers and complete
totals, valid FHIR, audited as an export with nothing personal in the audit row."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from crossline.audit.models import Event
from crossline.clinic.models import Case
from crossline.engine import parse_answers
from crossline.fhir import response, validate
from crossline.knowledge import load
from tests.clinic.conftest import EMAIL, NAME, PHONE, OpenCase
from tests.clinic.test_record import FULL_PHQ9
from tests.web.personas import CANDIDATE

pytestmark = pytest.mark.django_db

BASE = "http://testserver/fhir/r4"


def download(client: Client, case: Case) -> dict[str, Any]:
    got = client.get(f"/clinic/cases/{case.public_id}/fhir.json")
    assert got.status_code == 200
    assert got["Content-Type"] == "application/fhir+json; charset=utf-8"
    assert got["Content-Disposition"] == (
        f'attachment; filename="crossline-case-{case.public_id}.fhir.json"'
    )
    bundle: dict[str, Any] = json.loads(got.content)
    validate(bundle)
    return bundle


def resources(bundle: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def test_the_bundle_holds_the_person_and_their_screen(intake: Client, new_case: OpenCase) -> None:
    case = new_case(FULL_PHQ9, lang="es")
    bundle = download(intake, case)
    assert bundle["type"] == "collection"
    (person,) = resources(bundle, "Patient")
    assert person["name"] == [{"text": NAME}]
    assert {t["value"] for t in person["telecom"]} == {EMAIL, PHONE}
    assert person["identifier"][0]["value"] == str(case.public_id)
    assert person["communication"][0]["language"]["coding"][0]["code"] == "es"
    (qr,) = resources(bundle, "QuestionnaireResponse")
    patient_url = bundle["entry"][0]["fullUrl"]
    assert qr["subject"] == {"reference": patient_url}
    assert qr["language"] == "es"
    assert qr["questionnaire"].endswith(f"|{case.assessment.knowledge_version}")
    k = load()
    answers = parse_answers(k, response.to_answers(k, qr, BASE))
    assert answers == parse_answers(k, case.assessment.answers)


def test_complete_totals_come_as_observations_derived_from_the_answers(
    intake: Client, new_case: OpenCase
) -> None:
    case = new_case(FULL_PHQ9)
    bundle = download(intake, case)
    qr_url = next(
        e["fullUrl"]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == "QuestionnaireResponse"
    )
    (phq9,) = [
        o for o in resources(bundle, "Observation") if o["code"]["coding"][0]["code"] == "44261-6"
    ]
    assert (
        phq9["valueQuantity"]["value"] == case.assessment.decision["scores"]["phq9"]["total"] == 10
    )
    assert phq9["derivedFrom"] == [{"reference": qr_url}]
    assert phq9["effectiveDateTime"] == case.assessment.submitted_at.isoformat(timespec="seconds")


def test_an_incomplete_phq9_has_no_total_observation(intake: Client, new_case: OpenCase) -> None:
    case = new_case(CANDIDATE)  # the short screen: PHQ-9 items asked only while uncertain
    assert case.assessment.decision["scores"]["phq9"]["complete"] is False
    bundle = download(intake, case)
    codes = {o["code"]["coding"][0]["code"] for o in resources(bundle, "Observation")}
    assert "44261-6" not in codes


def test_the_export_is_audited_without_anything_personal(
    physician: Client, new_case: OpenCase
) -> None:
    case = new_case(FULL_PHQ9)
    bundle = download(physician, case)
    (event,) = Event.objects.filter(action="record.exported")
    assert (event.patient, event.actor) == (str(case.public_id), "dr.pham")
    assert event.detail == {"format": "fhir-r4", "resources": len(bundle["entry"])}
    row = json.dumps(list(Event.objects.filter(pk=event.pk).values()), default=str)
    assert NAME not in row and EMAIL not in row and "sertraline" not in row


def test_the_record_page_links_to_the_download(intake: Client, new_case: OpenCase) -> None:
    case = new_case()
    page = intake.get(f"/clinic/cases/{case.public_id}/").content.decode()
    assert f'href="/clinic/cases/{case.public_id}/fhir.json" download' in page
