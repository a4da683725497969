"""Every error a person can meet is a page of the site with the crisis line, never Django's bare
one: a form the CSRF check refuses (CSRF_FAILURE_VIEW), a request that cannot be read (400), a
page not open to them (403), a form's address opened directly (405)."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from django.test import Client

from crossline.intake.models import Assessment

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("language", "title", "crisis"),
    [
        ("en", "This form could not be sent", "If you are in crisis, call or text 988 now"),
        (
            "es",
            "No se pudo enviar este formulario",
            "Si está en crisis, llame al 988 y oprima 2, o envíe AYUDA",
        ),
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


@pytest.mark.parametrize(
    ("language", "title"),
    [("en", "This address cannot be opened directly"), ("es", "Esta dirección no se puede abrir")],
)
def test_a_forms_address_opened_directly_is_a_page_with_the_crisis_line(
    language: str, title: str
) -> None:
    response = Client(HTTP_ACCEPT_LANGUAGE=language).get("/check/start")
    page = response.content.decode()
    assert response.status_code == 405 and response["Allow"] == "POST"
    assert response["Content-Type"].startswith("text/html")
    assert int(response["Content-Length"]) == len(response.content)  # a browser reads it
    assert f'<html lang="{language}">' in page and title in page
    assert 'class="crisis-link"' in page and 'href="/"' in page


def test_the_apis_own_405_stays_in_its_format() -> None:
    response = Client().get("/api/v1/assessments")
    assert response.status_code == 405
    assert "crisis-link" not in response.content.decode()


def test_a_request_that_cannot_be_read_is_a_page_with_the_crisis_line() -> None:
    response = Client(HTTP_HOST="not-this-site.example").get("/")
    page = response.content.decode()
    assert response.status_code == 400
    assert "This request could not be read" in page and "No se pudo leer" in page
    assert "Call or text 988" in page and "Llame al 988 y oprima 2, o envíe AYUDA al 988" in page


def test_a_host_this_site_does_not_serve_is_logged_in_one_line(caplog: Any) -> None:
    """Scanners and health checks by address: one line each, not a traceback per request."""
    with caplog.at_level(logging.WARNING, logger="django.security.DisallowedHost"):
        assert Client(HTTP_HOST="scanner.example").get("/").status_code == 400
    (record,) = [r for r in caplog.records if r.name == "django.security.DisallowedHost"]
    assert "scanner.example" in record.getMessage()
    assert record.exc_info is None and not record.exc_text


def test_a_page_not_open_to_this_browser_is_a_page_with_the_crisis_line(settings) -> None:
    from django.core.exceptions import PermissionDenied
    from django.test import RequestFactory
    from django.views.defaults import permission_denied

    request = RequestFactory(HTTP_ACCEPT_LANGUAGE="es").get("/")
    from django.utils import translation

    with translation.override("es"):
        response = permission_denied(request, PermissionDenied())
    page = response.content.decode()
    assert response.status_code == 403
    assert "No se puede abrir esta página" in page and 'class="crisis-link"' in page


def test_a_staff_page_outside_ones_roles_says_so() -> None:
    from crossline.accounts.roles import Role
    from tests.staff import signed_in, staff_user

    intake = signed_in(staff_user("roles.intake@example.org", Role.INTAKE))
    response = intake.get("/clinic/program/")  # operators' and physicians' only
    assert response.status_code == 403
    page = response.content.decode()
    assert "This page is not open to your account" in page
    assert "Your account holds the role intake, which does not include this page." in page
    assert '<nav aria-label="Workspace">' in page  # the workspace's own layout
    assert '<a href="/clinic/">Queue</a>' in page
    assert '<footer class="staff-crisis" lang="en"><a href="/crisis/">In crisis?' in page


def test_the_admin_refusing_a_clinician_is_the_workspace_page() -> None:
    from crossline.accounts.roles import Role
    from tests.staff import signed_in, staff_user

    both = signed_in(staff_user("roles.two@example.org", Role.INTAKE, Role.PHYSICIAN))
    response = both.get("/admin/")
    assert response.status_code == 403
    page = response.content.decode()
    assert "holds the roles intake, physician, which do not include this page" in page


def test_a_staff_pages_crisis_line_in_another_language_says_which() -> None:
    page = Client(HTTP_ACCEPT_LANGUAGE="es").get("/clinic/sign-in/").content.decode()
    assert '<html lang="en">' in page
    assert '<footer class="staff-crisis" lang="es"><a href="/crisis/">' in page


@pytest.mark.parametrize("path", ["/clinic/sign-in/", "/clinic/enrol/not-a-link/"])
def test_the_staff_pages_anyone_can_reach_carry_the_crisis_line(path: str) -> None:
    page = Client().get(path).content.decode()
    footer = '<footer class="staff-crisis" lang="en"><a href="/crisis/">In crisis? Call or text 988'
    assert footer in page


def test_a_refused_form_whose_body_cannot_be_read_is_still_the_page() -> None:
    broken = b'--x\r\nContent-Disposition: form-data; name="phq9.9"\r\n\r\n2'  # no end
    response = Client(enforce_csrf_checks=True).post(
        "/check/q/phq9.9/", broken, content_type="multipart/form-data; boundary=x"
    )
    assert response.status_code == 403
    assert "This form could not be sent" in response.content.decode()
