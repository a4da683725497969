"""Fixtures for the evaluation tests: screens that reached the queue through the real intake
path (the JSON API, then the evaluation request on the person's result page), and clinicians
signed in with a verified second factor (tests/staff.py).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client

from crossline.accounts.roles import Role
from crossline.clinic.models import Case
from crossline.knowledge import load
from tests.staff import staff_client
from tests.web.personas import CANDIDATE

CONSENT = load().copy["consent"]["contact"]
NON_ACUTE = {**CANDIDATE, "phq9.9": 1, "asq.4": "yes", "asq.5": "no"}


@dataclass
class Screened:
    """A submitted screen with its evaluation request: the case and the private-link token."""

    case: Case
    token: str

    @property
    def url(self) -> str:
        return f"/clinic/cases/{self.case.public_id}/evaluation/"


def submit_screen(answers: dict[str, Any], lang: str = "en") -> str:
    """The person's screen, through the JSON API; returns the private-link token."""
    cache.clear()  # the API's per-client rate limit lives in the database cache
    response = Client().post(
        "/api/v1/assessments",
        json.dumps({"answers": answers, "language": lang}),
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    return str(response.json()["result_url"]).rstrip("/").rsplit("/", 1)[1]


def request_evaluation(token: str, lang: str = "en") -> Case:
    """The person asks for an evaluation on their result page (opens the case)."""
    form = {
        "name": "Zephyrine Quillfeather",
        "email": "zephyrine.q@example.org",
        "phone": "(201) 555-0147",
        "state": "FL",
        "consent": "on",
        "consent_version": CONSENT["version"],
    }
    client = Client(HTTP_ACCEPT_LANGUAGE=lang)
    response = client.post(f"/r/{token}/request", {f"evaluation-{k}": v for k, v in form.items()})
    assert response.status_code == 302, response.content[:300]
    return Case.objects.get(assessment__public_id=_public_id(token))


def _public_id(token: str) -> Any:
    from crossline.intake.models import Assessment

    found = Assessment.by_token(token)
    assert found is not None
    return found.public_id


@pytest.fixture
def screened(db: None) -> Callable[..., Screened]:
    def _make(answers: dict[str, Any] | None = None, lang: str = "en") -> Screened:
        token = submit_screen(answers or CANDIDATE, lang)
        return Screened(request_evaluation(token, lang), token)

    return _make


@pytest.fixture
def candidate(screened: Callable[..., Screened]) -> Screened:
    return screened(CANDIDATE)


def clinician(role: Role | None, name: str) -> Client:
    """A client signed in as a new user with `role` (or none), second factor verified."""
    roles = [role] if role is not None else []
    return staff_client(name, *roles, email=f"{name}@example.org", password=None)[0]


@pytest.fixture
def physician(db: None) -> Client:
    return clinician(Role.PHYSICIAN, "dr.house")


@pytest.fixture
def intake(db: None) -> Client:
    return clinician(Role.INTAKE, "nurse.joy")


@pytest.fixture
def operator(db: None) -> Client:
    return clinician(Role.OPERATOR, "op.erator")
