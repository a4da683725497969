"""The contact consent in force: the newest version an operator published, else the knowledge
copy's wording; the version a person was shown is the version their request stores."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from crossline.intake import contact
from crossline.intake.models import ContactRequest
from crossline.knowledge import load
from crossline.program.models import ConsentText
from tests.screens import submitted as screen
from tests.web.personas import CANDIDATE

pytestmark = pytest.mark.django_db

BUILT_IN = load().copy["consent"]["contact"]


def submitted(answers: dict[str, Any], lang: str = "en") -> str:
    return screen(answers, lang)[1]


def publish(version: str, en: str, es: str, kind: str = "contact") -> ConsentText:
    return ConsentText.objects.create(
        kind=kind, version=version, text_en=en, text_es=es, published_at=timezone.now()
    )


def shown_version(html: str) -> str:
    match = re.search(r'name="evaluation-consent_version" value="([^"]*)"', html)
    assert match, "no consent version on the page"
    return match.group(1)


def post_request(client: Client, token: str, version: str) -> Any:
    form = {
        "name": "Test Person",
        "email": "person@example.org",
        "state": "FL",
        "consent": "on",
        "consent_version": version,
    }
    return client.post(f"/r/{token}/request", {f"evaluation-{k}": v for k, v in form.items()})


def test_without_a_published_version_the_knowledge_copy_applies():
    ConsentText.objects.create(kind="contact", version="draft-1", text_en="D", text_es="D")
    c = contact.consent(load(), "es")
    assert (c.version, c.text) == (BUILT_IN["version"], BUILT_IN["text"]["es"])


def test_the_newest_published_contact_version_applies_in_both_languages():
    publish("v1", "First EN", "Primero ES")
    publish("v2", "Second EN", "Segundo ES")
    publish("t1", "Treatment EN", "Tratamiento ES", kind="treatment")
    ConsentText.objects.create(kind="contact", version="v3-draft", text_en="D", text_es="D")
    assert contact.consent(load(), "en") == contact.Consent("v2", "Second EN")
    assert contact.consent(load(), "es") == contact.Consent("v2", "Segundo ES")


def test_the_version_shown_is_the_version_stored():
    publish("2027-01-15", "I agree to be contacted (published wording).", "Acepto (publicada).")
    client = Client()
    token = submitted(CANDIDATE)
    html = client.get(f"/r/{token}/").content.decode()
    assert "I agree to be contacted (published wording)." in html
    version = shown_version(html)
    assert version == "2027-01-15"
    response = post_request(client, token, version)
    assert response.status_code in (302, 303), response.content.decode()[:500]
    assert ContactRequest.objects.get().consent_version == "2027-01-15"


def test_a_version_published_after_the_page_opened_asks_to_read_again():
    client = Client()
    token = submitted(CANDIDATE)
    old = shown_version(client.get(f"/r/{token}/").content.decode())
    assert old == BUILT_IN["version"]
    publish("2027-02-01", "A newer wording.", "Una redacción más nueva.")
    response = post_request(client, token, old)
    assert response.status_code == 422
    assert "consent wording has changed" in response.content.decode()
    assert not ContactRequest.objects.exists()
