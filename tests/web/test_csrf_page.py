"""A form the CSRF check refuses gets crossline's page (CSRF_FAILURE_VIEW), never Django's bare
one: 403, the crisis line on top in the person's language, what happened, nothing stored."""

from __future__ import annotations

import pytest
from django.test import Client

from crossline.intake.models import Assessment

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("language", "title", "crisis"),
    [
        ("en", "This form could not be sent", "If you are in crisis, call or text 988 now"),
        ("es", "No se pudo enviar este formulario", "Si está en crisis, llame o envíe un mensaje"),
    ],
)
def test_a_refused_form_is_a_page_of_the_site_in_the_persons_language(
    language: str, title: str, crisis: str
) -> None:
    client = Client(enforce_csrf_checks=True, HTTP_ACCEPT_LANGUAGE=language)
    response = client.post("/check/start")
    page = response.content.decode()
    assert response.status_code == 403
    assert f'<html lang="{language}">' in page and f"<h1>{title}</h1>" in page
    assert 'class="crisis-link"' in page and "988" in page.split("<main", 1)[0]
    assert crisis in page
    assert "crisis-panel" not in page  # nothing posted shows risk
    assert "CSRF" not in page and "<style>" not in page  # not Django's page (inline style)
    assert not Assessment.objects.exists()


def test_a_refused_answer_that_shows_risk_brings_the_crisis_resources() -> None:
    client = Client(enforce_csrf_checks=True)
    response = client.post("/check/q/phq9.9/", {"phq9.9": "2"})
    page = response.content.decode()
    assert response.status_code == 403
    assert 'class="crisis-panel" role="alert"' in page
    assert 'href="tel:988"' in page
    assert 'name="next" value="/"' in page  # the language switch leads to the start page


def test_staff_forms_get_the_same_page() -> None:
    response = Client(enforce_csrf_checks=True).post("/clinic/sign-in/", {"username": "x"})
    assert response.status_code == 403
    assert "This form could not be sent" in response.content.decode()
