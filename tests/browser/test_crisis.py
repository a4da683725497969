"""Crisis help wins: it appears the moment an answer shows risk, stays, and ends the check when
the risk is acute — in English and in Spanish. The crisis link is on every page."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Locator, expect

from tests.browser.personas import AT_ACUTE_RISK
from tests.browser.visitor import RESULT_PATH, Visitor, path_of

# What the crisis resources must offer (issue 3, item 2), as the person reads it.
RESOURCES = {
    "en": ["Call 988", "Text 988", "Chat online", "AYUDA", "press 1", "911"],
    "es": [
        "Llame al 988",
        "Envíe AYUDA al 988",
        "Chatee en línea",
        "AYUDA",
        "oprima 1",
        "911",
    ],
}
# The site's own words in English: a Spanish page must not show them (the crisis panel on every
# at-risk screen uses the same translation catalogue as these).
ENGLISH_ONLY = {
    "/": ["Start the check", "A short, private check", "Skip to content"],
    "/crisis/": ["Help is available now", "reach out now"],
}
# Item 9 > 0: the ASQ comes next; acuity "yes": nothing after it.
ASKED = ["phq9.1", "phq9.2", "phq9.9", "asq.1", "asq.2", "asq.3", "asq.4", "asq.5"]
CHAT = {"en": "https://988lifeline.org/", "es": "https://988lifeline.org/es/inicio/"}


def expect_crisis_resources(where: Locator, lang: str) -> None:
    for text in RESOURCES[lang]:
        expect(where).to_contain_text(text)
    for href in ("tel:988", "sms:988", "tel:911", CHAT[lang]):
        expect(where.locator(f'a[href="{href}"]').first).to_be_visible()


@pytest.mark.parametrize("lang", ["en", "es"])
def test_person_at_acute_risk_gets_crisis_help_at_once_and_the_check_ends_on_the_safety_page(
    visitor: Visitor, lang: str
) -> None:
    page = visitor.page
    if lang == "es":
        visitor.open("/")
        visitor.switch_language("es")  # the visible Español button in the top bar
    visitor.start()
    expect(page.locator("html")).to_have_attribute("lang", lang)

    panel = page.locator(".crisis-panel")
    while visitor.screen:
        if "phq9.9" in visitor.screens:  # risk shown: crisis help on this screen, at the top
            expect(panel).to_be_visible()
            expect(panel.locator("h2")).to_be_in_viewport()
            expect_crisis_resources(panel, lang)
        else:
            expect(panel).to_have_count(0)
        visitor.answer(AT_ACUTE_RISK[visitor.screen])

    assert visitor.screens == ASKED
    assert RESULT_PATH.match(path_of(page)), page.url
    expect(page.locator("html")).to_have_attribute("lang", lang)
    expect(page.locator('a[href="tel:988"]').first).to_be_in_viewport()  # no scrolling for help
    expect_crisis_resources(page.locator("main ul.resources"), lang)
    expect(page.locator('main form[action*="/contact#"]')).to_be_visible()  # ask to be contacted
    expect(page.locator('#request, form[action*="/request#"]')).to_have_count(0)  # no booking
    expect(page.get_by_text(re.compile("evaluation|evaluación", re.I))).to_have_count(0)
    if lang == "en":
        expect(page.locator("main")).to_contain_text("no one will call you")

    visitor.open("/check/")  # the check is over: no further question
    assert path_of(page) == "/"


def test_crisis_link_on_every_page_leads_to_crisis_help(visitor: Visitor) -> None:
    page = visitor.page
    failed: list[str] = []  # nothing a page asks for is missing (its icon included)
    page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    for path in ("/", "/crisis/"):
        visitor.open(path)  # Visitor checks the link on every page it reaches (/learn/ too)
    assert failed == []
    icon = page.locator('link[rel="icon"]').get_attribute("href")
    served = page.request.get(visitor.base_url + icon)  # a headless browser does not ask
    assert served.ok and served.headers["content-type"].startswith("image/svg+xml")
    visitor.start()
    visitor.press(page.locator("header.crisis-bar a.crisis-link"))
    assert path_of(page) == "/crisis/"
    expect_crisis_resources(page.locator("main ul.resources"), "en")
    page.go_back()
    visitor.arrived()
    assert visitor.screen == "phq9.1"


def test_spanish_browser_gets_the_site_in_spanish(new_visitor: Callable[..., Visitor]) -> None:
    visitor = new_visitor(lang="es", locale="es-US")  # Accept-Language: es-US,es
    visitor.open("/")
    page = visitor.page
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.locator('form.lang button[value="en"]')).to_have_text("English")
    for english in ENGLISH_ONLY["/"]:
        expect(page.locator("body")).not_to_contain_text(english, timeout=500)
    visitor.open("/crisis/")
    expect_crisis_resources(page.locator("main ul.resources"), "es")
    for english in ENGLISH_ONLY["/crisis/"]:
        expect(page.locator("body")).not_to_contain_text(english, timeout=500)


def test_a_risky_answer_to_a_check_that_ended_brings_crisis_help_first(
    new_visitor: Callable[..., Visitor],
) -> None:
    """The person's check ended while the question was open (a day went by, or it was
    submitted in another tab); they answer item 9 "more than half the days". Nothing can be
    stored, and the page that answers puts the crisis resources first (Spanish; axe-clean)."""
    from tests.browser.visitor import axe_violations, describe_violations

    visitor = new_visitor(lang="es", locale="es-US", bypass_csp=True)
    visitor.start()
    visitor.skip_ahead(AT_ACUTE_RISK, until="phq9.9")
    page = visitor.page
    assert visitor.screen == "phq9.9"
    page.locator('input[type="radio"][name="phq9.9"][value="2"]').check()
    page.context.clear_cookies(name="sessionid")  # the check's session is gone
    visitor.press(page.locator("form.screen button.primary"))

    panel = page.locator(".crisis-panel")
    expect(panel).to_be_visible()
    expect(panel.locator("h2")).to_be_in_viewport()
    expect_crisis_resources(panel, "es")
    expect(page.locator("h1#ended")).to_have_text("Esta prueba terminó")
    found = axe_violations(page)
    assert not found, describe_violations({"check ended, at risk": found})
