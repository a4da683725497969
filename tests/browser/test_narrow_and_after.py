"""The smallest phones and what comes after a result: at 320 px (and at 200% zoom on a 360 px
phone, 180 CSS px) no page of the check runs off the side in either language; a refused
checklist keeps the person's "yes"; and once answers have shown risk, the crisis panel is on
every page of the site that browser opens — Back from the safety page to the home page too."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import expect

from tests.browser.personas import AT_ACUTE_RISK, DEPRESSED_IN_FLORIDA
from tests.browser.visitor import Visitor


@pytest.mark.parametrize("lang", ["en", "es"])
@pytest.mark.parametrize("width", [320, 180])
def test_the_check_fits_the_narrowest_screens(
    new_visitor: Callable[..., Visitor], lang: str, width: int
) -> None:
    locale = {"en": "en-US", "es": "es-US"}[lang]
    visitor = new_visitor(lang, locale=locale)
    visitor.page.set_viewport_size({"width": width, "height": 740})
    visitor.open("/")  # each arrival checks the page is no wider than the screen
    visitor.open("/learn/", shoot=False)
    visitor.open("/crisis/", shoot=False)
    visitor.start()
    visitor.take(DEPRESSED_IN_FLORIDA)  # every screen to the result, each one checked


def test_a_refused_checklist_keeps_the_yes(new_visitor: Callable[..., Visitor]) -> None:
    visitor = new_visitor()
    visitor.start()
    visitor.skip_ahead(DEPRESSED_IN_FLORIDA, until="medical")
    page = visitor.page
    no = page.locator('input[name="medical.pregnant"][value=""]')
    expect(no).not_to_be_checked()  # nothing looks answered before it is
    page.locator('input[name="medical.pregnant"][value="yes"]').check()
    visitor.press(page.locator("form.screen button.primary"))  # "none of the others" unticked
    expect(page.locator("#errors")).to_be_visible()
    expect(page.locator('input[name="medical.pregnant"][value="yes"]')).to_be_checked()
    visitor.shoot("refused-checklist")


@pytest.mark.parametrize("lang", ["en", "es"])
def test_back_from_the_safety_page_keeps_the_crisis_panel(
    new_visitor: Callable[..., Visitor], lang: str
) -> None:
    locale = {"en": "en-US", "es": "es-US"}[lang]
    visitor = new_visitor(lang, locale=locale)
    visitor.start()
    visitor.take(AT_ACUTE_RISK)
    assert visitor.page.url.split("/")[3] == "r"  # the safety page
    visitor.page.go_back()
    visitor.arrived()
    expect(visitor.page.locator(".crisis-panel")).to_be_visible()
    expect(visitor.page.locator(".crisis-panel a[href='tel:988']").first).to_be_visible()
    visitor.open("/learn/")
    expect(visitor.page.locator(".crisis-panel")).to_be_visible()
