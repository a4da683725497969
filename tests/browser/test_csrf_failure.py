"""A form the CSRF check refuses — its cookie gone (cleared, blocked, expired) — is a page of
the site, not Django's bare one: the crisis line on top in the person's language, what
happened and what to do, and the crisis resources at once when the refused answer shows risk.
Free of axe-core violations; screenshots go to tests/browser/screenshots/."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import expect

from tests.browser.personas import AT_ACUTE_RISK
from tests.browser.visitor import Visitor, axe_violations, choose, describe_violations

TITLE = {"en": "This form could not be sent", "es": "No se pudo enviar este formulario"}
HELP = {"en": "Help is available right now", "es": "Hay ayuda disponible ahora mismo"}


@pytest.mark.parametrize("lang", ["en", "es"])
def test_a_risky_answer_refused_for_its_lost_cookie_still_brings_the_crisis_help(
    new_visitor: Callable[..., Visitor], lang: str
) -> None:
    visitor = new_visitor(lang, locale={"en": "en-US", "es": "es-US"}[lang], bypass_csp=True)
    page = visitor.page
    visitor.skip_ahead(AT_ACUTE_RISK, until="phq9.9")
    page.context.clear_cookies()  # the session and the CSRF cookie are gone
    choose(page, "phq9.9", AT_ACUTE_RISK["phq9.9"])
    with page.expect_navigation():
        page.locator("form.screen button.primary").click()
    visitor.arrived()  # the crisis banner in the person's language; fits the phone

    expect(page.locator("html")).to_have_attribute("lang", lang)
    expect(page.locator("h1")).to_have_text(TITLE[lang])
    panel = page.locator(".crisis-panel")
    expect(panel).to_be_visible()
    expect(panel.locator("h2")).to_have_text(HELP[lang])
    expect(panel.locator('a[href="tel:988"]').first).to_be_visible()
    violations = axe_violations(page)
    assert not violations, describe_violations({"csrf failure": violations})
    # The language switch leads to the start page (the refused address takes only a POST).
    other = "es" if lang == "en" else "en"
    visitor.switch_language(other)
    assert page.url.rstrip("/") == visitor.base_url


def test_the_error_pages_a_person_can_meet_are_accessible_and_carry_the_crisis_line(
    new_visitor: Callable[..., Visitor],
) -> None:
    """A form's address opened directly (405), a page that does not exist (404): each a page
    of the site, the crisis banner on top, fitting the phone, free of axe-core violations."""
    visitor = new_visitor(bypass_csp=True)
    for path, status in (("/check/start", 405), ("/no-such-page/", 404)):
        response = visitor.page.goto(visitor.base_url + path)
        assert response is not None and response.status == status
        visitor.arrived()
        violations = axe_violations(visitor.page)
        assert not violations, describe_violations({path: violations})
