"""Security basics for a public health form (issue 3 §8), through Django's test client: the
headers on the pages that carry answers, CSRF on the flow's POSTs, and the request size limit."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from crossline.intake.models import Assessment
from tests.ops.personas import FEW_SYMPTOMS
from web_client import screen_form

pytestmark = pytest.mark.django_db

LIMIT = 64 * 1024


def walk(client: Client, answers: dict[str, Any]) -> tuple[Any, str]:
    """Take the assessment; returns (the first question's page, the result path)."""
    client.post("/check/start")
    location = client.get("/check/")["Location"]
    question = client.get(location)
    while not location.startswith("/r/"):
        screen = location.removeprefix("/check/q/").strip("/")
        location = client.post(location, screen_form(screen, answers))["Location"]
    return question, location


def csp(response: Any) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    directives = (d.split() for d in header.split(";") if d.strip())
    return {d[0]: d[1:] for d in directives}


@pytest.fixture
def pages() -> dict[str, Any]:
    client = Client()
    home = client.get("/")
    question, result = walk(client, FEW_SYMPTOMS)
    return {
        "home": home,
        "question": question,
        "result": client.get(result),
        "print": client.get(result + "print"),
    }


def test_every_page_has_a_strict_content_security_policy(pages: dict[str, Any]) -> None:
    for name, page in pages.items():
        assert page.status_code == 200, name
        policy = csp(page)
        assert policy["default-src"] == ["'self'"]
        assert policy["script-src"] == ["'self'"], name  # no 'unsafe-inline', no eval, no CDN
        assert "'unsafe-inline'" not in page["Content-Security-Policy"]
        assert policy["frame-ancestors"] == ["'none'"]
        assert policy["object-src"] == ["'none'"]


def test_every_page_has_the_privacy_headers(pages: dict[str, Any]) -> None:
    for name, page in pages.items():
        assert page["X-Content-Type-Options"] == "nosniff", name
        assert page["Referrer-Policy"] == "no-referrer", name
        assert page["X-Frame-Options"] == "DENY", name


@pytest.mark.parametrize("name", ["question", "result", "print"])
def test_pages_with_answers_are_never_cached(pages: dict[str, Any], name: str) -> None:
    assert pages[name]["Cache-Control"] == "no-store"


def test_no_hsts_over_plain_http(pages: dict[str, Any]) -> None:
    # HSTS over TLS is tested with production settings in test_config.py.
    assert "Strict-Transport-Security" not in pages["home"]


def test_starting_an_assessment_without_the_csrf_token_is_refused() -> None:
    client = Client(enforce_csrf_checks=True)
    client.get("/")
    assert client.post("/check/start").status_code == 403
    assert not Assessment.objects.exists()


def test_answering_without_the_csrf_token_is_refused() -> None:
    client = Client(enforce_csrf_checks=True)
    home = client.get("/")
    token = client.cookies["csrftoken"].value
    assert home.status_code == 200
    started = client.post("/check/start", {"csrfmiddlewaretoken": token})
    assert started.status_code == 302
    refused = client.post("/check/q/phq9.1/", {"phq9.1": "3"})
    assert refused.status_code == 403
    assert Assessment.objects.get().answers == {}
    accepted = client.post("/check/q/phq9.1/", {"phq9.1": "3"}, headers={"X-CSRFToken": token})
    assert accepted.status_code == 302
    assert Assessment.objects.get().answers == {"phq9.1": 3}


def test_an_oversized_answer_is_refused_with_413_and_nothing_stored() -> None:
    client = Client()
    client.post("/check/start")
    body = "phq9.1=1&padding=" + "x" * LIMIT
    response = client.post(
        "/check/q/phq9.1/", body, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 413
    assert Assessment.objects.get().answers == {}
    page = response.content.decode()  # a page of the site, with the crisis line
    assert "This form is too long to send" in page and 'class="crisis-link"' in page
    spanish = Client(HTTP_ACCEPT_LANGUAGE="es").post(
        "/check/q/phq9.1/", body, content_type="application/x-www-form-urlencoded"
    )
    assert spanish.status_code == 413
    assert "demasiado largo" in spanish.content.decode()
    assert '<html lang="es">' in spanish.content.decode()


def test_an_oversized_api_submission_is_refused_with_413_and_nothing_stored() -> None:
    body = json.dumps({"answers": {"profile.state": "FL"}, "padding": "x" * LIMIT})
    response = Client().post("/api/v1/assessments", body, content_type="application/json")
    assert response.status_code == 413
    assert response.json()["errors"][0]["field"] == "$"
    assert not Assessment.objects.exists()
