"""A weekly PHQ-9 updates the charts: the patient answers the weekly questionnaire on a phone, in
English and in Spanish; their course page and the clinician's course page then chart the new
score against the baseline, with response and remission marked.

Screenshots go to tests/browser/screenshots/ (look at them). The site's CSP is enforced: the
SVG charts use no inline style.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import BrowserContext, Page, expect

from crossline.accounts.roles import Role
from crossline.course import services
from tests.browser.test_course_patient import planned_course
from tests.browser.test_course_staff import carrying
from tests.browser.test_evaluation_pages import watch_csp
from tests.browser.visitor import SHOTS
from tests.course.conftest import weekly_answers

WORDS = {
    "en": {"send": "Send the questionnaire", "progress": "How you are doing", "no": "No"},
    "es": {"send": "Enviar el cuestionario", "progress": "Cómo le va", "no": "No"},
}


def shoot(page: Page, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SHOTS / f"course-outcomes-{name}.png", full_page=True)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("lang", ["en", "es"])
def test_a_weekly_phq9_updates_the_patient_and_clinician_charts(
    open_context: Callable[..., BrowserContext], live_server: Any, lang: str
) -> None:
    w = WORDS[lang]
    p = planned_course(lang)
    baseline = p.course.weeklies.get(number=0)
    services.submit_weekly(
        baseline,
        weekly_answers([2] * 8 + [0], [2] * 7, **{"course.bladder": "no"}),
        lang,
        timezone.now(),
    )
    week1 = p.course.weeklies.get(number=1)
    week1.due_on = timezone.localdate()
    week1.save()
    token = week1.token

    locale = "es-US" if lang == "es" else "en-US"
    page = open_context(locale=locale).new_page()
    blocked = watch_csp(page)
    page.goto(f"{live_server.url}/w/{token}/")
    expect(page.locator("html")).to_have_attribute("lang", lang)
    # PHQ-9 16 → 4 (response and remission); GAD-7 14 → 7 (response); item 9 stays 0.
    for i in range(1, 10):
        page.locator(f'input[name="phq9.{i}"][value="{1 if i <= 4 else 0}"]').check()
    for i in range(1, 8):
        page.locator(f'input[name="gad7.{i}"][value="1"]').check()
    page.get_by_role("button", name=w["send"]).click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()

    page.goto(f"{live_server.url}/r/{p.result_token}/course/")
    expect(page.get_by_role("heading", name=w["progress"])).to_be_visible()
    chart = page.locator("#outcome-phq9")
    expect(chart.locator("svg.chart")).to_be_visible()
    expect(chart.locator("table tbody tr")).to_have_count(2)
    expect(chart.locator("table")).to_contain_text("16")
    shoot(page, f"patient-{lang}")
    assert not blocked, blocked

    staff = carrying(open_context(), live_server.url, Role.PHYSICIAN, f"dr.chart.{lang}")
    desk = staff.new_page()
    desk.set_viewport_size({"width": 1200, "height": 900})
    desk.goto(f"{live_server.url}/clinic/courses/{p.course.public_id}/")
    outcomes = desk.locator("#outcome-phq9")
    expect(outcomes).to_contain_text("PHQ-9 went from 16 at baseline to 4")
    expect(outcomes.locator("table tbody tr")).to_have_count(2)
    outcomes.scroll_into_view_if_needed()
    shoot(desk, f"clinician-{lang}")


@pytest.mark.django_db(transaction=True)
def test_the_patients_course_page_with_charts_passes_axe(
    open_context: Callable[..., BrowserContext], live_server: Any
) -> None:
    from tests.browser.visitor import axe_violations, describe_violations

    p = planned_course("en")
    for week, phq in ((0, [2] * 8 + [0]), (1, [1] * 4 + [0] * 5)):
        weekly = p.course.weeklies.get(number=week)
        extra = {"course.bladder": "no"} if week == 0 else {}
        services.submit_weekly(weekly, weekly_answers(phq, [1] * 7, **extra), "en", timezone.now())
    page = open_context(bypass_csp=True).new_page()
    url = f"{live_server.url}/r/{p.result_token}/course/"
    page.goto(url)
    expect(page.locator("#outcome-gad7 svg.chart")).to_be_visible()
    found = axe_violations(page)
    assert not found, describe_violations({url: found})


# Words split across lines in a cell: a range over each word that renders as more than one box.
SPLIT_WORDS = """(root) => {
  const split = [];
  for (const cell of root.querySelectorAll("th, td, caption")) {
    const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      for (const m of node.data.matchAll(/\\S+/g)) {
        const range = document.createRange();
        range.setStart(node, m.index);
        range.setEnd(node, m.index + m[0].length);
        if (range.getClientRects().length > 1) split.push(m[0]);
      }
    }
  }
  return split;
}"""


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("lang", ["en", "es"])
def test_the_patients_score_tables_keep_every_word_whole_at_320_px(
    open_context: Callable[..., BrowserContext], live_server: Any, lang: str
) -> None:
    """The numbers under each chart are its text alternative: on a narrow phone a word broken
    letter by letter ("P/u/nt/aj/e") cannot be read, so the table scrolls sideways instead."""
    p = planned_course(lang)
    for week, phq in ((0, [2] * 8 + [0]), (1, [1] * 4 + [0] * 5)):
        weekly = p.course.weeklies.get(number=week)
        extra = {"course.bladder": "no"} if week == 0 else {}
        services.submit_weekly(weekly, weekly_answers(phq, [1] * 7, **extra), lang, timezone.now())
    page = open_context(locale="es-US" if lang == "es" else "en-US").new_page()
    page.set_viewport_size({"width": 320, "height": 740})
    page.goto(f"{live_server.url}/r/{p.result_token}/course/")
    for instrument in ("phq9", "gad7"):
        table = page.locator(f"#outcome-{instrument} .chart-table")
        expect(table.locator("tbody tr")).to_have_count(2)
        assert table.evaluate(SPLIT_WORDS) == []
        caption = table.locator("caption").bounding_box()
        assert caption is not None and caption["x"] + caption["width"] <= 320  # read in full
    assert page.evaluate("document.documentElement.scrollWidth") <= 320  # only the table scrolls
    shoot(page, f"patient-320-{lang}")
