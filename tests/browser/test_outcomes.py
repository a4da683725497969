"""Three people complete the check in the browser and get the result their answers call for."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.personas import BURNED_OUT, DEPRESSED_IN_FLORIDA, DEPRESSED_IN_TEXAS
from tests.browser.visitor import Visitor

CANDIDATE_STEPS = ["medical", "medications", "history.antidepressant_trials"]


def expect_no_evaluation_offer(visitor: Visitor) -> None:
    page = visitor.page
    expect(page.locator('#request, form[action*="/request#"]')).to_have_count(0)
    expect(page.get_by_role("button", name=re.compile("evaluation", re.I))).to_have_count(0)


def test_burned_out_person_is_told_it_looks_like_burnout_and_offered_no_ketamine(
    visitor: Visitor,
) -> None:
    visitor.start()
    screens = visitor.take(BURNED_OUT)

    assert not set(CANDIDATE_STEPS) & set(screens)
    page = visitor.page
    expect(page.locator("main h1")).to_have_text("Looks like burnout")
    expect(page.locator("main")).to_contain_text(
        re.compile(r"ketamine is not a (burnout )?treatment", re.I)
    )
    expect_no_evaluation_offer(visitor)
    expect(page.locator("main form")).to_have_count(0)  # no contact form of any kind either


def test_depressed_candidate_in_florida_may_be_a_candidate_and_sees_why_with_sources(
    visitor: Visitor,
) -> None:
    # The questions before the state are given by plain form posts: the transfer test clicks
    # through this whole walk, the other walks click through the same question pages.
    visitor.skip_ahead(DEPRESSED_IN_FLORIDA, until="profile.state")
    screens = visitor.take(DEPRESSED_IN_FLORIDA)

    assert screens[-5:] == ["profile.state", "profile.age", *CANDIDATE_STEPS]
    page = visitor.page
    expect(page.locator("main")).to_contain_text("may be a candidate")
    reasons = page.locator("ol.reasons > li")
    assert reasons.count() >= 3
    for reason in reasons.all():
        sources = reason.locator('.rule a[href^="#source-"]')
        assert sources.count(), f"a reason without a source: {reason.inner_text()}"
        for link in sources.all():
            target = page.locator(f'[id="{link.get_attribute("href")[1:]}"]')
            expect(target).to_have_count(1)
            expect(target).to_contain_text(re.compile(r"\w{3,}.*\w{3,}"))
    benzodiazepine = reasons.filter(has_text="medication.benzodiazepine")
    benzodiazepine.locator("summary").click()
    expect(benzodiazepine.locator("details")).to_contain_text("Xanax 0.5 mg")
    expect(benzodiazepine.locator("details li").first).to_be_visible()
    visitor.shoot("medicine-reason-open")

    form = page.locator('#request form[action*="/request#"]')
    if form.count():  # the evaluation request form is being built alongside these tests
        for label in ("Your name", "E-mail", "Phone", "The state you will be in"):
            expect(form.get_by_label(label).first).to_be_visible()
        expect(form.get_by_role("checkbox")).to_be_visible()
        expect(form.get_by_role("button", name="Request an evaluation")).to_be_visible()


def test_person_in_texas_gets_a_triage_result_and_where_else_to_turn_without_the_checklist(
    visitor: Visitor,
) -> None:
    # As for the candidate: plain form posts up to the state. A checklist, medicines or history
    # screen would fail either walk.
    visitor.skip_ahead(DEPRESSED_IN_TEXAS, until="profile.state")
    screens = visitor.take(DEPRESSED_IN_TEXAS)

    assert screens[-2:] == ["profile.state", "profile.age"]
    page = visitor.page
    expect(page.locator("main h1")).to_have_text("Burnout that may have become depression")
    expect(page.locator("main")).to_contain_text("Not available in your state")
    expect(page.locator("main")).to_contain_text("share them with your own doctor")
    expect_no_evaluation_offer(visitor)
