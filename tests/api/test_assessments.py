"""POST /api/v1/assessments: the full battery in, a stored, explained decision out."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.test import RequestFactory, override_settings

from crossline.api.assessments import result_url
from crossline.engine import Knowledge, assess
from crossline.intake.models import Assessment
from tests.api.conftest import ApiClient
from tests.engine.personas import (
    PERSONAS,
    burned_out_not_depressed,
    depressed_adult_in_florida,
    without,
)

pytestmark = pytest.mark.django_db


def engine_decision(k: Knowledge, body: dict[str, Any]) -> dict[str, Any]:
    """What the engine says, as JSON (tuples become lists)."""
    return json.loads(json.dumps(assess(k, body).to_dict()))


def test_a_submission_returns_201_with_id_decision_and_private_link(
    api: ApiClient, knowledge: Knowledge
) -> None:
    body = {"answers": depressed_adult_in_florida(), "language": "en"}
    response = api.submit(body)
    assert response.status_code == 201
    assert response["Content-Type"] == "application/json"
    data = response.json()
    assert set(data) == {"id", "decision", "result_url"}
    assert data["decision"] == engine_decision(knowledge, body)
    assert data["decision"]["eligibility"] == "candidate"
    assessment = Assessment.objects.get()
    assert data["id"] == str(assessment.public_id)
    assert data["result_url"].startswith("http://testserver/r/")


def test_the_stored_row_holds_the_validated_answers_and_the_decision(
    api: ApiClient, knowledge: Knowledge
) -> None:
    answers = depressed_adult_in_florida({"profile.state": " fl "})
    api.submit({"answers": answers, "language": "es"})
    stored = Assessment.objects.get()
    assert stored.status == Assessment.Status.SUBMITTED
    assert stored.submitted_at is not None
    assert stored.language == "es"
    assert stored.answers == {**answers, "profile.state": "FL"}  # as validated: normalised
    expected = engine_decision(knowledge, {"answers": answers, "language": "es"})
    assert stored.decision == expected
    assert (stored.eligibility, stored.safety_level, stored.triage, stored.state) == (
        "candidate",
        "none",
        "depression_likely",
        "FL",
    )
    assert stored.knowledge_version == expected["knowledge_version"]
    assert stored.policy_version == expected["policy_version"]
    assert stored.engine_version == expected["engine_version"]


def test_the_decision_is_made_from_every_answer_given_not_only_those_the_flow_asks(
    api: ApiClient, knowledge: Knowledge
) -> None:
    """The API is the full-battery path: a complete PHQ-9 counts even where the flow stops early."""
    answers = burned_out_not_depressed({**{f"phq9.{i}": 3 for i in range(3, 9)}})
    decision = api.submit({"answers": answers}).json()["decision"]
    assert decision == engine_decision(knowledge, {"answers": answers})
    assert decision["scores"]["phq9"]["complete"] is True
    assert decision["scores"]["phq9"]["total"] == 19


def test_answers_and_decision_are_encrypted_at_rest(api: ApiClient) -> None:
    answers = depressed_adult_in_florida({"medications": ["Sertraline 50 mg", "Lamotrigine"]})
    api.submit({"answers": answers})
    with connection.cursor() as cursor:
        cursor.execute("SELECT answers, decision FROM intake_assessment")
        raw_answers, raw_decision = (bytes(column) for column in cursor.fetchone())
    # Plaintext markers long enough never to turn up in random ciphertext by chance.
    for raw in (raw_answers, raw_decision):
        assert b"ertraline" not in raw and b"amotrigine" not in raw
        assert b"profile.state" not in raw and b"phq9." not in raw


@pytest.mark.parametrize("language", ["en", "es"])
def test_the_result_url_opens_the_private_result_page(api: ApiClient, language: str) -> None:
    data = api.submit({"answers": burned_out_not_depressed(), "language": language}).json()
    path = data["result_url"].removeprefix("http://testserver")
    assert api.client.get(path).status_code == 200


def test_an_altered_or_unknown_token_gives_404(api: ApiClient) -> None:
    data = api.submit({"answers": burned_out_not_depressed()}).json()
    path = data["result_url"].removeprefix("http://testserver")
    token = path.removeprefix("/r/").removesuffix("/")
    altered = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert api.client.get(f"/r/{altered}/").status_code == 404
    assert api.client.get("/r/not-a-token/").status_code == 404


def test_result_url_uses_crossline_base_url_when_configured_otherwise_the_request() -> None:
    request = RequestFactory().get("/", HTTP_HOST="127.0.0.1")
    assert result_url(request, "tok", configured=False) == "http://127.0.0.1/r/tok/"
    config = replace(settings.CROSSLINE, base_url="https://screen.example.org")
    with override_settings(CROSSLINE=config):
        assert result_url(request, "tok", configured=True) == "https://screen.example.org/r/tok/"


def test_an_incomplete_answer_set_is_accepted_as_incomplete(api: ApiClient) -> None:
    response = api.submit({"answers": without(depressed_adult_in_florida(), "profile.age")})
    assert response.status_code == 201
    decision = response.json()["decision"]
    assert decision["eligibility"] == "incomplete"
    assert "profile.age" in decision["missing"]
    assert Assessment.objects.get().eligibility == "incomplete"


def test_an_empty_answer_set_is_accepted_as_incomplete(api: ApiClient) -> None:
    response = api.submit({"answers": {}})
    assert response.status_code == 201
    assert response.json()["decision"]["eligibility"] == "incomplete"


def test_language_defaults_to_english(api: ApiClient) -> None:
    decision = api.submit({"answers": burned_out_not_depressed()}).json()["decision"]
    assert decision["language"] == "en"


@pytest.mark.parametrize("name", sorted(PERSONAS))
def test_every_persona_gets_the_engines_decision(
    api: ApiClient, knowledge: Knowledge, name: str
) -> None:
    body = {"answers": PERSONAS[name](), "language": "es"}
    response = api.submit(body)
    assert response.status_code == 201
    assert response.json()["decision"] == engine_decision(knowledge, body)


def test_each_submission_is_a_new_assessment_with_its_own_link(api: ApiClient) -> None:
    body = {"answers": burned_out_not_depressed()}
    first, second = api.submit(body).json(), api.submit(body).json()
    assert first["id"] != second["id"]
    assert first["result_url"] != second["result_url"]
    assert Assessment.objects.count() == 2
    assert not Assessment.objects.filter(idempotency_key__isnull=False).exists()


def test_acute_risk_is_stored_as_safety_first_with_crisis_resources(api: ApiClient) -> None:
    decision = api.submit({"answers": PERSONAS["acute_risk"]()}).json()["decision"]
    assert decision["eligibility"] == "safety_first"
    assert decision["safety"]["crisis_resources"] is True
    assert any(r["contact"] == "tel:988" for r in decision["safety"]["resources"])
    assert Assessment.objects.get().safety_level == "acute"
