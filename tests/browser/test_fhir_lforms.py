"""crossline's assessment Questionnaire in a real FHIR form renderer: NLM's LHC-Forms in
Chromium renders it (LOINC-coded PHQ-9, the ASQ, the checklist) under the crisis line, the
crisis resources appear the moment item 9 is answered above "Not at all", a person answers a few
questions, and the QuestionnaireResponse LHC-Forms writes reads back into exactly the contract
answers they gave: nothing unanswered comes back, as 0 or otherwise. (LHC-Forms shows the
Questionnaire's own language, not the translations it carries: a client that asks for Spanish
gets the Questionnaire in Spanish.)

LHC-Forms' browser build comes from its npm tarball (`make test` fetches it into
node_modules/.lforms-<version>/); the page is served to Chromium by the test itself.
"""

from __future__ import annotations

import json
import mimetypes
from collections.abc import Callable
from pathlib import Path
from typing import Any

from playwright.sync_api import BrowserContext, Page, Route, expect

from crossline.engine import parse_answers
from crossline.fhir import response, validate
from crossline.knowledge import load
from tests.browser.visitor import ROOT, SHOTS

LFORMS = next(iter(sorted((ROOT / "node_modules").glob(".lforms-*"))), None)
PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>LHC-Forms</title><link rel="stylesheet" href="webcomponent/styles.css"></head>
<body><div id="form"></div>
<script src="webcomponent/assets/lib/zone.min.js"></script>
<script src="webcomponent/runtime.js" type="module"></script>
<script src="webcomponent/polyfills.js" type="module"></script>
<script src="webcomponent/main.js" type="module"></script>
<script src="fhir/R4/lformsFHIR.min.js" defer></script>
</body></html>"""


def serve_lforms(page: Page, at: str) -> None:
    """Answer `at` (on the live server's host, so nothing goes off-site) with the test page
    and LHC-Forms' files, before any request reaches the server."""
    assert LFORMS is not None, "no LHC-Forms: `make test` fetches it (node_modules/.lforms-*)"

    def handle(route: Route) -> None:
        rest = route.request.url.removeprefix(at).split("?")[0]
        if rest in ("", "index.html"):
            route.fulfill(body=PAGE, content_type="text/html")
            return
        path = (LFORMS / rest).resolve()
        assert path.is_relative_to(LFORMS) and path.is_file(), rest
        kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        route.fulfill(body=path.read_bytes(), content_type=kind)

    page.route(f"{at}**", handle)


def choose(page: Page, link_id: str, position: int) -> None:
    """Pick the answer at `position` (0 = first) the way LHC-Forms' lists take one from the
    keyboard: focus the field, arrow down to the answer, Enter."""
    field = page.locator(f"input[id='{link_id}/1/1']")
    field.click()
    for _ in range(position + 1):
        field.press("ArrowDown")
    field.press("Enter")


def render(page: Page, live_server: Any, accept_language: str = "en-US") -> dict[str, Any]:
    """The Questionnaire as a client asking for `accept_language` gets it, rendered by LHC-Forms
    on an EHR-sized screen (not a phone). Returns the Questionnaire."""
    page.set_viewport_size({"width": 1280, "height": 900})
    got = page.request.get(
        f"{live_server.url}/fhir/r4/Questionnaire/crossline-assessment",
        headers={"Accept-Language": accept_language},
    )
    questionnaire: dict[str, Any] = got.json()
    at = f"{live_server.url}/__lforms__/"
    serve_lforms(page, at)
    page.goto(at)
    page.wait_for_function("() => window.LForms && LForms.Util && LForms.Util.getFormFHIRData")
    page.evaluate("q => LForms.Util.addFormToPage(q, 'form', {fhirVersion: 'R4'})", questionnaire)
    page.wait_for_selector("input[id='phq9.1/1/1']")
    return questionnaire


def written(page: Page, shot: str) -> dict[str, Any]:
    """The QuestionnaireResponse LHC-Forms writes for what is answered (kept beside the shots)."""
    qr: dict[str, Any] = page.evaluate(
        "() => LForms.Util.getFormFHIRData('QuestionnaireResponse', 'R4',"
        " document.getElementById('form'))"
    )
    (Path(SHOTS) / f"{shot}-response.json").write_text(json.dumps(qr, indent=1))
    return qr


def submit(
    page: Page, live_server: Any, qr: dict[str, Any], accept_language: str = "en-US"
) -> dict[str, Any]:
    """The response as a submission (`application/fhir+json`), from a client asking for
    `accept_language`: the stored decision."""
    submitted = page.request.post(
        f"{live_server.url}/api/v1/assessments",
        data=json.dumps(qr),
        headers={"Content-Type": "application/fhir+json", "Accept-Language": accept_language},
    )
    assert submitted.status == 201, submitted.text()
    decision: dict[str, Any] = submitted.json()["decision"]
    return decision


def test_lhc_forms_renders_the_questionnaire_and_its_response_reads_back(
    open_context: Callable[..., BrowserContext], live_server: Any, shot_prefix: str
) -> None:
    page = open_context().new_page()
    questionnaire = render(page, live_server)
    k = load()
    body = page.locator("#form")
    for link_id in ("phq9.1", "phq9.9", "asq.1", "medical.pregnant"):
        assert k.items[link_id].text["en"] in body.inner_text()
    lifeline = page.get_by_text(k.resources[0].label["en"])  # "Call 988 — the 988 Suicide …"
    expect(page.get_by_text(k.docs["resources.toml"]["banner"]["en"]).first).to_be_visible()
    expect(lifeline).to_have_count(0)  # no risk answered yet: only the crisis line at the top
    choose(page, "phq9.1", 1)  # Several days
    choose(page, "phq9.2", 3)  # Nearly every day
    page.screenshot(path=SHOTS / f"{shot_prefix}-rendered.png", full_page=False)
    choose(page, "phq9.9", 1)  # thoughts of self-harm on several days: resources at once
    expect(lifeline.first).to_be_visible()
    lifeline.first.scroll_into_view_if_needed()
    page.screenshot(path=SHOTS / f"{shot_prefix}-crisis.png", full_page=False)

    qr = written(page, shot_prefix)
    validate(qr)
    answers = response.to_answers(k, qr, questionnaire["url"].rsplit("/Questionnaire/", 1)[0])
    assert parse_answers(k, answers) == {"phq9.1": 1, "phq9.2": 3, "phq9.9": 1}

    # What the form wrote is a submission: the decision puts safety first (item 9 answered,
    # the ASQ not: unknown acuity is acute) and nothing unanswered is read as 0.
    decision = submit(page, live_server, qr)
    assert (decision["eligibility"], decision["safety"]["level"]) == ("safety_first", "acute")
    assert decision["safety"]["crisis_resources"] and "asq.5" in decision["missing"]


def test_a_spanish_speaking_client_gets_the_form_and_the_crisis_help_in_spanish(
    open_context: Callable[..., BrowserContext], live_server: Any, shot_prefix: str
) -> None:
    """An EHR or portal that asks for Spanish (Accept-Language) gets the Questionnaire in
    Spanish — the validated Spanish wording, the crisis line and resources in Spanish — and the
    response its form writes is answered with a Spanish decision."""
    page = open_context(locale="es-US").new_page()
    assert render(page, live_server, "es-US,es;q=0.9")["language"] == "es"
    k = load()
    body = page.locator("#form")
    for link_id in ("phq9.1", "phq9.9", "asq.5"):
        assert k.items[link_id].text["es"] in body.inner_text()
    expect(page.get_by_text(k.docs["resources.toml"]["banner"]["es"]).first).to_be_visible()
    lifeline = page.get_by_text(k.resources[0].label["es"])
    expect(lifeline).to_have_count(0)
    choose(page, "phq9.9", 2)  # "Más de la mitad de los días"
    expect(lifeline.first).to_be_visible()
    lifeline.first.scroll_into_view_if_needed()
    page.screenshot(path=SHOTS / f"{shot_prefix}-crisis.png", full_page=False)
    qr = written(page, shot_prefix)
    # LHC-Forms leaves `language` out: the client's own Accept-Language says it was Spanish.
    assert "language" not in qr
    decision = submit(page, live_server, qr, "es-US,es;q=0.9")
    assert decision["safety"]["level"] == "acute"
    assert decision["safety"]["resources"][0]["label"] == k.resources[0].label["es"]
