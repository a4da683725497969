"""The evaluation form and the patient's letter in Chromium: a physician records a visit, is told
what approval lacks, declines; the person reads the letter through their private link.

Screenshots go to tests/browser/screenshots/ (look at them). Pages are checked with the site's
CSP enforced (no blocked style or script) and, in a bypass_csp context, with axe-core.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.conf import settings
from playwright.sync_api import BrowserContext, Page, expect

from tests.browser.visitor import SHOTS, axe_violations, describe_violations
from tests.evaluation.conftest import NON_ACUTE, clinician, request_evaluation, submit_screen
from tests.web.personas import CANDIDATE

REASON = "Your blood pressure at the visit was too high for sessions at home."
ADDENDUM = "Repeat reading by phone on 29 Nov: 148/92. The decision stands."


def signed_in(context: BrowserContext, base_url: str, role: Any, name: str) -> BrowserContext:
    """The browser carries the session of a physician who passed the second factor."""
    from crossline.accounts.roles import Role

    client = clinician(Role(role), name)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": base_url}])
    return context


def watch_csp(page: Page) -> list[str]:
    blocked: list[str] = []
    page.on(
        "console",
        lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None,
    )
    return blocked


def shoot(page: Page, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SHOTS / f"evaluation-{name}.png", full_page=True)


def no_axe_violations(context: BrowserContext, url: str) -> None:
    page = context.new_page()
    page.goto(url)
    found = axe_violations(page)
    assert not found, describe_violations({url: found})


@pytest.mark.django_db(transaction=True)
def test_a_physician_records_a_visit_and_declines_and_the_person_reads_the_letter(
    open_context: Callable[..., BrowserContext], live_server: Any
) -> None:
    base = live_server.url
    token = submit_screen(NON_ACUTE)
    case = request_evaluation(token)
    url = f"{base}/clinic/cases/{case.public_id}/evaluation/"

    staff = signed_in(open_context(), base, "physician", "dr.grey")
    page = staff.new_page()
    page.set_viewport_size({"width": 1100, "height": 900})  # a clinician's desktop
    blocked = watch_csp(page)
    page.goto(url)
    expect(page.get_by_role("heading", name="Evaluation (telehealth visit)")).to_be_visible()
    shoot(page, "01-form")

    page.get_by_label("Yes", exact=True).first.check()
    page.get_by_label("Medicines the person takes").fill("sertraline 50 mg daily\nXanax 0.5 mg")
    page.get_by_label("Blood pressure, systolic (mmHg)").fill("400")
    page.get_by_label("Blood pressure, diastolic (mmHg)").fill("85")
    page.get_by_label("Approve for a course").check()
    page.get_by_role("button", name="Record decision").click()
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text(
        "Blood pressure, systolic (mmHg): Ensure this value is less than"
    )
    shoot(page, "02-errors")
    summary.get_by_role("link").first.click()
    expect(page.locator("#id_bp_systolic")).to_be_focused()

    page.get_by_label("Blood pressure, systolic (mmHg)").fill("150")
    page.get_by_role("button", name="Record decision").click()
    expect(page.get_by_role("alert")).to_contain_text("Approval is not possible yet")
    expect(page.get_by_role("alert")).to_contain_text("medication.benzodiazepine")
    shoot(page, "03-approval-refused")

    page.get_by_label("Decline").check()
    page.get_by_label("Reason for declining").fill(REASON)
    page.get_by_role("button", name="Record decision").click()
    recorded = page.get_by_role("status").filter(has_text="Decision recorded: Decline.")
    expect(recorded).to_be_visible()
    shoot(page, "04-decided")
    # Final now: a correction is an addendum (an empty one is refused, naming the field).
    page.get_by_role("button", name="Add the addendum").click()
    expect(page.locator("#addendum_text_error")).to_have_text(
        "Write the addendum (it cannot be empty)."
    )
    page.get_by_label("Addendum:", exact=True).fill(ADDENDUM)
    page.get_by_role("button", name="Add the addendum").click()
    expect(page.get_by_role("status").filter(has_text="Addendum added.")).to_be_visible()
    expect(page.locator("ol.addenda li")).to_have_count(1)
    expect(page.locator("ol.addenda")).to_contain_text(ADDENDUM)
    expect(page.get_by_role("link", name="1 addendum")).to_be_visible()
    shoot(page, "04b-addendum")
    addenda = page.locator("section[aria-labelledby=addenda-title]")
    addenda.screenshot(path=SHOTS / "evaluation-04c-addenda-section.png")
    assert not blocked, blocked

    person = open_context().new_page()
    person_blocked = watch_csp(person)
    person.goto(f"{base}/r/{token}/")
    person.get_by_role("link", name="Read the letter").click()
    expect(person.get_by_role("heading", level=1)).to_have_text(
        "About your request for a physician evaluation"
    )
    expect(person.get_by_text(REASON)).to_be_visible()
    expect(person.get_by_role("link", name="In crisis? Call or text 988")).to_be_visible()
    shoot(person, "05-letter-en")
    assert not person_blocked, person_blocked

    axe_staff = signed_in(open_context(bypass_csp=True), base, "physician", "dr.axe")
    no_axe_violations(axe_staff, url)
    no_axe_violations(open_context(bypass_csp=True), f"{base}/r/{token}/letter/")


@pytest.mark.django_db(transaction=True)
def test_a_spanish_screen_gets_its_referral_letter_in_spanish(
    open_context: Callable[..., BrowserContext], live_server: Any
) -> None:
    base = live_server.url
    token = submit_screen(CANDIDATE, "es")
    case = request_evaluation(token, "es")
    staff = signed_in(open_context(), base, "physician", "dr.lopez").new_page()
    staff.goto(f"{base}/clinic/cases/{case.public_id}/evaluation/")
    staff.get_by_label("Refer elsewhere").check()
    staff.get_by_label("Refer to").fill("Clínica del Ánimo, Miami — 305 555 0100")
    shoot(staff, "06-form-phone")
    staff.get_by_role("button", name="Record decision").click()
    recorded = staff.get_by_role("status").filter(has_text="Decision recorded: Refer elsewhere.")
    expect(recorded).to_be_visible()

    person = open_context(locale="es-US").new_page()
    person.goto(f"{base}/r/{token}/letter/")
    expect(person.get_by_role("heading", level=1)).to_have_text("Una derivación de su médico")
    expect(person.get_by_text("Clínica del Ánimo, Miami — 305 555 0100")).to_be_visible()
    shoot(person, "07-letter-es")
    no_axe_violations(open_context(bypass_csp=True), f"{base}/r/{token}/letter/")
