"""Going back and reloading never lose an answer; the check works without JavaScript."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import expect

from tests.browser.personas import BURNED_OUT
from tests.browser.visitor import Visitor, path_of


def expect_chosen(visitor: Visitor, screen: str, value: int) -> None:
    assert visitor.screen == screen, visitor.page.url
    expect(visitor.page.locator(f'input[name="{screen}"][value="{value}"]')).to_be_checked()


def test_back_and_reload_keep_the_answers_and_the_check_resumes_where_it_was(
    visitor: Visitor,
) -> None:
    page = visitor.page
    back_link = page.locator("form.screen a.back")
    visitor.start()
    visitor.answer(1)  # phq9.1
    visitor.answer(2)  # phq9.2
    assert visitor.screen == "phq9.9"

    page.go_back()  # the browser's back button
    visitor.arrived()
    expect_chosen(visitor, "phq9.2", 2)
    page.go_back()
    visitor.arrived()
    expect_chosen(visitor, "phq9.1", 1)

    visitor.open("/check/")  # resumes at the first unanswered question
    assert visitor.screen == "phq9.9"
    visitor.press(back_link)  # the page's own Back link
    expect_chosen(visitor, "phq9.2", 2)
    visitor.press(back_link)
    expect_chosen(visitor, "phq9.1", 1)
    expect(back_link).to_have_count(0)  # nothing before the first question
    visitor.answer(1)  # Next, unchanged: back to where the person was
    assert visitor.screen == "phq9.9"

    visitor.answer(0)
    asked = visitor.screen
    assert asked == "phq9.3"  # PHQ-2 of 3 leaves the screen uncertain: the rest of the PHQ-9
    page.reload()
    visitor.arrived()
    assert visitor.screen == asked
    visitor.open("/")
    resume = page.get_by_role("link", name="Continue where you left off")
    visitor.press(resume)
    assert visitor.screen == asked
    visitor.press(back_link)
    expect_chosen(visitor, "phq9.9", 0)


def test_burned_out_person_completes_the_check_without_javascript(
    new_visitor: Callable[..., Visitor],
) -> None:
    visitor = new_visitor(java_script_enabled=False)
    visitor.start()
    visitor.take(BURNED_OUT)

    assert path_of(visitor.page).startswith("/r/")
    expect(visitor.page.locator("main h1")).to_have_text("Looks like burnout")
