"""A person takes the web assessment end to end (Django test client; no JavaScript)."""

import pytest
from django.test import Client

from crossline.audit.models import Event
from crossline.intake.models import Assessment

pytestmark = pytest.mark.django_db

# A burned-out person in Florida, screen by screen: the short path to a burnout result.
BURNED_OUT = [
    ("phq9.1", "0"),
    ("phq9.2", "1"),
    ("phq9.9", "0"),
    ("burnout.single", "4"),
    ("gad7.1", "1"),
    ("gad7.2", "1"),
    ("scope.where", "work"),
    ("scope.time_off", "lifts"),
    ("profile.state", "FL"),
    ("profile.age", "34"),
]


def answer(client: Client, screen: str, **form: str) -> str:
    response = client.post(f"/check/q/{screen}/", form)
    assert response.status_code == 302, response.content[:500]
    return response["Location"]


def test_burned_out_person_gets_burnout_result_without_ketamine_offer() -> None:
    client = Client()
    location = client.post("/check/start").url
    location = client.get(location)["Location"]
    assert location == "/check/q/phq9.1/"
    for screen, value in BURNED_OUT:
        assert location == f"/check/q/{screen}/"
        location = answer(client, screen, **{screen: value})
    assert location.startswith("/r/")
    page = client.get(location)
    text = page.content.decode()
    assert page.status_code == 200
    assert "Looks like burnout" in text
    assert "ketamine is not a treatment" in text
    assessment = Assessment.objects.get()
    assert assessment.eligibility == "not_indicated"
    assert assessment.triage == "burnout_pattern"
    # Audited by the screen's id only: an anonymous submission, no answers.
    event = Event.objects.get()
    assert (event.action, event.actor) == ("assessment.submitted", "anonymous")
    assert event.patient == str(assessment.public_id) and event.detail == {"channel": "web"}


def test_positive_item_9_shows_crisis_help_on_the_very_next_screen() -> None:
    client = Client()
    client.post("/check/start")
    answer(client, "phq9.1", **{"phq9.1": "2"})
    answer(client, "phq9.2", **{"phq9.2": "2"})
    location = answer(client, "phq9.9", **{"phq9.9": "1"})
    assert location == "/check/q/asq.1/"
    page = client.get(location).content.decode()
    assert 'class="crisis-panel"' in page and "tel:988" in page and "AYUDA" in page


@pytest.mark.usefixtures("one_rate_window")
def test_starting_checks_is_rate_limited_per_client(settings) -> None:
    from dataclasses import replace

    from django.core.cache import cache

    cache.clear()
    settings.CROSSLINE = replace(settings.CROSSLINE, rate_limit_per_minute=2)
    client = Client()
    assert client.post("/check/start").status_code == 302
    assert client.post("/check/start").status_code == 302
    refused = client.post("/check/start")
    assert refused.status_code == 429 and refused["Retry-After"]
    assert "tel:988" in refused.content.decode() or "988" in refused.content.decode()
    assert Assessment.objects.count() == 2  # nothing stored for the refused start


def test_the_session_keeps_the_screens_token_for_a_day_and_drops_it_at_submission() -> None:
    """The token opens the person's answers: it stays in the session only while the screen is
    in progress (a day at most), and not after the result page is reached."""
    from datetime import timedelta

    from django.contrib.sessions.models import Session
    from django.utils import timezone

    from crossline.care import periodic  # noqa: F401 — registers the jobs
    from crossline.care.schedule import run_due

    client = Client()
    client.post("/check/start")
    assert 24 * 3600 - 5 <= client.session.get_expiry_age() <= 24 * 3600
    token = Session.objects.get().get_decoded()["assessment_token"]
    assert Assessment.by_token(token) is not None
    for screen, value in BURNED_OUT:
        location = answer(client, screen, **{screen: value})
    assert location == f"/r/{token}/"
    stored = Session.objects.get(pk=client.session.session_key)
    assert token not in stored.session_data and token not in stored.get_decoded().values()

    # Expired sessions are deleted by the worker's hourly job; live ones stay.
    live = Client()
    live.post("/check/start")
    Session.objects.exclude(pk=live.session.session_key).update(
        expire_date=timezone.now() - timedelta(seconds=1)
    )
    assert "sessions.clear_expired" in run_due(timezone.now())
    assert list(Session.objects.values_list("pk", flat=True)) == [live.session.session_key]


@pytest.mark.parametrize("lang", ["en", "es"])
def test_an_answer_to_a_check_that_ended_says_so_and_stores_nothing(lang: str) -> None:
    """The check was submitted in another tab, or its day is over: nothing is stored, and
    the page says so instead of a silent trip to the home page."""
    client = Client(HTTP_ACCEPT_LANGUAGE=lang)
    client.post("/check/start")
    assert client.post("/check/q/phq9.1/", {"phq9.1": "1"}).status_code == 302
    session = client.session
    del session["assessment_token"]  # as when the check is submitted or its day is over
    session.save()
    before = Assessment.objects.get().answers
    page = client.post("/check/q/phq9.1/", {"phq9.1": "2"})
    body = page.content.decode()
    assert page.status_code == 409
    assert {"en": "This check has ended", "es": "Esta prueba terminó"}[lang] in body
    assert 'class="crisis-panel"' not in body
    assert Assessment.objects.get().answers == before


@pytest.mark.parametrize(("screen", "value"), [("phq9.9", "1"), ("asq.1", "yes")])
def test_a_risky_answer_to_a_check_that_ended_brings_crisis_help_at_once(
    screen: str, value: str
) -> None:
    page = Client().post(f"/check/q/{screen}/", {screen: value})  # no check in progress
    body = page.content.decode()
    assert page.status_code == 409
    assert 'class="crisis-panel"' in body and 'href="tel:988"' in body
    assert not Assessment.objects.exists()


def test_a_risk_told_on_the_asq_still_counts_after_item_9_is_changed_to_0() -> None:
    # Item 9 above 0 brings the ASQ; the person tells of a past attempt, then goes back and
    # lowers item 9 to "Not at all". What they told stays in the decision the clinic sees
    # (FACTS §F2: a negative item 9 never overrides other red flags).
    client = Client()
    client.post("/check/start")
    answer(client, "phq9.1", **{"phq9.1": "0"})
    answer(client, "phq9.2", **{"phq9.2": "1"})
    answer(client, "phq9.9", **{"phq9.9": "1"})
    for item in ("asq.1", "asq.2", "asq.3"):
        answer(client, item, **{item: "no"})
    answer(client, "asq.4", **{"asq.4": "yes"})
    answer(client, "asq.5", **{"asq.5": "no"})
    location = answer(client, "phq9.9", **{"phq9.9": "0"})  # back, and changed
    assert location == "/check/q/burnout.single/"  # on, past the answered ASQ
    for screen, value in (
        ("burnout.single", "3"),
        ("gad7.1", "0"),
        ("gad7.2", "0"),
        ("scope.where", "work"),
        ("scope.time_off", "lifts"),
        ("profile.state", "FL"),
        ("profile.age", "34"),
    ):
        assert location == f"/check/q/{screen}/"
        location = answer(client, screen, **{screen: value})
    assert location.startswith("/r/")
    page = client.get(location).content.decode()
    assert 'class="crisis-panel"' in page
    assessment = Assessment.objects.get()
    assert assessment.decision["safety"]["level"] == "non_acute"
    assert "asq.4" in assessment.decision["items_asked"]
