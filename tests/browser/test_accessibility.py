"""axe-core finds no WCAG 2.1 A/AA or best-practice violation on any page type.

The pages are opened in a context with `bypass_csp` (the site's CSP would block the injected
axe-core script). The walk to each page is made with plain form posts to the real views
(`Visitor.skip_ahead`): the walks themselves are tested, page by page, in the other modules.
A violation is a UI bug: the message lists each rule, its impact and the target selectors.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.browser.personas import (
    AT_ACUTE_RISK,
    BURNED_OUT,
    DEPRESSED_IN_FLORIDA,
    DEPRESSED_IN_TEXAS,
)
from tests.browser.visitor import Visitor, axe_violations, describe_violations, path_of

Found = dict[str, list[dict[str, Any]]]


@pytest.fixture
def axe_visitor(new_visitor: Callable[..., Visitor]) -> Visitor:
    return new_visitor(bypass_csp=True)


def audit(visitor: Visitor, page_type: str, found: Found) -> None:
    found[f"{page_type} ({path_of(visitor.page)})"] = axe_violations(visitor.page)


def assert_no_violations(found: Found) -> None:
    violations = {page: v for page, v in found.items() if v}
    assert not violations, "axe-core violations:\n" + describe_violations(violations)


def test_home_crisis_and_learn_pages_have_no_accessibility_violations(
    axe_visitor: Visitor,
) -> None:
    found: Found = {}
    for page_type, path in (("home", "/"), ("crisis", "/crisis/"), ("learn", "/learn/")):
        axe_visitor.open(path)
        audit(axe_visitor, page_type, found)
    assert_no_violations(found)


def test_question_pages_and_the_burnout_result_have_no_accessibility_violations(
    axe_visitor: Visitor,
) -> None:
    found: Found = {}
    for page_type, screen in (
        ("radio question", "phq9.1"),
        ("state select", "profile.state"),
        ("age input", "profile.age"),
        ("burnout result", None),
    ):
        axe_visitor.skip_ahead(BURNED_OUT, until=screen)
        assert axe_visitor.screen == screen
        audit(axe_visitor, page_type, found)
    assert_no_violations(found)


def test_checklist_medications_and_candidate_result_have_no_accessibility_violations(
    axe_visitor: Visitor,
) -> None:
    found: Found = {}
    for page_type, screen in (
        ("checklist", "medical"),
        ("medications", "medications"),
        ("candidate result", None),
    ):
        axe_visitor.skip_ahead(DEPRESSED_IN_FLORIDA, until=screen)
        assert axe_visitor.screen == screen
        audit(axe_visitor, page_type, found)
    assert_no_violations(found)


@pytest.mark.parametrize("lang", ["en", "es"])
def test_crisis_panel_and_safety_page_have_no_accessibility_violations(
    new_visitor: Callable[..., Visitor], lang: str
) -> None:
    visitor = new_visitor(lang=lang, locale=f"{lang}-US", bypass_csp=True)
    found: Found = {}
    for page_type, screen in (("question with crisis panel", "asq.1"), ("safety result", None)):
        visitor.skip_ahead(AT_ACUTE_RISK, until=screen)
        assert visitor.screen == screen
        audit(visitor, f"{page_type}, {lang}", found)
    assert_no_violations(found)


def test_outside_service_area_result_has_no_accessibility_violations(
    axe_visitor: Visitor,
) -> None:
    found: Found = {}
    axe_visitor.skip_ahead(DEPRESSED_IN_TEXAS)
    audit(axe_visitor, "outside service area result", found)
    assert "Not available in your state" in axe_visitor.page.inner_text("main")
    assert_no_violations(found)


def test_the_accessibility_check_reports_a_known_violation(axe_visitor: Visitor) -> None:
    """The harness itself: a page with an unlabelled field and an image without text fails."""
    axe_visitor.page.set_content(
        '<!doctype html><html lang="en"><title>t</title><main><h1>t</h1>'
        '<input type="text"><img src="data:image/gif;base64,R0lGODlhAQABAAAAACw="></main></html>'
    )
    rules = {v["id"] for v in axe_violations(axe_visitor.page)}
    assert {"label", "image-alt"} <= rules, rules
