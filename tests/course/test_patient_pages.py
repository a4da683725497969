"""The patient's course pages through the Django test client: consent, pre-session check-in (and
its hold), the after-session check (and its 911 page), the weekly questionnaire, the overview."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.utils import formats, timezone, translation

from crossline.audit.models import Event
from crossline.care.models import Alert
from crossline.course import services
from crossline.course.models import (
    CheckIn,
    ConsentSignature,
    Course,
    RecoveryPlan,
    Session,
    Weekly,
)
from crossline.engine import course as rules
from tests.course.conftest import (
    COURSE_ZONE,
    HIGH_BP_PRE,
    SAFE_POST,
    SAFE_PRE,
    Planned,
    course_today,
    schedule,
    sign,
    weekly_answers,
)

LANGS = ["en", "es"]
pytestmark = pytest.mark.django_db


def client(lang: str) -> Client:
    return Client(HTTP_ACCEPT_LANGUAGE=lang)


def form(answers: dict[str, Any], **extra: str) -> dict[str, Any]:
    """Engine answers as the browser posts them."""
    out: dict[str, Any] = {}
    for key, value in answers.items():
        if key == "pre.new_medications":
            out[key] = "\n".join(value)
        elif isinstance(value, list):
            out[key] = value
        else:
            out[key] = str(value)
    out.update(extra)
    return out


def text(response: Any) -> str:
    return str(response.content.decode())


def held(p: Planned, lang: str = "en") -> tuple[Session, str]:
    sign(p)
    s, token = schedule(p)
    client(lang).post(f"/s/{token}/", form(HIGH_BP_PRE))
    s.refresh_from_db()
    return s, token


def ready(p: Planned) -> tuple[Session, str]:
    sign(p)
    s, token = schedule(p)
    services.submit_session_checkin(s, "pre", SAFE_PRE, "en", timezone.now())
    return s, token


# --- the session link ----------------------------------------------------------------------------


def test_unknown_or_altered_session_token_is_404(planned: Planned) -> None:
    _, token = schedule(planned)
    assert client("en").get("/s/not-a-token/").status_code == 404
    assert client("en").get(f"/s/{token[:-1]}x/").status_code == 404


@pytest.mark.parametrize("lang", LANGS)
def test_consent_comes_first_and_is_signed_by_typing_a_name(planned: Planned, lang: str) -> None:
    _, token = schedule(planned)
    page = client(lang).get(f"/s/{token}/")
    wording = services.current_consent()
    first_paragraph = wording.text[lang].split("\n\n")[0]
    assert page.status_code == 200
    assert first_paragraph in text(page)
    assert "vitals.systolic" not in text(page)  # no pre-session form before the consent
    assert ("988" in text(page)) and (f'<html lang="{lang}">' in text(page))
    empty = client(lang).post(f"/s/{token}/", {"signed_name": "  "})
    assert empty.status_code == 422
    assert not ConsentSignature.objects.exists()
    signed = client(lang).post(f"/s/{token}/", {"signed_name": "Zephyrine Quillfeather"})
    assert signed.status_code == 302
    assert services.consent_signed(planned.course)
    assert 'name="vitals.systolic"' in text(client(lang).get(f"/s/{token}/"))


@pytest.mark.parametrize("lang", LANGS)
def test_a_new_consent_version_mid_course_is_asked_as_an_update(
    planned: Planned, lang: str
) -> None:
    """Signed before session 1, then the program publishes a new treatment consent: the next
    session's link asks for it as what it is, not as the consent before a first session."""
    from crossline.program.models import ConsentText

    sign(planned)
    ConsentText.objects.create(
        kind="treatment",
        version="t-2",
        text_en="The updated consent.",
        text_es="El consentimiento actualizado.",
        published_at=timezone.now(),
    )
    _, token = schedule(planned)
    body = text(client(lang).get(f"/s/{token}/"))
    assert {"en": "The updated consent.", "es": "El consentimiento actualizado."}[lang] in body
    first = {"en": "Before your first session", "es": "Antes de su primera sesión"}[lang]
    changed = {
        "en": "The treatment consent has changed since you signed it.",
        "es": "El consentimiento para el tratamiento cambió desde que usted lo firmó.",
    }[lang]
    assert first not in body and changed in body


def test_a_pre_check_in_posted_without_consent_is_not_stored(planned: Planned) -> None:
    s, token = schedule(planned)
    page = client("en").post(f"/s/{token}/", form(SAFE_PRE))
    assert page.status_code == 422  # the consent form answered: no name
    assert not CheckIn.objects.exists()
    s.refresh_from_db()
    assert s.status == rules.SCHEDULED


@pytest.mark.parametrize("lang", LANGS)
def test_pre_form_shows_the_fasting_rule_and_item_9_verbatim(planned: Planned, lang: str) -> None:
    sign(planned)
    _, token = schedule(planned)
    page = text(client(lang).get(f"/s/{token}/"))
    item9 = {
        "en": "Thoughts that you would be better off dead or of hurting yourself in some way",
        "es": "Pensamientos de que estaría mejor muerto(a) o de lastimarse de alguna manera",
    }[lang]
    assert item9 in page
    stem = {"en": "Over the last 2 weeks, how often", "es": "Durante las últimas 2 semanas"}[lang]
    assert stem in page
    assert 'inputmode="numeric"' in page
    assert {"en": "no food for 2 hours", "es": "sin comer durante 2 horas"}[lang] in page
    assert "asq.1" not in page


@pytest.mark.parametrize("lang", LANGS)
def test_high_blood_pressure_holds_the_session_and_alerts(planned: Planned, lang: str) -> None:
    s, token = held(planned, lang)
    assert s.status == rules.HELD
    alert = Alert.objects.get()
    assert alert.source == Alert.Source.PRE and "checkin.pre.bp_high" in alert.reasons
    page = client(lang).get(f"/s/{token}/")
    body = text(page)
    assert page.status_code == 200
    assert {"en": "Do not take the dose today.", "es": "No tome la dosis hoy."}[lang] in body
    assert {
        "en": "Blood pressure before the session is above the program limit.",
        "es": "La presión arterial antes de la sesión está por encima del límite del programa.",
    }[lang] in body
    assert {"en": "until a clinician clears it", "es": "hasta que un profesional clínico"}[
        lang
    ] in body
    assert 'name="vitals.systolic"' not in body


@pytest.mark.parametrize("lang", LANGS)
def test_a_reading_in_the_crisis_range_holds_alerts_urgently_and_says_when_to_call_911(
    planned: Planned, lang: str
) -> None:
    """180/120 or more before a session (FACTS §B6): held like any high reading, but the
    clinician is alerted at the urgent level, and the page says which symptoms mean 911 now."""
    sign(planned)
    s, token = schedule(planned)
    crisis = {**SAFE_PRE, "vitals.systolic": 186, "vitals.diastolic": 112}
    assert client(lang).post(f"/s/{token}/", form(crisis)).status_code == 302
    s.refresh_from_db()
    assert s.status == rules.HELD
    alert = Alert.objects.get()
    assert alert.level == Alert.Level.ACUTE and alert.reasons == ["checkin.pre.bp_crisis"]
    body = text(client(lang).get(f"/s/{token}/"))
    urgent = body[body.index('id="hold-urgent"') : body.index('id="hold-why"')]
    assert 'href="tel:911"' in urgent
    assert {"en": "chest pain, shortness of breath", "es": "dolor en el pecho, falta de aire"}[
        lang
    ] in urgent
    assert {
        "en": "Blood pressure before the session is in the crisis range.",
        "es": "La presión arterial antes de la sesión está en el rango de crisis.",
    }[lang] in body


def test_an_ordinary_high_reading_has_no_911_callout(planned: Planned) -> None:
    _, token = held(planned)
    assert Alert.objects.get().level == Alert.Level.NON_ACUTE
    assert 'id="hold-urgent"' not in text(client("en").get(f"/s/{token}/"))


@pytest.mark.parametrize("lang", LANGS)
def test_safe_pre_says_go_ahead_and_shows_the_after_form(planned: Planned, lang: str) -> None:
    sign(planned)
    s, token = schedule(planned)
    sent = client(lang).post(f"/s/{token}/", form(SAFE_PRE, **{"pre.note": "slept well"}))
    assert sent.status_code == 302
    s.refresh_from_db()
    assert s.status == rules.READY
    stored = CheckIn.objects.get(kind="pre")
    assert (
        stored.answers["pre.new_medications"] == [] and stored.answers["pre.note"] == "slept well"
    )
    body = text(client(lang).get(f"/s/{token}/"))
    assert {"en": "You can go ahead", "es": "Puede seguir"}[lang] in body
    assert {"en": "about 40 minutes", "es": "unos 40 minutos"}[lang] in body
    assert 'name="post.sedation"' in body and 'name="doses_taken"' in body
    # The emergency guidance stands out from the form's text, with a button to call, above it.
    callout = body.index('id="post-911"')
    assert 'class="crisis-panel"' in body[body.rindex("<", 0, callout) : callout]
    after_form = body.index('<form method="post" novalidate>')
    assert callout < body.index('href="tel:911" id="post-call-911"') < after_form


def test_bad_input_names_the_field_and_stores_nothing(planned: Planned) -> None:
    sign(planned)
    s, token = schedule(planned)
    bad = form(SAFE_PRE, **{"vitals.systolic": "high", "pre.fasted": "maybe"})
    del bad["vitals.pulse"]
    page = client("en").post(f"/s/{token}/", bad)
    body = text(page)
    assert page.status_code == 422
    assert 'href="#id_vitals.systolic"' in body and 'href="#id_pre.fasted"' in body
    assert 'href="#id_vitals.pulse"' in body
    assert 'value="78"' in body  # the good answers are kept
    assert not CheckIn.objects.exists() and not Alert.objects.exists()
    s.refresh_from_db()
    assert s.status == rules.SCHEDULED


def described_by_missing(body: str) -> list[str]:
    """The ids an aria-describedby names that no element on the page carries."""
    ids = set(re.findall(r'\bid="([^"]+)"', body))
    named = (i for refs in re.findall(r'aria-describedby="([^"]*)"', body) for i in refs.split())
    return [i for i in named if i not in ids]


def test_each_error_is_announced_with_its_field(planned: Planned) -> None:
    """A screen reader reads a field's error when the field gets focus: every id its
    aria-describedby names (help text, error) is on the page."""
    sign(planned)
    _, token = schedule(planned)
    bad = form(SAFE_PRE, **{"vitals.systolic": "high", "pre.fasted": "maybe"})
    body = text(client("en").post(f"/s/{token}/", bad))
    assert 'aria-invalid="true"' in body
    assert described_by_missing(body) == []


def test_new_medicines_are_one_per_line(planned: Planned) -> None:
    sign(planned)
    _s, token = schedule(planned)
    client("en").post(f"/s/{token}/", form(SAFE_PRE, **{"pre.new_medications": "sertraline\n\n"}))
    assert CheckIn.objects.get().answers["pre.new_medications"] == ["sertraline"]


@pytest.mark.parametrize("lang", LANGS)
def test_item_9_above_0_asks_the_asq_before_storing(planned: Planned, lang: str) -> None:
    sign(planned)
    s, token = schedule(planned)
    first = client(lang).post(f"/s/{token}/", form({**SAFE_PRE, "phq9.9": 1}))
    body = text(first)
    assert first.status_code == 200
    assert not CheckIn.objects.exists()
    assert {
        "en": "In the past few weeks, have you wished you were dead?",
        "es": "En las últimas semanas, ¿ha deseado estar muerto?",
    }[lang] in body
    assert 'value="162"' not in body and 'value="122"' in body  # other answers kept
    assert 'name="asq_shown"' in body and "field-error" not in body
    asq = {"asq.1": "no", "asq.2": "no", "asq.3": "no", "asq.4": "no", "asq.5": "no"}
    done = client(lang).post(f"/s/{token}/", form({**SAFE_PRE, "phq9.9": 1, **asq}, asq_shown="1"))
    assert done.status_code == 302
    s.refresh_from_db()
    assert s.status == rules.HELD  # item 9 > 0 alone holds the session
    page = text(client(lang).get(f"/s/{token}/"))
    assert "crisis-panel" in page and "988" in page


HELP_NOW = {"en": "Help is available right now", "es": "Hay ayuda disponible ahora mismo"}


def shows_crisis_help(response: Any, lang: str) -> bool:
    body = text(response)
    return 'class="crisis-panel"' in body and 'href="tel:988"' in body and HELP_NOW[lang] in body


@pytest.mark.parametrize("lang", LANGS)
def test_item_9_above_0_shows_crisis_help_at_once_on_the_asq_step(
    planned: Planned, lang: str
) -> None:
    """Before the check-in is stored (PRODUCT.md step 6; FACTS §F2 ✎ 1): on the ASQ step
    itself, on that step sent back with an answer missing, and on the link's pages after it —
    in any browser, since the first step suspended the course (the stored state)."""
    sign(planned)
    _, token = schedule(planned)
    browser = client(lang)
    step = browser.post(f"/s/{token}/", form({**SAFE_PRE, "phq9.9": 1}))
    assert 'name="asq.1"' in text(step) and not CheckIn.objects.exists()
    assert shows_crisis_help(step, lang)
    incomplete = browser.post(f"/s/{token}/", form({**SAFE_PRE, "phq9.9": 1}, asq_shown="1"))
    assert incomplete.status_code == 422 and shows_crisis_help(incomplete, lang)
    assert shows_crisis_help(browser.get(f"/s/{token}/"), lang)  # the person left the step
    elsewhere = client(lang).get(f"/s/{token}/")  # another browser: the suspended course's page
    assert shows_crisis_help(elsewhere, lang) and 'id="wait"' in text(elsewhere)


@pytest.mark.parametrize("lang", LANGS)
def test_a_weekly_item_9_above_0_shows_crisis_help_at_once(planned: Planned, lang: str) -> None:
    w, token = weekly_link(planned)
    answers = weekly_answers([0] * 8 + [2], [0] * 7)
    answers |= {"course.bladder": "no"} if w.bladder else {}
    step = client(lang).post(f"/w/{token}/", form(answers))
    assert 'name="asq.1"' in text(step) and not CheckIn.objects.exists()
    assert shows_crisis_help(step, lang)
    assert "(NIMH)" in text(step)  # the ASQ's credit, with its questions


def test_asq_step_missing_answers_name_the_fields(planned: Planned) -> None:
    sign(planned)
    _, token = schedule(planned)
    page = client("en").post(f"/s/{token}/", form({**SAFE_PRE, "phq9.9": 2}, asq_shown="1"))
    assert page.status_code == 422
    assert 'href="#id_asq.1"' in text(page) and 'href="#id_asq.5"' in text(page)
    assert not CheckIn.objects.exists()


@pytest.mark.parametrize("lang", LANGS)
def test_expired_link_shows_no_form(planned: Planned, lang: str) -> None:
    sign(planned)
    s, token = schedule(planned)
    Session.objects.filter(pk=s.pk).update(link_expires_at=timezone.now() - timedelta(minutes=1))
    page = client(lang).get(f"/s/{token}/")
    body = text(page)
    assert page.status_code == 200
    assert {"en": "contact your clinician", "es": "comuníquese con su profesional clínico"}[
        lang
    ] in body
    assert '<form method="post" novalidate>' not in body
    assert client(lang).post(f"/s/{token}/", form(SAFE_PRE)).status_code == 200
    assert not CheckIn.objects.exists()


@pytest.mark.parametrize("lang", LANGS)
def test_emergency_after_the_session_says_call_911_first(planned: Planned, lang: str) -> None:
    s, token = ready(planned)
    answers = form({**SAFE_POST, "post.emergency_symptoms": ["chest_pain"]}, doses_taken="1")
    assert client(lang).post(f"/s/{token}/", answers).status_code == 302
    s.refresh_from_db()
    assert s.status == rules.DONE and s.doses_taken == 1
    assert Alert.objects.get().level == Alert.Level.ACUTE
    body = text(client(lang).get(f"/s/{token}/"))
    main = body.index('<nav class="top"')
    assert body.index("Call 911 now.") < main and body.index("Llame al 911 ahora.") < main
    assert f'<h1 id="emergency-title" lang="{lang}">' in body  # their language first
    assert {"en": ">Call 911</a>", "es": ">Llame al 911</a>"}[lang] in body  # a large tap target
    assert 'id="session-done"' not in body  # no "complete, thank you" under a call for 911


def at_risk_browser(p: Planned, lang: str) -> Client:
    """A browser whose weekly answers showed suicide risk (item 9 above 0): the crisis
    resources stay on every page it opens from then on."""
    _, weekly_token = weekly_link(p)
    browser = client(lang)
    browser.post(f"/w/{weekly_token}/", form(weekly_answers([0] * 8 + [1], [0] * 7)))
    return browser


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize(
    "post", [SAFE_POST, {**SAFE_POST, "post.emergency_symptoms": ["seizure"]}], ids=["ok", "911"]
)
def test_the_session_done_page_keeps_the_crisis_help_of_an_at_risk_browser(
    planned: Planned, lang: str, post: dict[str, Any]
) -> None:
    """The 911 panel of an emergency comes first, but never in place of the 988 resources."""
    _s, token = ready(planned)
    services.submit_session_checkin(_s, "post", post, lang, timezone.now(), doses_taken=1)
    browser = at_risk_browser(planned, lang)
    page = browser.get(f"/s/{token}/")
    assert shows_crisis_help(page, lang)
    if post["post.emergency_symptoms"]:
        body = text(page)
        assert body.index('href="tel:911"') < body.index(HELP_NOW[lang])


@pytest.mark.parametrize("lang", LANGS)
def test_after_session_alert_and_ok_pages(planned: Planned, lang: str) -> None:
    _s, token = ready(planned)
    client(lang).post(
        f"/s/{token}/", form({**SAFE_POST, "post.dissociation": "severe"}, doses_taken="1")
    )
    body = text(client(lang).get(f"/s/{token}/"))
    assert {"en": "Your clinician has been alerted", "es": "Se le avisó a su profesional"}[
        lang
    ] in body
    assert {"en": "Severe dissociation", "es": "Disociación intensa"}[lang] in body


def test_after_session_ok_then_complete(planned: Planned) -> None:
    _s, token = ready(planned)
    client("es").post(f"/s/{token}/", form(SAFE_POST, doses_taken="1"))
    body = text(client("es").get(f"/s/{token}/"))
    assert "Gracias. Nada en estas respuestas" in body
    assert 'name="vitals.systolic"' not in body


def test_after_session_bad_input_names_the_field(planned: Planned) -> None:
    _s, token = ready(planned)
    bad = form({**SAFE_POST, "post.emergency_symptoms": ["flying"]}, doses_taken="-1")
    page = client("en").post(f"/s/{token}/", bad)
    assert page.status_code == 422
    body = text(page)
    assert 'href="#id_post.emergency_symptoms"' in body and 'href="#id_doses_taken"' in body
    assert not CheckIn.objects.filter(kind="post").exists()


def test_cancelled_session_is_a_plain_statement(planned: Planned) -> None:
    sign(planned)
    s, token = schedule(planned)
    Session.objects.filter(pk=s.pk).update(status=rules.CANCELLED)
    body = text(client("en").get(f"/s/{token}/"))
    assert "This session was cancelled." in body and '<form method="post" novalidate>' not in body


def test_a_page_view_is_audited_without_the_token(planned: Planned) -> None:
    _, token = held(planned)
    client("en").get(f"/s/{token}/")
    event = Event.objects.filter(action="checkin.viewed_by_patient").last()
    assert event is not None
    assert event.actor == "patient" and str(event.object_id) == str(planned.course.public_id)
    assert token not in str(event.detail)


# --- the weekly questionnaire ---------------------------------------------------------------------


def weekly_link(p: Planned) -> tuple[Weekly, str]:
    w = p.course.weeklies.order_by("number").first()
    assert w is not None
    return w, str(w.token)


@pytest.mark.parametrize("lang", LANGS)
def test_weekly_shows_both_instruments_verbatim(planned: Planned, lang: str) -> None:
    w, token = weekly_link(planned)
    page = client(lang).get(f"/w/{token}/")
    body = text(page)
    assert page.status_code == 200
    for phrase in {
        "en": (
            "Little interest or pleasure in doing things",
            "Feeling nervous, anxious or on edge",
        ),
        "es": ("Se ha sentido nervioso(a), ansioso(a) o con los nervios de punta",),
    }[lang]:
        assert phrase in body
    bladder = 2 if w.bladder else 0  # the baseline questionnaire asks about the bladder
    assert body.count('type="radio"') == (9 + 7) * 4 + bladder
    # The PHQ-9 and the GAD-7 carry the same Pfizer line: under the form once. The ASQ's
    # credit only once its questions are on the page.
    footer = {"en": "Developed by Drs. Robert L. Spitzer", "es": "Elaborado por los doctores"}
    assert body.count(footer[lang]) == 1
    assert "NIMH" not in body


def test_weekly_missing_answers_are_named_never_scored(planned: Planned) -> None:
    w, token = weekly_link(planned)
    answers = weekly_answers([0] * 9, [0] * 7)
    del answers["phq9.3"], answers["gad7.7"]
    page = client("en").post(f"/w/{token}/", form(answers))
    assert page.status_code == 422
    assert 'href="#id_phq9.3"' in text(page) and 'href="#id_gad7.7"' in text(page)
    assert not CheckIn.objects.exists()
    w.refresh_from_db()
    assert w.status == Weekly.Status.DUE


@pytest.mark.parametrize("lang", LANGS)
def test_weekly_positive_safety_shows_crisis_help_and_suspends(planned: Planned, lang: str) -> None:
    w, token = weekly_link(planned)
    answers = weekly_answers([1] * 9, [1] * 7, **({"course.bladder": "no"} if w.bladder else {}))
    step = client(lang).post(f"/w/{token}/", form(answers))
    assert 'name="asq.1"' in text(step) and not CheckIn.objects.exists()
    asq = {"asq.1": "yes", "asq.2": "no", "asq.3": "no", "asq.4": "no", "asq.5": "no"}
    sent = client(lang).post(f"/w/{token}/", form({**answers, **asq}, asq_shown="1"))
    assert sent.status_code == 302
    planned.course.refresh_from_db()
    assert planned.course.status == rules.SUSPENDED
    body = text(client(lang).get(f"/w/{token}/"))
    assert {"en": "this one is in", "es": "ya recibimos su cuestionario"}[lang] in body
    assert "tel:988" in body and "resources big" in body


def test_weekly_bladder_and_recovery_questions(planned: Planned) -> None:
    w, token = weekly_link(planned)
    Weekly.objects.filter(pk=w.pk).update(bladder=True)
    RecoveryPlan.objects.create(
        course=planned.course,
        content={"therapy": "Weekly therapy"},
        agreed_on=timezone.now().date(),
        updated_by=planned.physician,
        updated_at=timezone.now(),
    )
    body = text(client("en").get(f"/w/{token}/"))
    assert "blood in the urine" in body and "recovery plan this week" in body
    answers = weekly_answers([0] * 9, [0] * 7)
    extra = {"course.bladder": "no", "course.recovery": "partly"}
    assert client("en").post(f"/w/{token}/", form({**answers, **extra})).status_code == 302
    assert CheckIn.objects.get(kind="weekly").answers["course.recovery"] == "partly"


def test_weekly_unknown_token_is_404(planned: Planned) -> None:
    assert client("en").get("/w/nope/").status_code == 404


# --- the course overview --------------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
def test_course_overview(planned: Planned, lang: str) -> None:
    _s, token = schedule(planned)
    RecoveryPlan.objects.create(
        course=planned.course,
        content={"therapy": "Weekly therapy with Dr. Brightwater", "rest": ""},
        agreed_on=timezone.now().date(),
        updated_by=planned.physician,
        updated_at=timezone.now(),
    )
    page = client(lang).get(f"/r/{planned.result_token}/course/")
    body = text(page)
    assert page.status_code == 200
    assert f'href="/s/{token}/"' in body
    w = planned.course.weeklies.order_by("number").first()
    assert w is not None and f'href="/w/{w.token}/"' in body
    assert "Weekly therapy with Dr. Brightwater" in body
    assert {"en": "No food for 2 hours", "es": "Sin comer durante 2 horas"}[lang] in body
    assert "988" in body


ON_HOLD = {
    "en": "This session is on hold: do not take a dose.",
    "es": "Esta sesión está en espera: no tome ninguna dosis.",
}
START = {"en": "Start your check-in", "es": "Empezar su registro"}


def overview(p: Planned, lang: str) -> str:
    return text(client(lang).get(f"/r/{p.result_token}/course/"))


@pytest.mark.parametrize("lang", LANGS)
def test_the_overview_says_a_held_session_waits_instead_of_offering_its_check_in(
    planned: Planned, lang: str
) -> None:
    held(planned, lang)
    body = overview(planned, lang)
    assert ON_HOLD[lang] in body and START[lang] not in body
    zone = {"en": "Eastern time (America/New_York)", "es": "hora del Este (America/New_York)"}
    assert f", {zone[lang]}</p>" in body


@pytest.mark.parametrize("lang", LANGS)
def test_the_overview_of_a_suspended_course_says_the_session_waits(
    planned: Planned, lang: str
) -> None:
    sign(planned)
    schedule(planned)
    Course.objects.filter(pk=planned.course.pk).update(status=rules.SUSPENDED)
    body = overview(planned, lang)
    assert ON_HOLD[lang] in body and START[lang] not in body


@pytest.mark.parametrize("lang", LANGS)
def test_the_overview_after_the_go_ahead_points_to_the_after_session_check(
    planned: Planned, lang: str
) -> None:
    _s, token = ready(planned)
    body = overview(planned, lang)
    after = {"en": "Open the after-session check", "es": "Abrir el registro después de la sesión"}
    assert after[lang] in body and f'href="/s/{token}/"' in body
    assert START[lang] not in body and ON_HOLD[lang] not in body


@pytest.mark.parametrize("lang", LANGS)
def test_a_course_suspended_for_a_safety_answer_shows_crisis_help_in_any_browser(
    planned: Planned, lang: str
) -> None:
    """As the hold and weekly pages do from the stored answer: the link opened later from the
    e-mail, on another phone, still puts the crisis resources first."""
    _, session_token = schedule(planned)
    sign(planned)
    w, _weekly_token = weekly_link(planned)
    asq = {"asq.1": "yes", "asq.2": "no", "asq.3": "no", "asq.4": "no", "asq.5": "no"}
    answers = weekly_answers([1] * 9, [1] * 7, **asq)
    services.submit_weekly(w, answers | ({"course.bladder": "no"} if w.bladder else {}), lang,
                           timezone.now())  # fmt: skip
    assert Course.objects.get(pk=planned.course.pk).status == rules.SUSPENDED
    assert shows_crisis_help(client(lang).get(f"/s/{session_token}/"), lang)
    assert shows_crisis_help(client(lang).get(f"/r/{planned.result_token}/course/"), lang)


@pytest.mark.parametrize("lang", LANGS)
def test_a_hold_then_a_suspension_shows_crisis_help_on_the_hold_page(
    planned: Planned, lang: str
) -> None:
    _s, token = held(planned, lang)  # blood pressure: no safety answer in the pre check-in
    assert not shows_crisis_help(client(lang).get(f"/s/{token}/"), lang)
    Course.objects.filter(pk=planned.course.pk).update(status=rules.SUSPENDED)
    assert shows_crisis_help(client(lang).get(f"/s/{token}/"), lang)


ENDED = {"en": "Your treatment course has ended.", "es": "Su tratamiento terminó."}
NO_MORE = {
    "en": "No more sessions will be scheduled. If you have questions, contact your clinician.",
    "es": "No se programarán más sesiones. Si tiene preguntas, comuníquese con su profesional "
    "clínico.",
}


def stopped(p: Planned) -> str:
    """A session scheduled, then the physician stopped the course (which cancels it)."""
    _, token = schedule(p)
    services.decide(
        p.course,
        decision="stop",
        sessions_added=0,
        note="Stopped at the patient's request.",
        user=p.physician,
        request=None,
        now=timezone.now(),
    )
    return token


@pytest.mark.parametrize("lang", LANGS)
def test_the_overview_of_a_stopped_course_says_it_has_ended(planned: Planned, lang: str) -> None:
    """Not "your clinician will schedule the next one": no session, no pre-session rules, no
    questionnaire (none is sent once a course is stopped)."""
    stopped(planned)
    body = overview(planned, lang)
    assert 'id="course-ended"' in body and ENDED[lang] in body and NO_MORE[lang] in body
    schedule_next = {
        "en": "No session is scheduled right now",
        "es": "No hay ninguna sesión programada por ahora",
    }
    assert schedule_next[lang] not in body
    assert 'id="rules"' not in body and 'id="weekly-link"' not in body
    assert 'id="weekly-next"' not in body
    assert "988" in body


@pytest.mark.parametrize("lang", LANGS)
def test_a_session_cancelled_by_the_stop_says_the_course_has_ended(
    planned: Planned, lang: str
) -> None:
    token = stopped(planned)
    body = text(client(lang).get(f"/s/{token}/"))
    assert 'id="closed"' in body and ENDED[lang] in body
    next_session = {"en": "about the next session", "es": "sobre la próxima sesión"}
    assert next_session[lang] not in body


@pytest.mark.parametrize("lang", LANGS)
def test_a_weekly_thanks_page_after_the_stop_sends_no_next_link(
    planned: Planned, lang: str
) -> None:
    w, weekly_token = weekly_link(planned)
    answers = weekly_answers([1] * 8 + [0], [1] * 7)
    services.submit_weekly(w, answers | ({"course.bladder": "no"} if w.bladder else {}), lang,
                           timezone.now())  # fmt: skip
    before = text(client(lang).get(f"/w/{weekly_token}/"))
    assert 'id="course-ended"' not in before
    stopped(planned)
    body = text(client(lang).get(f"/w/{weekly_token}/"))
    assert 'id="course-ended"' in body and ENDED[lang] in body
    next_link = {"en": "the link to the next questionnaire", "es": "próximo cuestionario"}
    assert next_link[lang] not in body and next_link[lang] in before


def test_course_overview_404_without_a_course(planned: Planned) -> None:
    assert client("en").get("/r/not-a-token/course/").status_code == 404


def test_the_result_page_links_to_the_course_once_there_is_one(planned: Planned) -> None:
    from django.test import Client

    result = Client(HTTP_ACCEPT_LANGUAGE="es").get(f"/r/{planned.result_token}/")
    assert result.status_code == 200
    html = result.content.decode()
    assert "Abrir su tratamiento" in html
    assert f'href="/r/{planned.result_token}/course/"' in html


def test_a_scheduled_session_of_a_suspended_course_shows_no_form(planned: Planned) -> None:
    _, token = schedule(planned)
    services.sign_consent(planned.course, "Zephyrine Quillfeather", "es", timezone.now())
    Course.objects.filter(pk=planned.course.pk).update(status=rules.SUSPENDED)
    html = Client(HTTP_ACCEPT_LANGUAGE="es").get(f"/s/{token}/").content.decode()
    assert "No tome la dosis hoy." in html and '<form method="post"' not in html


# --- a page that changed while it was open ------------------------------------------------------
# The page was shown, then — before the person sent it — another tab sent it, the clinic acted
# or the course was put on hold. The service refuses (nothing stored); the person sees the page
# for where things stand now, told in their language that their answer was not saved, and
# never the service's reason, which is English and written for the staff.

NOT_SAVED = {"en": "Your answer was not saved", "es": "Su respuesta no se guardó"}
STAFF_REASONS = ("already", "the session is", "the course is", "clinician must", "expired:")


def _meanwhile(monkeypatch: pytest.MonkeyPatch, name: str, change: Any) -> None:
    """`services.<name>` runs `change` first: what happened after the page was shown."""
    real = getattr(services, name)

    def racing(target: Any, *args: Any, **kwargs: Any) -> Any:
        change(target)
        return real(target, *args, **kwargs)

    monkeypatch.setattr(services, name, racing)


def _refused_then_shown(lang: str, url: str, data: dict[str, Any]) -> str:
    sent = client(lang).post(url, data)
    assert sent.status_code == 302 and sent["Location"] == f"{url}?changed=1"
    page = client(lang).get(sent["Location"])
    assert page.status_code == 200
    body = text(page)
    assert NOT_SAVED[lang] in body and 'id="not-saved"' in body
    assert not any(reason in body for reason in STAFF_REASONS)
    return body


def _cancel(session: Session) -> None:  # the clinic cancels the session
    Session.objects.filter(pk=session.pk).update(status=rules.CANCELLED)


def _suspend(session: Session) -> None:  # a positive weekly answer suspends the course
    Course.objects.filter(pk=session.course_id).update(status=rules.SUSPENDED)


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize(
    ("change", "shown"),
    [
        (_cancel, {"en": "This session was cancelled.", "es": "Esta sesión se canceló."}),
        (_suspend, {"en": "Do not take the dose today.", "es": "No tome la dosis hoy."}),
    ],
    ids=["session cancelled", "course on hold"],
)
def test_a_check_in_sent_after_the_session_changed_meanwhile(
    planned: Planned,
    lang: str,
    change: Any,
    shown: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sign(planned)
    s, token = schedule(planned)
    assert 'name="vitals.systolic"' in text(client(lang).get(f"/s/{token}/"))
    _meanwhile(monkeypatch, "submit_session_checkin", change)
    body = _refused_then_shown(lang, f"/s/{token}/", form(SAFE_PRE))
    assert shown[lang] in body
    assert '<form method="post" novalidate>' not in body
    assert not CheckIn.objects.exists()
    s.refresh_from_db()
    assert s.status != rules.READY  # nothing moved it on


@pytest.mark.parametrize("lang", LANGS)
def test_a_weekly_questionnaire_sent_from_two_tabs_is_stored_once(
    planned: Planned, lang: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    w, token = weekly_link(planned)
    answers = weekly_answers([0] * 9, [0] * 7, **({"course.bladder": "no"} if w.bladder else {}))
    real = services.submit_weekly
    _meanwhile(
        monkeypatch,
        "submit_weekly",
        lambda weekly: real(weekly, answers, lang, timezone.now()),  # the other tab, first
    )
    _refused_then_shown(lang, f"/w/{token}/", form(answers))
    assert CheckIn.objects.filter(weekly=w).count() == 1


def test_the_notice_is_only_for_a_page_shown_again(planned: Planned) -> None:
    sign(planned)
    _, token = schedule(planned)
    assert NOT_SAVED["en"] not in text(client("en").get(f"/s/{token}/"))


@pytest.mark.parametrize("lang", LANGS)
def test_an_answer_the_engine_refuses_is_marked_in_the_persons_language(
    planned: Planned, lang: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from crossline.engine import FieldError, InvalidInput

    sign(planned)
    _, token = schedule(planned)

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise InvalidInput(
            [FieldError("vitals.systolic", "must be at most 250"), FieldError("$", "bad body")]
        )

    monkeypatch.setattr(services, "submit_session_checkin", refuse)
    page = client(lang).post(f"/s/{token}/", form(SAFE_PRE))
    body = text(page)
    assert page.status_code == 422
    assert {"en": "This answer was not accepted", "es": "Esta respuesta no se aceptó"}[lang] in body
    assert {"en": "Some answers were not accepted", "es": "Algunas respuestas no se aceptaron"}[
        lang
    ] in body
    assert 'href="#id_vitals.systolic"' in body
    assert "must be at most" not in body and "bad body" not in body
    assert not CheckIn.objects.exists()


@pytest.mark.parametrize("lang", LANGS)
def test_a_pre_check_in_sent_again_from_a_second_tab_is_not_read_as_the_after_check(
    planned: Planned, lang: str
) -> None:
    sign(planned)
    s, token = schedule(planned)
    first = client(lang).post(f"/s/{token}/", form(SAFE_PRE, step="pre"))
    assert first.status_code == 302 and first["Location"] == f"/s/{token}/"
    body = _refused_then_shown(lang, f"/s/{token}/", form(SAFE_PRE, step="pre"))
    assert 'name="step" value="post"' in body  # the after-session form, without errors
    assert 'id="errors"' not in body
    assert CheckIn.objects.filter(session=s).count() == 1


@pytest.mark.parametrize("lang", LANGS)
def test_a_check_in_sent_after_its_link_ran_out(planned: Planned, lang: str) -> None:
    sign(planned)
    s, token = schedule(planned)
    assert 'name="step" value="pre"' in text(client(lang).get(f"/s/{token}/"))
    Session.objects.filter(pk=s.pk).update(link_expires_at=timezone.now() - timedelta(minutes=1))
    body = _refused_then_shown(lang, f"/s/{token}/", form(SAFE_PRE, step="pre"))
    assert {"en": "This link has expired", "es": "Este enlace"}[lang] in body
    assert not CheckIn.objects.exists()


@pytest.mark.parametrize("lang", LANGS)
def test_a_weekly_questionnaire_sent_again_from_a_second_tab(planned: Planned, lang: str) -> None:
    w, token = weekly_link(planned)
    answers = weekly_answers([0] * 9, [0] * 7, **({"course.bladder": "no"} if w.bladder else {}))
    assert client(lang).post(f"/w/{token}/", form(answers, step="weekly")).status_code == 302
    _refused_then_shown(lang, f"/w/{token}/", form(answers, step="weekly"))
    assert CheckIn.objects.filter(weekly=w).count() == 1
    # The next link comes the way the program reaches this person, not always by e-mail.
    thanks = text(client(lang).get(f"/w/{token}/"))
    assert {
        "en": "We will send you the link to the next questionnaire.",
        "es": "Le enviaremos el enlace del próximo cuestionario.",
    }[lang] in thanks


@pytest.mark.parametrize("lang", LANGS)
def test_a_weekly_with_suicide_risk_sent_after_its_link_ran_out_shows_crisis_help_at_once(
    planned: Planned, lang: str
) -> None:
    """Nothing can be stored, but the person's answer showed risk: the crisis resources come
    first, on this very response (not after a redirect), with the way on to the page."""
    w, token = weekly_link(planned)
    extra = {"course.bladder": "no"} if w.bladder else {}
    answers = weekly_answers([0] * 8 + [2], [0] * 7, **extra)
    Weekly.objects.filter(pk=w.pk).update(link_expires_at=timezone.now() - timedelta(minutes=1))
    page = client(lang).post(f"/w/{token}/", form(answers, step="weekly"))
    body = text(page)
    assert page.status_code == 409
    assert 'class="crisis-panel"' in body and 'href="tel:988"' in body
    assert {"en": "Your answer was not saved", "es": "Su respuesta no se guardó"}[lang] in body
    assert f'href="/w/{token}/"' in body
    assert not CheckIn.objects.exists()
    # The program learns of it as of a stored positive answer: the course waits for a
    # documented risk assessment and the roster is alerted (acuity unknown counts as acute).
    planned.course.refresh_from_db()
    assert planned.course.status == rules.SUSPENDED
    [alert] = Alert.objects.filter(case=planned.case)
    assert (alert.source, alert.level) == (Alert.Source.WEEKLY, Alert.Level.ACUTE)
    assert alert.reasons == ["weekly.safety_positive"]
    again = client(lang).post(f"/w/{token}/", form(answers, step="weekly"))
    assert again.status_code == 409  # crisis help again, the roster not paged again
    assert Alert.objects.filter(case=planned.case).count() == 1


@pytest.mark.parametrize("asq", [{"asq.1": "yes"}, {"asq.5": "refused"}])
def test_an_asq_answer_showing_risk_on_a_changed_page_shows_crisis_help(
    planned: Planned, asq: dict[str, str]
) -> None:
    sign(planned)
    _, token = schedule(planned)
    answers = form({**SAFE_PRE, "phq9.9": 0}, step="consent", **asq)  # a page long gone
    page = client("en").post(f"/s/{token}/", answers)
    assert page.status_code == 409 and 'class="crisis-panel"' in text(page)
    [alert] = Alert.objects.filter(case=planned.case)
    assert alert.source == Alert.Source.PRE and alert.reasons == ["checkin.pre.safety_positive"]


def test_without_risk_a_changed_page_is_a_redirect(planned: Planned) -> None:
    sign(planned)
    _, token = schedule(planned)
    page = client("en").post(f"/s/{token}/", form(SAFE_PRE, step="consent"))
    assert page.status_code == 302 and "crisis-panel" not in text(page)
    assert not Alert.objects.exists()
    planned.course.refresh_from_db()
    assert planned.course.status == rules.ACTIVE


def test_a_positive_weekly_sent_from_two_tabs_alerts_once(planned: Planned) -> None:
    w, token = weekly_link(planned)
    extra = {"course.bladder": "no"} if w.bladder else {}
    answers = weekly_answers([0] * 8 + [1], [0] * 7, **extra)
    asq = {"asq.1": "no", "asq.2": "no", "asq.3": "no", "asq.4": "no", "asq.5": "no"}
    sent = form(answers, step="weekly", asq_shown="1", **asq)
    assert client("en").post(f"/w/{token}/", sent).status_code == 302  # stored: alert, suspend
    assert client("en").post(f"/w/{token}/", sent).status_code == 409  # the second tab
    assert CheckIn.objects.filter(weekly=w).count() == 1
    assert Alert.objects.filter(case=planned.case).count() == 1


def _expired_weekly(planned: Planned) -> tuple[str, dict[str, Any]]:
    w, token = weekly_link(planned)
    Weekly.objects.filter(pk=w.pk).update(link_expires_at=timezone.now() - timedelta(minutes=1))
    extra = {"course.bladder": "no"} if w.bladder else {}
    return token, weekly_answers([0] * 8 + [2], [0] * 7, **extra)


def test_unstored_risky_answers_are_kept_on_the_alert_for_the_clinician(planned: Planned) -> None:
    token, answers = _expired_weekly(planned)
    sent = form(answers, step="weekly", asq_shown="1", **{"asq.1": "yes", "asq.5": "bogus"})
    assert client("en").post(f"/w/{token}/", sent).status_code == 409
    [alert] = Alert.objects.filter(case=planned.case)
    assert alert.level == Alert.Level.ACUTE  # asq.5 not well formed: acuity unknown
    [entry] = alert.unaccepted_answers
    assert entry["answers"] == {"phq9.9": 2, "asq.1": "yes"}  # the raw "bogus" is not kept
    assert not CheckIn.objects.exists()


def test_an_open_alert_of_another_kind_does_not_swallow_unstored_risky_answers(
    planned: Planned,
) -> None:
    """A routine weekly flag (non-response) is open; then a risky answer arrives on a page
    that cannot store it: the roster must be paged for the risk, not the flag remembered."""
    from crossline.care.alerts import raise_alert

    raise_alert(
        planned.case,
        Alert.Level.ROUTINE,
        Alert.Source.WEEKLY,
        ["weekly.non_response"],
        timezone.now(),
    )
    token, answers = _expired_weekly(planned)
    assert client("en").post(f"/w/{token}/", form(answers, step="weekly")).status_code == 409
    levels = sorted(Alert.objects.filter(case=planned.case).values_list("level", flat=True))
    assert levels == [Alert.Level.ACUTE, Alert.Level.ROUTINE]


def test_a_more_urgent_unstored_answer_raises_a_more_urgent_alert_once(planned: Planned) -> None:
    token, answers = _expired_weekly(planned)
    asq = {"asq.1": "yes", "asq.2": "no", "asq.3": "no", "asq.4": "no"}
    non_acute = form(answers, step="weekly", asq_shown="1", **asq, **{"asq.5": "no"})
    acute = form(answers, step="weekly", asq_shown="1", **asq, **{"asq.5": "yes"})
    for sent in (non_acute, acute, acute, non_acute):
        assert client("en").post(f"/w/{token}/", sent).status_code == 409
    alerts = {a.level: a for a in Alert.objects.filter(case=planned.case)}
    assert set(alerts) == {Alert.Level.NON_ACUTE, Alert.Level.ACUTE}
    assert len(alerts[Alert.Level.NON_ACUTE].unaccepted_answers) == 1
    # the acute alert covers what came after it, the less urgent answer included
    assert [e["answers"]["asq.5"] for e in alerts[Alert.Level.ACUTE].unaccepted_answers] == [
        "yes",
        "yes",
        "no",
    ]


def test_the_alert_page_shows_the_unstored_answers_in_their_words_and_audits_the_read(
    planned: Planned,
) -> None:
    from crossline.accounts.roles import Role
    from crossline.knowledge import load
    from tests.staff import signed_in, staff_user

    token, answers = _expired_weekly(planned)
    sent = form(answers, step="weekly", asq_shown="1", **{"asq.5": "yes"})
    assert client("en").post(f"/w/{token}/", sent).status_code == 409
    [alert] = Alert.objects.filter(case=planned.case)
    nurse = signed_in(staff_user("nurse.ivy", Role.INTAKE))
    html = nurse.get(f"/clinic/alerts/{alert.public_id}/").content.decode()
    k = load()
    section = html.split('id="unaccepted"')[1]
    assert k.items["phq9.9"].text["en"] in section and "More than half the days" in section
    assert k.items["asq.5"].text["en"] in section
    viewed = Event.objects.get(action="record.viewed")
    assert viewed.patient == str(planned.case.public_id)
    assert viewed.detail == {"alert": str(alert.public_id), "what": "unaccepted_answers"}
    listed = nurse.get("/clinic/alerts/").content.decode()
    assert "More than half the days" not in listed  # the list shows no answers


# --- the pre check-in opens on the session's day -------------------------------------------------


def tomorrow_at_ten() -> datetime:
    return datetime.combine(course_today() + timedelta(days=1), time(10), ZoneInfo(COURSE_ZONE))


@pytest.mark.parametrize("lang", LANGS)
def test_the_pre_check_in_is_not_open_before_the_sessions_day(planned: Planned, lang: str) -> None:
    sign(planned)
    _, token = schedule(planned, tomorrow_at_ten())
    response = client(lang).get(f"/s/{token}/")
    body = text(response)
    assert response.status_code == 200
    assert 'name="vitals.systolic"' not in body and "go ahead" not in body
    heading = {
        "en": "Your check-in opens on the day of your session",
        "es": "Su registro se abre el día de su sesión",
    }[lang]
    assert heading in body
    with translation.override(lang):
        day = formats.date_format(tomorrow_at_ten().date(), "DATE_FORMAT")
    assert day in body
    assert {"en": "Eastern time", "es": "hora del Este"}[lang] in body
    assert "988" in body  # the crisis line, as on every patient page


def test_a_pre_check_in_sent_before_the_sessions_day_is_not_stored(planned: Planned) -> None:
    sign(planned)
    session, token = schedule(planned, tomorrow_at_ten())
    sent = client("en").post(f"/s/{token}/", form(SAFE_PRE, step="pre"))
    assert sent.status_code == 302  # back to the link, with the not-saved notice
    with pytest.raises(services.CourseError, match="opens on the day of the session"):
        services.submit_session_checkin(session, "pre", SAFE_PRE, "en", timezone.now())
    session.refresh_from_db()
    assert session.status == rules.SCHEDULED and not CheckIn.objects.exists()


def test_the_pre_check_in_opens_at_midnight_of_the_sessions_day_in_its_zone(
    planned: Planned,
) -> None:
    sign(planned)
    session, _ = schedule(planned, tomorrow_at_ten())
    midnight = datetime.combine(tomorrow_at_ten().date(), time(0), ZoneInfo(COURSE_ZONE))
    assert services.pre_checkin_opens_at(session) == midnight
    with pytest.raises(services.CourseError):
        services.submit_session_checkin(
            session, "pre", SAFE_PRE, "en", midnight - timedelta(seconds=1)
        )
    services.submit_session_checkin(session, "pre", SAFE_PRE, "en", midnight)
    session.refresh_from_db()
    assert session.status == rules.READY
