"""/api/ is anonymous and stateless: the session, sign-in, second-factor, messages and CSRF
layers step aside for it (crossline.middleware), and nothing cookie-shaped comes back."""

from __future__ import annotations

import json

import pytest
from django.core.cache import cache
from django.test import Client

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
