"""A person leaves contact details: an evaluation request (candidates) or "contact me" (at risk).

Contact details are PHI: the specifications below also check that they reach the database only
encrypted, never appear in the logs, and that bad input stores nothing.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from crossline.crypto import blind_index
from crossline.intake import contact
from crossline.intake.contact import earlier_screens
from crossline.intake.models import Assessment, ContactRequest
from crossline.knowledge import load
from tests.screens import submitted as screen
from tests.web.personas import BURNOUT_ONLY, CANDIDATE

pytestmark = pytest.mark.django_db

CONSENT = load().copy["consent"]["contact"]


EXCLUDED = {**CANDIDATE, "medical.pregnant": "yes"}
OUT_OF_AREA = {**CANDIDATE, "profile.state": "TX"}
UNDER_AGE = {**CANDIDATE, "profile.age": 16}
NON_ACUTE = {**CANDIDATE, "phq9.9": 1, "asq.4": "yes", "asq.5": "no"}
ACUTE = {**CANDIDATE, "phq9.9": 2, "asq.1": "yes", "asq.3": "yes", "asq.5": "yes"}

NAME = "Zephyrine Quillfeather"  # distinctive: found nowhere unless the form put it there
EMAIL = "Zephyrine.Q@Example.org"
PHONE = "(201) 555-0147"
PHONE_DIGITS = "2015550147"


def submitted(answers: dict[str, Any], expect: str, lang: str = "en") -> tuple[Assessment, str]:
    """A submitted screen, as the web flow stores it; `expect` is its eligibility."""
    assessment, token = screen(answers, lang)
    assert assessment.eligibility == expect, assessment.decision["eligibility"]
    return assessment, token


def evaluation_form(**overrides: str) -> dict[str, str]:
    form = {
        "name": NAME,
        "email": EMAIL,
        "phone": PHONE,
        "state": "FL",
        "consent": "on",
        "consent_version": CONSENT["version"],
        **overrides,
    }
    return {f"evaluation-{k}": v for k, v in form.items() if v is not None}


def contact_me_form(**overrides: str) -> dict[str, str]:
    form = {"phone": PHONE, "consent": "on", "consent_version": CONSENT["version"], **overrides}
    return {f"contact-{k}": v for k, v in form.items() if v is not None}


def page(client: Client, token: str) -> str:
    response = client.get(f"/r/{token}/")
    assert response.status_code == 200
    return response.content.decode()


# --- the evaluation request ------------------------------------------------------------------


def test_a_candidate_sees_the_evaluation_request_with_the_consent_wording() -> None:
    _, token = submitted(CANDIDATE, "candidate")
    html = page(Client(), token)
    assert f'action="/r/{token}/request#' in html
    assert CONSENT["text"]["en"] in html
    assert f'value="{CONSENT["version"]}"' in html
    assert 'name="csrfmiddlewaretoken"' in html
    assert "Ask a clinician to contact me" not in html  # no risk: no contact-me offer


@pytest.mark.parametrize(
    ("answers", "eligibility"),
    [
        (BURNOUT_ONLY, "not_indicated"),
        (EXCLUDED, "not_candidate"),
        (OUT_OF_AREA, "outside_service_area"),
        (UNDER_AGE, "under_age"),
    ],
    ids=["burnout", "not-candidate", "outside-area", "under-age"],
)
def test_only_candidates_are_offered_an_evaluation(
    answers: dict[str, Any], eligibility: str
) -> None:
    assessment, token = submitted(answers, eligibility)
    client = Client()
    html = page(client, token)
    assert "/request" not in html and "Request a physician evaluation" not in html
    response = client.post(f"/r/{token}/request", evaluation_form(state=answers["profile.state"]))
    assert response.status_code == 404
    assert not ContactRequest.objects.exists()
    assessment.refresh_from_db()
    assert assessment.linked_at is None


def test_a_request_stores_the_details_encrypted_links_the_screen_and_confirms() -> None:
    assessment, token = submitted(CANDIDATE, "candidate")
    client = Client()
    response = client.post(f"/r/{token}/request", evaluation_form())
    assert response.status_code == 302
    assert response["Location"] == f"/r/{token}/#evaluation-sent"

    request = ContactRequest.objects.get()
    assert request.kind == ContactRequest.Kind.EVALUATION
    assert request.contact == {"name": NAME, "email": EMAIL, "phone": PHONE, "state": "FL"}
    assert request.consent_to_contact is True
    assert request.consent_version == CONSENT["version"]
    key = settings.CROSSLINE.index_key
    assert request.email_index == blind_index(key, "email", "zephyrine.q@example.org")
    assert request.phone_index == blind_index(key, "phone", "+1 201 555 0147")
    assessment.refresh_from_db()
    assert assessment.linked_at is not None

    html = page(client, token)
    assert "Your request was sent. A clinician will contact you" in html
    assert f'action="/r/{token}/request#' not in html  # the form is not shown again


def test_a_second_submission_stores_nothing_new_and_keeps_the_first_link_time() -> None:
    assessment, token = submitted(CANDIDATE, "candidate")
    client = Client()
    client.post(f"/r/{token}/request", evaluation_form())
    assessment.refresh_from_db()
    first_link = assessment.linked_at
    response = client.post(f"/r/{token}/request", evaluation_form(name="Someone Else"))
    assert response.status_code == 302
    assert ContactRequest.objects.count() == 1
    assert ContactRequest.objects.get().contact["name"] == NAME
    assessment.refresh_from_db()
    assert assessment.linked_at == first_link


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"name": ""}, "Your name", "Please enter your name."),
        ({"email": "", "phone": ""}, "E-mail", "Enter a phone number or an e-mail address"),
        ({"email": "not-an-address"}, "E-mail", "Enter a valid email address."),
        ({"phone": "555-0147"}, "Phone (US number with area code)", "Enter a US phone number"),
        ({"consent": None}, "Consent", "Please tick the box to agree to be contacted."),
        ({"consent_version": "2001-01-01"}, "Consent", "The consent wording has changed"),
        ({"state": ""}, "The state you will be in", "Choose the state you will be in."),
        ({"state": "ZZ"}, "The state you will be in", "Select a valid choice."),
        (
            {"state": "TX"},
            "The state you will be in",
            "This program can only treat people who are in one of its service states "
            "(Florida (FL), New Jersey (NJ)) during visits and sessions, so it cannot treat "
            "you in Texas (TX).",
        ),
        (
            {"state": "NJ"},
            "The state you will be in",
            "Your answers said Florida (FL). This program can only treat people in its "
            "service states",
        ),
    ],
    ids=[
        "no-name",
        "no-way-to-reach",
        "bad-email",
        "short-phone",
        "no-consent",
        "old-consent",
        "no-state",
        "unknown-state",
        "state-not-served",
        "state-not-the-answered-one",
    ],
)
def test_bad_input_names_the_field_and_stores_nothing(
    overrides: dict[str, str], field: str, message: str
) -> None:
    assessment, token = submitted(CANDIDATE, "candidate")
    response = Client().post(f"/r/{token}/request", evaluation_form(**overrides))
    assert response.status_code == 422
    html = response.content.decode()
    summary = re.search(r'<div class="errors" role="alert".*?</div>', html, re.S)
    assert summary is not None
    assert field in summary.group(0)
    assert message in summary.group(0)
    assert not ContactRequest.objects.exists()
    assessment.refresh_from_db()
    assert assessment.linked_at is None


def test_the_form_keeps_what_the_person_typed_after_an_error() -> None:
    _, token = submitted(CANDIDATE, "candidate")
    response = Client().post(f"/r/{token}/request", evaluation_form(phone="12"))
    assert response.status_code == 422
    assert f'value="{NAME}"' in response.content.decode()


def language_switch_target(html: str) -> str:
    """Where the page's language switch leads (its `next`)."""
    found = re.search(r'<input type="hidden" name="next" value="([^"]*)">', html)
    assert found is not None, "no language switch"
    return found.group(1)


def test_the_language_switch_on_a_refused_form_leads_back_to_the_result() -> None:
    """The refused form is shown at the address it was sent to, which takes only a POST: the
    language switch led there with a GET, to a 405 page instead of the person's result."""
    _, token = submitted(CANDIDATE, "candidate")
    client = Client()
    html = client.post(f"/r/{token}/request", evaluation_form(phone="12")).content.decode()
    assert language_switch_target(html) == f"/r/{token}/"
    switched = client.post("/i18n/setlang/", {"language": "es", "next": f"/r/{token}/"})
    assert switched.status_code == 302 and switched["Location"] == f"/r/{token}/"
    assert "Solicitar una evaluación" in page(client, token)
    _, acute = submitted(ACUTE, "safety_first")
    html = client.post(f"/r/{acute}/contact", contact_me_form(phone="")).content.decode()
    assert language_switch_target(html) == f"/r/{acute}/"


def test_the_language_switch_on_a_held_back_request_leads_to_a_page_that_opens(
    settings: Any, one_rate_window: float
) -> None:
    from dataclasses import replace

    settings.CROSSLINE = replace(settings.CROSSLINE, rate_limit_per_minute=1)
    first, token = (submitted(ACUTE, "safety_first")[1] for _ in range(2))
    client = Client()
    assert client.post("/check/start").status_code == 302
    refused = client.post("/check/start")
    assert refused.status_code == 429
    assert language_switch_target(refused.content.decode()) == "/"
    assert client.post(f"/r/{first}/contact", contact_me_form()).status_code == 302
    refused = client.post(f"/r/{token}/contact", contact_me_form())
    assert refused.status_code == 429
    assert language_switch_target(refused.content.decode()) == f"/r/{token}/"


def test_a_request_without_the_csrf_token_is_refused() -> None:
    _, token = submitted(CANDIDATE, "candidate")
    client = Client(enforce_csrf_checks=True)
    assert client.post(f"/r/{token}/request", evaluation_form()).status_code == 403
    html = page(client, token)
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    assert csrf is not None
    form = {**evaluation_form(), "csrfmiddlewaretoken": csrf.group(1)}
    assert client.post(f"/r/{token}/request", form).status_code == 302
    assert ContactRequest.objects.count() == 1


def test_contact_requests_from_one_connection_are_limited_like_submissions(
    settings: Any, one_rate_window: float
) -> None:
    """Each request opens a case and may page the on-call roster: a flood from one address is
    held back (429, nothing stored), with the crisis resources first on a risk screen."""
    from dataclasses import replace

    settings.CROSSLINE = replace(settings.CROSSLINE, rate_limit_per_minute=2)
    tokens = [submitted(ACUTE, "safety_first")[1] for _ in range(3)]
    client = Client()
    for token in tokens[:2]:
        assert client.post(f"/r/{token}/contact", contact_me_form()).status_code == 302
    refused = client.post(f"/r/{tokens[2]}/contact", contact_me_form())
    assert refused.status_code == 429 and int(refused["Retry-After"]) == 30
    html = refused.content.decode()
    # The person's own page again: the crisis resources first, then the form as they typed it
    # with why it was not saved above it — to send again in a minute, nothing to type again.
    assert html.index('href="tel:988"') < html.index('id="contact-me-errors"')
    assert "so this one was not saved" in html
    assert f'value="{PHONE}"' in html and "Please check the form" not in html
    assert ContactRequest.objects.count() == 2


def test_an_evaluation_request_held_back_keeps_what_was_typed(
    settings: Any, one_rate_window: float
) -> None:
    from dataclasses import replace

    settings.CROSSLINE = replace(settings.CROSSLINE, rate_limit_per_minute=1)
    first, second = (submitted(CANDIDATE, "candidate")[1] for _ in range(2))
    client = Client(HTTP_ACCEPT_LANGUAGE="es")
    assert client.post(f"/r/{first}/request", evaluation_form()).status_code == 302
    refused = client.post(f"/r/{second}/request", evaluation_form(name="Zenobia Quill"))
    assert refused.status_code == 429 and refused["Retry-After"]
    html = refused.content.decode()
    assert 'id="evaluation-errors"' in html and "no se guardó" in html
    assert 'value="Zenobia Quill"' in html
    assert ContactRequest.objects.count() == 1


def test_an_unknown_link_or_a_get_request_changes_nothing() -> None:
    _, token = submitted(CANDIDATE, "candidate")
    client = Client()
    assert client.post("/r/not-a-token/request", evaluation_form()).status_code == 404
    assert client.get(f"/r/{token}/request").status_code == 405
    assert not ContactRequest.objects.exists()


def test_the_printable_result_has_no_forms() -> None:
    _, token = submitted(NON_ACUTE, "candidate")
    response = Client().get(f"/r/{token}/print")
    assert response.status_code == 200
    assert '<form method="post" action="/r/' not in response.content.decode()


def test_a_screen_deleted_meanwhile_stores_nothing() -> None:
    assessment, _ = submitted(CANDIDATE, "candidate")
    form = contact.evaluation_form(load(), assessment, "en", evaluation_form())
    assert form.is_valid()
    Assessment.objects.filter(pk=assessment.pk).delete()  # anonymous retention got there first
    with pytest.raises(Assessment.DoesNotExist), transaction.atomic():
        contact.record_request(assessment, ContactRequest.Kind.EVALUATION, form, timezone.now())
    assert not ContactRequest.objects.exists()


def test_the_form_speaks_spanish_with_the_spanish_consent() -> None:
    _, token = submitted(CANDIDATE, "candidate", lang="es")
    client = Client(HTTP_ACCEPT_LANGUAGE="es")
    html = page(client, token)
    assert CONSENT["text"]["es"] in html
    assert CONSENT["text"]["en"] not in html


# --- "ask a clinician to contact me" ---------------------------------------------------------


def test_acute_risk_page_offers_contact_me_and_stores_a_request() -> None:
    assessment, token = submitted(ACUTE, "safety_first")
    client = Client()
    html = page(client, token)
    assert "If you do not, no one will call you" in html
    assert f'action="/r/{token}/contact#' in html
    assert "/request" not in html  # never an evaluation offer on the crisis page
    response = client.post(f"/r/{token}/contact", contact_me_form())
    assert response.status_code == 302
    assert response["Location"] == f"/r/{token}/#contact-me-sent"
    request = ContactRequest.objects.get()
    assert request.kind == ContactRequest.Kind.CONTACT_ME
    assert request.contact == {"phone": PHONE}
    assert request.email_index == ""
    assessment.refresh_from_db()
    assert assessment.linked_at is not None
    html = page(client, token)
    assert "Your request was sent. A clinician from the program will try to reach you" in html
    assert f'action="/r/{token}/contact#' not in html
    assert "tel:988" in html  # the crisis numbers stay


def test_non_acute_risk_candidate_gets_both_offers_on_the_result_page() -> None:
    _, token = submitted(NON_ACUTE, "candidate")
    client = Client()
    html = page(client, token)
    assert f'action="/r/{token}/contact#' in html
    assert f'action="/r/{token}/request#' in html
    assert "If you do not, no one will call you" in html
    assert client.post(f"/r/{token}/contact", contact_me_form(email=EMAIL)).status_code == 302
    assert client.post(f"/r/{token}/request", evaluation_form()).status_code == 302
    kinds = sorted(ContactRequest.objects.values_list("kind", flat=True))
    assert kinds == ["contact_me", "evaluation"]


def test_non_acute_risk_without_candidacy_is_still_offered_contact_me() -> None:
    _, token = submitted({**NON_ACUTE, "profile.state": "TX"}, "outside_service_area")
    html = page(Client(), token)
    assert f'action="/r/{token}/contact#' in html
    assert f'action="/r/{token}/request#' not in html


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"phone": ""}, "Enter a phone number or an e-mail address"),
        ({"consent": None}, "Please tick the box to agree to be contacted."),
    ],
    ids=["no-way-to-reach", "no-consent"],
)
def test_contact_me_needs_a_way_to_reach_and_consent(
    overrides: dict[str, str], message: str
) -> None:
    assessment, token = submitted(ACUTE, "safety_first")
    response = Client().post(f"/r/{token}/contact", contact_me_form(**overrides))
    assert response.status_code == 422
    assert message in response.content.decode()
    assert "tel:988" in response.content.decode()  # the error page is still the crisis page
    assert not ContactRequest.objects.exists()
    assessment.refresh_from_db()
    assert assessment.linked_at is None


def test_no_contact_me_offer_without_a_positive_risk_screen() -> None:
    _, token = submitted(CANDIDATE, "candidate")
    client = Client()
    assert f'action="/r/{token}/contact#' not in page(client, token)
    assert client.post(f"/r/{token}/contact", contact_me_form()).status_code == 404
    assert not ContactRequest.objects.exists()


# --- privacy ---------------------------------------------------------------------------------


def plaintexts() -> list[str]:
    return [NAME, "Zephyrine", "Quillfeather", EMAIL.lower(), "zephyrine.q", PHONE_DIGITS, PHONE]


def every_stored_value() -> str:
    """Every column of every table, as text (raw: no field decrypts anything here)."""
    out = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f'SELECT * FROM "{table}"')  # table names from the database
            for row in cursor.fetchall():
                for value in row:
                    raw = bytes(value) if isinstance(value, bytes | memoryview) else value
                    out.append(raw.decode("latin-1") if isinstance(raw, bytes) else str(raw))
    return "\n".join(out)


def test_contact_details_are_never_stored_or_logged_in_plaintext(
    caplog: pytest.LogCaptureFixture,
) -> None:
    _, token = submitted(NON_ACUTE, "candidate")
    for name in ("", "django", "django.request", "django.db.backends", "crossline"):
        caplog.set_level(logging.DEBUG, logger=name)
    client = Client()
    with CaptureQueriesContext(connection) as queries:  # SQL is logged with its parameters
        client.post(f"/r/{token}/request", evaluation_form(phone="12"))  # an error first
        client.post(f"/r/{token}/request", evaluation_form())
        client.post(f"/r/{token}/contact", contact_me_form(name=NAME, email=EMAIL))
        page(client, token)
    assert ContactRequest.objects.count() == 2
    assert any(r.name == "django.db.backends" for r in caplog.records)  # SQL was captured
    logged = "\n".join(
        [r.getMessage() for r in caplog.records]
        + [str(getattr(r, "sql", "")) + str(getattr(r, "params", "")) for r in caplog.records]
        + [q["sql"] for q in queries.captured_queries]
    )
    stored = every_stored_value()
    for text in plaintexts():
        assert text.lower() not in logged.lower(), f"{text!r} in the logs"
        assert text.lower() not in stored.lower(), f"{text!r} stored in plaintext"


# --- finding a person's earlier screens ------------------------------------------------------


def request_for(assessment: Assessment, email: str = "", phone: str = "") -> None:
    key = settings.CROSSLINE.index_key
    ContactRequest.objects.create(
        assessment=assessment,
        kind=ContactRequest.Kind.EVALUATION,
        contact={"email": email, "phone": phone},
        consent_to_contact=True,
        consent_version=CONSENT["version"],
        email_index=blind_index(key, "email", email) if email else "",
        phone_index=blind_index(key, "phone", phone) if phone else "",
    )


def dated(assessment: Assessment, days_ago: int) -> Assessment:
    created = timezone.now() - timezone.timedelta(days=days_ago)
    Assessment.objects.filter(pk=assessment.pk).update(created_at=created)
    return assessment


def test_earlier_screens_are_found_by_normalised_email_or_phone_oldest_first() -> None:
    first = dated(submitted(BURNOUT_ONLY, "not_indicated")[0], 60)
    second = dated(submitted(CANDIDATE, "candidate")[0], 30)
    third = dated(submitted(CANDIDATE, "candidate")[0], 1)
    someone_else = dated(submitted(CANDIDATE, "candidate")[0], 10)
    request_for(third, email="ana@example.org", phone="201-555-0100")
    request_for(first, email=" ANA@example.org ")
    request_for(second, phone="+1 (201) 555-0100")
    request_for(second, email="ana@example.org")  # two requests, one screen
    request_for(someone_else, email="bo@example.org", phone="201-555-0199")

    assert list(earlier_screens(email="Ana@Example.org")) == [first, second, third]
    assert list(earlier_screens(phone="2015550100")) == [second, third]
    assert list(earlier_screens(email="ana@example.org", phone="201 555 0100")) == [
        first,
        second,
        third,
    ]
    assert list(earlier_screens(email="nobody@example.org")) == []
    assert list(earlier_screens()) == []
    assert list(earlier_screens(email="  ", phone="")) == []


def test_the_consent_wording_has_a_version_and_both_languages() -> None:
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", CONSENT["version"])
    assert CONSENT["text"]["en"] and CONSENT["text"]["es"]
    assert "review" in CONSENT["copy_status"]
