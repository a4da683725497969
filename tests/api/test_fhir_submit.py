"""POST /api/v1/assessments with a FHIR QuestionnaireResponse (`application/fhir+json`): what a
FHIR form wrote, answered with the same stored, explained decision as the contract's JSON."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from crossline.audit.models import Event
from crossline.engine import evaluate, parse_answers
from crossline.fhir.response import from_answers
from crossline.intake.models import Assessment
from crossline.knowledge import load
from tests.engine.personas import acute_risk, burned_out_not_depressed, candidate_ready

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("one_rate_window")]

BASE = "http://testserver/fhir/r4"
URL = "/api/v1/assessments"


def post(body: Any, key: str | None = None) -> Any:
    headers = {} if key is None else {"Idempotency-Key": key}
    data = body if isinstance(body, bytes) else json.dumps(body)
    return Client().post(URL, data, content_type="application/fhir+json", headers=headers)


def response_for(answers: dict[str, Any], language: str = "en", **fields: Any) -> dict[str, Any]:
    k = load()
    qr = from_answers(k, parse_answers(k, answers), BASE, language)
    return {**qr, **fields}


@pytest.mark.parametrize(
    "persona", [candidate_ready, burned_out_not_depressed, acute_risk], ids=lambda p: p.__name__
)
def test_a_response_gets_the_decision_the_same_answers_get_as_json(persona: Any) -> None:
    answers = persona()
    fhir = post(response_for(answers))
    assert fhir.status_code == 201, fhir.content
    k = load()
    expected = evaluate(k, parse_answers(k, answers), "en").to_dict()
    assert fhir.json()["decision"] == expected
    stored = Assessment.objects.get(public_id=fhir.json()["id"])
    assert stored.answers == json.loads(json.dumps(parse_answers(k, answers)))
    assert Event.objects.filter(action="assessment.submitted").count() == 1


def test_the_responses_language_picks_the_decisions() -> None:
    qr = response_for(acute_risk(), language="es")
    qr["language"] = "es-US"  # a regional tag reads as its language
    answered = post(qr)
    assert answered.status_code == 201
    decision = answered.json()["decision"]
    assert decision["safety"]["level"] == "acute"
    assert decision["safety"]["resources"][0]["label"].startswith("Llame al 988")


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Accept-Language": "es-MX,es;q=0.9,en;q=0.5"}, "es"),
        ({"Content-Language": "es"}, "es"),
        ({"Content-Language": "fr", "Accept-Language": "es"}, "es"),
        ({"Content-Language": "en", "Accept-Language": "es"}, "en"),
        ({"Accept-Language": "es;q=0, en"}, "en"),
        ({}, "en"),
    ],
)
def test_a_response_without_its_language_takes_the_requests(
    headers: dict[str, str], expected: str
) -> None:
    """LHC-Forms leaves `language` out of the response it writes: the request's
    Content-Language, else its Accept-Language, then says which language the person used."""
    qr = response_for(acute_risk(), language="es")
    del qr["language"]
    answered = Client().post(
        URL, json.dumps(qr), content_type="application/fhir+json", headers=headers
    )
    assert answered.status_code == 201, answered.content
    label = answered.json()["decision"]["safety"]["resources"][0]["label"]
    assert label.startswith("Llame al 988") == (expected == "es"), label
    assert Assessment.objects.get(public_id=answered.json()["id"]).language == expected


def test_the_responses_own_language_wins_over_the_requests() -> None:
    qr = response_for(acute_risk(), language="en")
    headers = {"Content-Language": "es", "Accept-Language": "es"}
    answered = Client().post(
        URL, json.dumps(qr), content_type="application/fhir+json", headers=headers
    )
    assert answered.status_code == 201
    assert answered.json()["decision"]["safety"]["resources"][0]["label"].startswith("Call")


def test_an_in_progress_response_is_an_incomplete_assessment_never_zeros() -> None:
    answers = {k: v for k, v in candidate_ready().items() if k != "phq9.9"}
    answered = post(response_for(answers, status="in-progress"))
    assert answered.status_code == 201
    decision = answered.json()["decision"]
    assert decision["eligibility"] == "incomplete" and "phq9.9" in decision["missing"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda qr: qr.update(resourceType="Patient"), "resourceType"),
        (lambda qr: qr.update(status="entered-in-error"), "status"),
        (lambda qr: qr.update(status="bogus"), "status"),
        (
            lambda qr: qr.update(questionnaire="http://elsewhere/Questionnaire/phq9"),
            "questionnaire",
        ),
        (lambda qr: qr.update(language="fr"), "language"),
        (lambda qr: qr.update(item="many"), "item"),
        (
            lambda qr: qr["item"].append({"linkId": "phq9.99", "answer": [{"valueInteger": 1}]}),
            "phq9.99",
        ),
        (lambda qr: _answer(qr, "profile.age", {"valueInteger": 700}), "profile.age"),
        (lambda qr: _answer(qr, "profile.age", {"valueString": "forty"}), "profile.age"),
        # Groups in groups, hundreds deep (8 KB): fhir.resources' validation ran out of stack.
        (lambda qr: qr.update(item=[_nested(300)]), "$"),
    ],
)
def test_what_cannot_be_accepted_is_named_and_nothing_is_stored(change: Any, field: str) -> None:
    qr = response_for(candidate_ready())
    change(qr)
    refused = post(qr)
    assert refused.status_code == 422, refused.content
    fields = [e["field"] for e in refused.json()["errors"]]
    assert any(f == field or f.startswith(f"{field}.") for f in fields), fields
    assert Assessment.objects.count() == 0 and not Event.objects.exists()


def _nested(depth: int) -> dict[str, Any]:
    item: dict[str, Any] = {"linkId": "phq9.1", "answer": [{"valueInteger": 1}]}
    for level in range(depth):
        item = {"linkId": f"group{level}", "item": [item]}
    return item


def _answer(qr: dict[str, Any], link_id: str, answer: dict[str, Any]) -> None:
    for group in qr["item"]:
        for item in group.get("item", [group]):
            if item["linkId"] == link_id:
                item["answer"] = [answer]
                return
    raise AssertionError(link_id)


def test_a_retry_with_the_same_key_is_the_same_assessment() -> None:
    qr = response_for(candidate_ready())
    first, again = post(qr, key="fhir-1"), post(qr, key="fhir-1")
    assert (first.status_code, again.status_code) == (201, 201)
    assert first.json()["id"] == again.json()["id"] and again["Idempotent-Replayed"] == "true"
    assert Assessment.objects.count() == 1


def test_the_openapi_document_offers_both_bodies() -> None:
    document = Client().get("/api/v1/openapi.json").json()
    content = document["paths"][URL]["post"]["requestBody"]["content"]
    assert set(content) == {"application/json", "application/fhir+json"}


def test_a_bad_response_and_a_bad_key_are_reported_together() -> None:
    qr = response_for(candidate_ready(), status="stopped")
    refused = post(qr, key="x" * 300)
    assert refused.status_code == 422
    fields = {e["field"] for e in refused.json()["errors"]}
    assert {"status", "Idempotency-Key"} <= fields, fields
