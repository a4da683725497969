"""A patient on a phone signs the treatment consent, sends the pre-session check-in with a blood
pressure of 162/96 and is told not to take the dose — in English and in Spanish.

Screenshots go to tests/browser/screenshots/ (look at them). The pages run with the site's CSP
enforced (nothing blocked); the hold page is checked with axe-core in a bypass_csp context.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from crossline.accounts.roles import Role
from tests.browser.test_evaluation_pages import watch_csp
from tests.browser.visitor import SHOTS, axe_violations, describe_violations
from tests.course.conftest import Planned, approve, plan, schedule
from tests.staff import staff_user
from tests.visits.conftest import make_patient

WORDS = {
    "en": {
        "name": "Type your full name to sign",
        "sign": "I agree and sign",
        "top": "Blood pressure: the top number (systolic)",
        "bottom": "Blood pressure: the bottom number (diastolic)",
        "pulse": "Pulse (beats per minute)",
        "send": "Send the check-in",
        "hold": "Do not take the dose today.",
        "why": "Blood pressure before the session is above the program limit.",
        "yes": "Yes",
        "no": "No",
        "item9": "Not at all",
        "crisis": "988",
    },
    "es": {
        "name": "Escriba su nombre completo para firmar",
        "sign": "Acepto y firmo",
        "top": "Presión arterial: el número de arriba (sistólica)",
        "bottom": "Presión arterial: el número de abajo (diastólica)",
        "pulse": "Pulso (latidos por minuto)",
        "send": "Enviar el registro",
        "hold": "No tome la dosis hoy.",
        "why": "La presión arterial antes de la sesión está por encima del límite del programa.",
        "yes": "Sí",
        "no": "No",
        "item9": "Ningún día",
        "crisis": "988",
    },
}
CALL_911_NOW = {"en": "Call 911 now.", "es": "Llame al 911 ahora."}
# Each yes/no question and the safe answer (the hold must come from the blood pressure alone).
SAFE = {
    "pre.monitor_present": "yes",
    "pre.fasted": "yes",
    "pre.alcohol_today": "no",
    "pre.sedatives_today": "no",
    "pre.stimulants_today": "no",
    "pre.will_drive": "no",
}


def planned_course(lang: str) -> Planned:
    physician = staff_user(f"dr.phone.{lang}", Role.PHYSICIAN, email=f"dr.{lang}@program.example")
    patient = make_patient(lang)
    approve(patient.case, physician)
    course = plan(patient.case, physician, patient.token, language=lang)
    return Planned(course, patient.case, patient.token, physician)


def fill_pre(page: Page, w: dict[str, str], systolic: str, diastolic: str) -> None:
    """The pre-session check-in: this blood pressure, pulse 74, every other answer safe."""
    page.get_by_label(w["top"]).fill(systolic)
    page.get_by_label(w["bottom"]).fill(diastolic)
    page.get_by_label(w["pulse"]).fill("74")
    for field, value in SAFE.items():
        page.locator(f'input[name="{field}"][value="{value}"]').check()
    page.get_by_label(w["item9"]).check()


def sign_and_check_in(
    open_context: Callable[..., BrowserContext],
    live_server: Any,
    lang: str,
    systolic: str,
    diastolic: str,
    shots: bool = False,
) -> tuple[Page, str, list[str]]:
    """A planned course's first session on a phone: the patient signs the consent and sends
    the pre-session check-in with this blood pressure. The page, its address, CSP refusals."""
    w = WORDS[lang]
    _, token = schedule(planned_course(lang))
    url = f"{live_server.url}/s/{token}/"
    page = open_context(locale="es-US" if lang == "es" else "en-US").new_page()
    page.set_viewport_size({"width": 360, "height": 740})
    blocked = watch_csp(page)
    page.goto(url)
    expect(page.locator("html")).to_have_attribute("lang", lang)
    expect(page.get_by_role("link", name=w["crisis"]).first).to_be_visible()
    page.get_by_label(w["name"]).fill("Zephyrine Quillfeather")
    if shots:
        shoot(page, f"1-consent-{lang}")
    page.get_by_role("button", name=w["sign"]).click()
    fill_pre(page, w, systolic, diastolic)
    if shots:
        shoot(page, f"2-pre-{lang}")
    page.get_by_role("button", name=w["send"]).click()
    return page, url, blocked


def shoot(page: Page, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SHOTS / f"course-patient-{name}.png", full_page=True)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("lang", ["en", "es"])
def test_a_patient_signs_the_consent_and_a_high_blood_pressure_holds_the_session(
    open_context: Callable[..., BrowserContext], live_server: Any, lang: str
) -> None:
    w = WORDS[lang]
    page, url, blocked = sign_and_check_in(open_context, live_server, lang, "162", "96", shots=True)
    expect(page.get_by_role("heading", level=1)).to_have_text(w["hold"])
    expect(page.get_by_text(w["why"])).to_be_visible()
    shoot(page, f"3-hold-{lang}")
    assert not blocked, blocked

    axe = open_context(bypass_csp=True, locale="es-US" if lang == "es" else "en-US").new_page()
    axe.goto(url)
    expect(axe.get_by_role("heading", level=1)).to_have_text(w["hold"])
    found = axe_violations(axe)
    assert not found, describe_violations({url: found})


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("lang", ["en", "es"])
def test_a_reading_in_the_crisis_range_puts_the_911_symptoms_at_the_top_of_the_hold(
    open_context: Callable[..., BrowserContext], live_server: Any, lang: str
) -> None:
    w = WORDS[lang]
    page, url, blocked = sign_and_check_in(open_context, live_server, lang, "186", "112")
    expect(page.get_by_role("heading", level=1)).to_have_text(w["hold"])
    urgent = page.locator("#hold-urgent")
    expect(urgent).to_be_in_viewport()  # on the first screen of a phone, not below the fold
    expect(urgent.locator('a[href="tel:911"]')).to_be_visible()
    shoot(page, f"3b-hold-crisis-{lang}")
    assert not blocked, blocked
    axe = open_context(bypass_csp=True, locale="es-US" if lang == "es" else "en-US").new_page()
    axe.goto(url)
    found = axe_violations(axe)
    assert not found, describe_violations({url: found})


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("lang", ["en", "es"])
def test_an_emergency_symptom_after_the_session_puts_911_first(
    open_context: Callable[..., BrowserContext], live_server: Any, lang: str
) -> None:
    from django.utils import timezone

    from crossline.course import services
    from tests.course.conftest import SAFE_POST, SAFE_PRE, sign

    p = planned_course(lang)
    sign(p)
    session, token = schedule(p)
    services.submit_session_checkin(session, "pre", SAFE_PRE, lang, timezone.now())
    page = open_context(locale="es-US" if lang == "es" else "en-US").new_page()
    blocked = watch_csp(page)
    page.goto(f"{live_server.url}/s/{token}/")
    page.locator('input[name="vitals.systolic"]').fill(str(SAFE_POST["vitals.systolic"]))
    page.locator('input[name="vitals.diastolic"]').fill(str(SAFE_POST["vitals.diastolic"]))
    page.locator('input[name="post.sedation"][value="5"]').check()
    page.locator('input[name="post.dissociation"][value="mild"]').check()
    page.locator('input[name="post.breathing_problem"][value="no"]').check()
    page.locator('input[name="post.nausea"][value="no"]').check()
    page.locator('input[name="post.emergency_symptoms"][value="chest_pain"]').check()
    page.locator('input[name="post.minutes_to_baseline"]').fill("60")
    page.locator('input[name="doses_taken"]').fill("1")
    page.locator("#send").click()
    first = page.locator("h1").first
    expect(first).to_have_text(CALL_911_NOW[lang])  # theirs first; the other language below it
    expect(page.locator("#call-911")).to_have_attribute("href", "tel:911")
    box = page.locator("#call-911").bounding_box()
    assert box is not None and box["y"] < 400  # above the fold on a phone
    shoot(page, f"4-emergency-{lang}")
    assert not blocked, blocked
    p.course.refresh_from_db()  # no further session until the physician decides
    assert (p.course.status, p.course.status_reason) == ("paused", "emergency")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("lang", ["es", "en"])
def test_a_check_in_sent_from_two_tabs_is_stored_once_and_the_second_is_told(
    open_context: Callable[..., BrowserContext], live_server: Any, lang: str
) -> None:
    """The person opened the check-in twice (a reminder's link tapped twice), sent it from the
    first tab, then from the second: the second is not stored, and its page says so in the
    person's language and shows the after-session check that comes next."""
    from crossline.course.models import CheckIn
    from tests.course.conftest import sign

    w = WORDS[lang]
    p = planned_course(lang)
    sign(p)
    _, token = schedule(p)
    url = f"{live_server.url}/s/{token}/"
    context = open_context(bypass_csp=True, locale="es-US" if lang == "es" else "en-US")
    tabs = [context.new_page(), context.new_page()]
    for tab in tabs:
        tab.goto(url)
        fill_pre(tab, w, "128", "82")
    for tab in tabs:
        tab.get_by_role("button", name=w["send"]).click()
        tab.wait_for_load_state()

    second = tabs[1]
    notice = second.locator("#not-saved")
    expect(notice).to_be_visible()
    expect(notice).to_contain_text(
        {"es": "Su respuesta no se guardó", "en": "Your answer was not saved"}[lang]
    )
    expect(second.locator('input[name="step"]')).to_have_value("post")
    expect(second.locator("#errors")).to_have_count(0)
    shoot(second, f"5-sent-twice-{lang}")
    found = axe_violations(second)
    assert not found, describe_violations({url: found})
    assert CheckIn.objects.count() == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("lang", ["es", "en"])
def test_every_patient_course_page_type_has_no_accessibility_violations(
    open_context: Callable[..., BrowserContext], live_server: Any, lang: str
) -> None:
    """Each page a patient's private links can show, in the order a course reaches them:
    consent, pre check-in, after-session check, the 911 page, the course overview on hold after
    it, the weekly questionnaire and its thanks (on hold after new bladder symptoms), an expired
    link, the wait page of a course on hold, a cancelled session, the course overview, and
    both once the physician has stopped the course."""
    from datetime import timedelta

    from django.utils import timezone

    from crossline.course import services
    from crossline.course.models import Course, Session
    from crossline.engine import course as rules
    from tests.course.conftest import SAFE_POST, SAFE_PRE, sign, weekly_answers

    p = planned_course(lang)
    page = open_context(bypass_csp=True, locale="es-US" if lang == "es" else "en-US").new_page()
    found: dict[str, list[dict[str, Any]]] = {}

    def audit(kind: str, path: str, heading: str | None = None) -> None:
        page.goto(f"{live_server.url}{path}")
        expect(page.locator("html")).to_have_attribute("lang", lang)
        if heading is not None:
            expect(page.locator("h1").first).to_have_text(heading)
        found[kind] = axe_violations(page)
        shoot(page, f"6-{len(found):02d}-{kind.split(':')[0].replace(' ', '-')}-{lang}")

    first, token = schedule(p)
    audit("consent", f"/s/{token}/")
    sign(p)
    audit("pre check-in", f"/s/{token}/")
    services.submit_session_checkin(first, "pre", SAFE_PRE, lang, timezone.now())
    audit("after-session check", f"/s/{token}/")
    emergency = {**SAFE_POST, "post.emergency_symptoms": ["chest_pain"]}
    services.submit_session_checkin(first, "post", emergency, lang, timezone.now())
    audit("911 first", f"/s/{token}/", CALL_911_NOW[lang])  # both languages, theirs first
    # The emergency paused the course: its page says so until the physician decides.
    audit("course overview: on hold", f"/r/{p.result_token}/course/")

    def physician_continues() -> None:
        services.decide(
            p.course,
            decision="continue",
            sessions_added=4,
            note="Recovered; continue.",
            user=p.physician,
            request=None,
            now=timezone.now(),
        )

    physician_continues()
    weekly = p.course.weeklies.order_by("number").first()
    assert weekly is not None and weekly.bladder  # the baseline asks about the bladder
    audit("weekly questionnaire", f"/w/{weekly.token}/")
    bladder = {"course.bladder": "yes"}  # new symptoms: the course waits for the physician
    services.submit_weekly(
        weekly, weekly_answers([0] * 9, [0] * 7, **bladder), lang, timezone.now()
    )
    audit("weekly thanks: on hold", f"/w/{weekly.token}/")
    expect(page.locator("#bladder-on-hold")).to_be_visible()
    physician_continues()

    second, token = schedule(p)
    Session.objects.filter(pk=second.pk).update(link_expires_at=timezone.now() - timedelta(hours=1))
    audit("expired link", f"/s/{token}/")
    Session.objects.filter(pk=second.pk).update(link_expires_at=timezone.now() + timedelta(days=1))
    Course.objects.filter(pk=p.course.pk).update(status=rules.SUSPENDED)
    audit("wait: course on hold", f"/s/{token}/", WORDS[lang]["hold"])
    Session.objects.filter(pk=second.pk).update(status=rules.CANCELLED)
    audit("cancelled session", f"/s/{token}/")
    audit("course overview", f"/r/{p.result_token}/course/")
    services.decide(
        p.course,
        decision="stop",
        sessions_added=0,
        note="Stopped at the patient's request.",
        user=p.physician,
        request=None,
        now=timezone.now(),
    )
    audit("cancelled session: course ended", f"/s/{token}/")
    audit("course overview: ended", f"/r/{p.result_token}/course/")
    expect(page.locator("#course-ended")).to_be_visible()
    assert not any(found.values()), describe_violations(found)


@pytest.mark.django_db(transaction=True)
def test_a_weekly_with_risk_sent_after_its_link_ran_out_shows_crisis_help_first(
    open_context: Callable[..., BrowserContext], live_server: Any
) -> None:
    """A Spanish-speaking patient fills the weekly questionnaire with item 9 above 0, but its
    link runs out before they send it: nothing can be stored, and the crisis resources are the
    first thing on the page that answers (axe-clean), with the way on to the link."""
    from datetime import timedelta

    from django.utils import timezone

    from crossline.care.models import Alert
    from crossline.course.models import CheckIn, Weekly

    p = planned_course("es")
    weekly = p.course.weeklies.order_by("number").first()
    assert weekly is not None
    page = open_context(bypass_csp=True, locale="es-US").new_page()
    page.goto(f"{live_server.url}/w/{weekly.token}/")
    for item in range(1, 10):
        page.locator(f'input[name="phq9.{item}"][value="{2 if item == 9 else 0}"]').check()
    for item in range(1, 8):
        page.locator(f'input[name="gad7.{item}"][value="0"]').check()
    for extra in page.locator('input[name^="course."][value="no"]').all():
        extra.check()
    Weekly.objects.filter(pk=weekly.pk).update(
        link_expires_at=timezone.now() - timedelta(minutes=1)
    )
    page.locator("#send").click()
    panel = page.locator(".crisis-panel")
    expect(panel).to_be_visible()
    expect(panel.get_by_role("link").first).to_be_visible()
    expect(page.locator("h1#not-saved")).to_have_text("Su respuesta no se guardó")
    expect(page.locator("#next")).to_have_attribute("href", f"/w/{weekly.token}/")
    shoot(page, "7-not-saved-at-risk-es")
    found = axe_violations(page)
    assert not found, describe_violations({"not saved, at risk": found})
    assert not CheckIn.objects.exists()
    assert Alert.objects.filter(case=p.case, source=Alert.Source.WEEKLY).count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_patient_who_leaves_at_the_asq_step_is_blocked_and_the_worker_alerts(
    open_context: Callable[..., BrowserContext], live_server: Any
) -> None:
    """A Spanish-speaking patient answers item 9 with "more than half the days": the ASQ step
    comes with the crisis resources first, and the course is suspended already. They close the
    browser there. Opened again in a new browser, the link offers no check-in — only "do not
    take the dose" under the crisis resources (axe-clean) — and after the grace period the
    worker alerts the roster (acute: the acuity unknown)."""
    from crossline.care.models import Alert
    from crossline.course import services
    from crossline.course.models import CheckIn, Course, FirstStep
    from crossline.engine import course as rules
    from tests.course.conftest import sign

    w = WORDS["es"]
    p = planned_course("es")
    sign(p)
    _, token = schedule(p)
    url = f"{live_server.url}/s/{token}/"
    page = open_context(locale="es-US").new_page()
    page.set_viewport_size({"width": 360, "height": 740})
    blocked = watch_csp(page)
    page.goto(url)
    fill_pre(page, w, "124", "80")
    page.locator('input[name="phq9.9"][value="2"]').check()
    page.get_by_role("button", name=w["send"]).click()
    expect(page.locator(".crisis-panel")).to_be_in_viewport()
    expect(page.locator('input[name="asq.1"]').first).to_be_attached()
    shoot(page, "8-asq-step-es")
    assert not blocked, blocked
    assert Course.objects.get(pk=p.course.pk).status == rules.SUSPENDED
    assert not CheckIn.objects.exists()
    page.context.close()  # the person leaves at the ASQ step

    again = open_context(bypass_csp=True, locale="es-US").new_page()
    again.goto(url)
    expect(again.locator(".crisis-panel")).to_be_visible()
    expect(again.locator("h1#wait")).to_have_text(w["hold"])
    expect(again.locator('input[name="vitals.systolic"]')).to_have_count(0)
    shoot(again, "8-left-at-asq-es")
    found = axe_violations(again)
    assert not found, describe_violations({"left at the ASQ step": found})

    first = FirstStep.objects.get()
    assert services.alert_left_first_steps(first.sent_at + services.ASQ_STEP_GRACE) == 1
    alert = Alert.objects.get(case=p.case)
    assert (alert.source, alert.level) == (Alert.Source.PRE, Alert.Level.ACUTE)
