"""/fhir/r4: the CapabilityStatement and the assessment Questionnaire, read and searched, as
an EHR or research system would fetch them. Every body is checked with fhir.resources."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client, override_settings

from crossline.config import Config
from crossline.fhir import validate
from crossline.knowledge import load

pytestmark = pytest.mark.django_db

BASE = "http://testserver/fhir/r4"
Q_URL = f"{BASE}/Questionnaire/crossline-assessment"


def fetch(path: str, status: int = 200, client: Client | None = None) -> dict[str, Any]:
    response = (client or Client()).get(path, headers={"Accept": "application/fhir+json"})
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/fhir+json; charset=utf-8"
    resource: dict[str, Any] = json.loads(response.content)
    validate(resource)
    return resource


def test_the_capability_statement_says_what_the_server_does() -> None:
    cs = fetch("/fhir/r4/metadata")
    assert (cs["resourceType"], cs["fhirVersion"], cs["format"]) == (
        "CapabilityStatement",
        "4.0.1",
        ["json"],
    )
    (rest,) = cs["rest"]
    (questionnaires,) = rest["resource"]
    assert questionnaires["type"] == "Questionnaire"
    assert {i["code"] for i in questionnaires["interaction"]} == {"read", "search-type"}
    assert cs["implementation"]["url"] == BASE


def test_the_assessment_questionnaire_is_read_by_its_id() -> None:
    q = fetch("/fhir/r4/Questionnaire/crossline-assessment")
    assert (q["id"], q["url"], q["version"]) == ("crossline-assessment", Q_URL, load().version)
    linked = {i["linkId"] for g in q["item"] for i in g.get("item", [g])}
    assert {"phq9.9", "asq.5", "profile.state", "medications"} <= linked


def test_an_unknown_questionnaire_is_a_404_operation_outcome() -> None:
    outcome = fetch("/fhir/r4/Questionnaire/phq-9", status=404)
    assert outcome["resourceType"] == "OperationOutcome"
    assert outcome["issue"][0]["code"] == "not-found"
    assert "Questionnaire/phq-9" in outcome["issue"][0]["diagnostics"]


@pytest.mark.parametrize(
    ("query", "total"),
    [
        ("", 1),
        ("?_id=crossline-assessment", 1),
        ("?_id=other", 0),
        (f"?url={Q_URL}", 1),
        (f"?url={Q_URL}|{load().version}", 1),
        (f"?url={Q_URL}|sha256:0000", 0),
        ("?unknown-parameter=1", 1),  # FHIR's lenient handling: ignored
    ],
)
def test_a_search_returns_a_searchset_bundle(query: str, total: int) -> None:
    bundle = fetch(f"/fhir/r4/Questionnaire{query.replace('|', '%7C')}")
    assert (bundle["type"], bundle["total"], len(bundle["entry"])) == ("searchset", total, total)
    for entry in bundle["entry"]:
        assert entry["fullUrl"] == Q_URL
        assert entry["resource"]["id"] == "crossline-assessment"


def test_urls_follow_the_configured_base_url(settings: Any) -> None:
    configured = Config(**{**vars(settings.CROSSLINE), "base_url": "https://screen.example.org",
                           "base_url_configured": True})  # fmt: skip
    with override_settings(CROSSLINE=configured):
        q = fetch("/fhir/r4/Questionnaire/crossline-assessment")
    assert q["url"] == "https://screen.example.org/fhir/r4/Questionnaire/crossline-assessment"


def test_fhir_is_stateless_like_the_api() -> None:
    client = Client(enforce_csrf_checks=True)
    client.cookies["sessionid"] = "not-a-session"
    response = client.get("/fhir/r4/metadata")
    assert response.status_code == 200
    assert not response.cookies
    assert not hasattr(response.wsgi_request, "session")


@pytest.mark.parametrize(
    ("accept", "language"),
    [
        ("es-US,es;q=0.9,en;q=0.8", "es"),
        ("en;q=0.5, es", "es"),
        ("fr-FR, es;q=0.3", "es"),
        ("en-US", "en"),
        ("fr, de", "en"),
        ("", "en"),
        ("es;q=0, fr", "en"),  # q=0 means "not Spanish"
        ("es;q=0, en;q=0", "en"),
    ],
)
def test_the_questionnaire_comes_in_the_language_the_client_prefers(
    accept: str, language: str
) -> None:
    k = load()
    for path in ("/fhir/r4/Questionnaire/crossline-assessment", "/fhir/r4/Questionnaire"):
        response = Client().get(path, headers={"Accept-Language": accept})
        assert response["Content-Language"] == language
        assert "Accept-Language" in response["Vary"]
        resource = json.loads(response.content)
        validate(resource)
        q = resource if path.endswith("assessment") else resource["entry"][0]["resource"]
        assert q["language"] == language
        assert q["item"][0]["text"] == k.docs["resources.toml"]["banner"][language]
        other = "en" if language == "es" else "es"
        nine = next(i for g in q["item"] for i in g.get("item", []) if i["linkId"] == "phq9.9")
        assert nine["text"] == k.items["phq9.9"].text[language]  # the validated wording
        (translation,) = nine["_text"]["extension"]
        assert {e["url"]: e for e in translation["extension"]}["lang"]["valueCode"] == other
