"""/api/ is anonymous and stateless: the session, sign-in, second-factor, messages and CSRF
layers step aside for it (crossline.middleware), and nothing cookie-shaped comes back."""

from __future__ import annotations

import json

import pytest
from django.core.cache import cache
from django.test import Client

from crossline.fhir import validate
from tests.web.personas import CANDIDATE

pytestmark = pytest.mark.django_db


def test_a_submission_sets_no_cookie_and_varies_on_none() -> None:
    cache.clear()
    client = Client(enforce_csrf_checks=True)
    client.cookies["sessionid"] = "not-a-session"
    response = client.post(
        "/api/v1/assessments",
        json.dumps({"answers": CANDIDATE, "language": "en"}),
        content_type="application/json",
    )
    assert response.status_code == 201
    assert not response.cookies
    assert "Cookie" not in response.get("Vary", "")
    assert not hasattr(response.wsgi_request, "session")
    assert not hasattr(response.wsgi_request, "user")


def test_pages_keep_the_whole_stack() -> None:
    response = Client().get("/")
    assert hasattr(response.wsgi_request, "session")
    assert hasattr(response.wsgi_request, "user")


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("get", "/api/v1/nothing-here", 404),
        ("post", "/api/v1/assessments/", 404),  # a trailing slash is another address
        ("put", "/api/v1/assessments", 405),
        ("get", "/api/v1/flow/next", 405),
        ("get", "/cds-services/crossline-ketamine-order-sign", 405),
        ("post", "/cds-services", 405),
    ],
)
def test_unknown_addresses_and_methods_are_refused_in_the_apis_own_shape(
    method: str, path: str, status: int
) -> None:
    """Not Django's HTML page nor ninja's bare text: every refusal is `{"errors": [...]}`."""
    response = Client().generic(method.upper(), path, "{}", content_type="application/json")
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    (error,) = response.json()["errors"]
    assert error["field"] == "$" and error["message"]
    if status == 405:
        assert response["Allow"] and response["Allow"] in error["message"]


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("get", "/fhir/r4/Patient/1", 404, "not-found"),
        ("post", "/fhir/r4/Questionnaire", 405, "not-supported"),
    ],
)
def test_fhir_refuses_unknown_addresses_and_methods_with_an_operation_outcome(
    method: str, path: str, status: int, code: str
) -> None:
    response = getattr(Client(), method)(path)
    assert response.status_code == status
    assert response["Content-Type"] == "application/fhir+json; charset=utf-8"
    outcome = response.json()
    validate(outcome)
    assert outcome["issue"][0]["code"] == code


def test_a_views_own_json_refusal_is_kept() -> None:
    response = Client().get("/fhir/r4/Questionnaire/unknown")
    assert response.status_code == 404
    assert "Questionnaire/unknown" in response.json()["issue"][0]["diagnostics"]
