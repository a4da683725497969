"""The operator's program dashboard in Chromium: it renders under the site's CSP, the legal
basis warning shows, axe-core finds no violation; screenshots (phone and desktop) are saved to
tests/browser/screenshots/ to be looked at."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from django.utils import timezone
from playwright.sync_api import BrowserContext, expect

from tests.browser.visitor import SHOTS, assert_accessible, axe_violations, describe_violations
from tests.program.conftest import cds_card
from tests.staff import session_key, staff_user


def operator_session() -> str:
    """A signed-in operator with a verified TOTP device: the session cookie's value."""
    user = staff_user("olive.operator", "operator", email="olive@clinic.test")
    doc = staff_user("pat.physician", "physician", email="pat@clinic.test", totp=False)
    from crossline.program.models import ConsentText, OnCallEntry

    OnCallEntry.objects.create(user=doc, position=1)
    ConsentText.objects.create(
        kind="contact", version="2027-01-15", text_en="e", text_es="s", published_at=timezone.now()
    )
    return session_key(user)


def signed_in(context: BrowserContext, live_server: Any, key: str) -> BrowserContext:
    host = urlsplit(live_server.url).hostname
    context.add_cookies([{"name": "sessionid", "value": key, "domain": host, "path": "/"}])
    return context


def test_the_program_dashboard_renders_and_is_accessible(
    open_context: Callable[..., BrowserContext], live_server: Any, shot_prefix: str, settings: Any
) -> None:
    key = operator_session()
    _cds_cards_given(settings)
    errors: list[str] = []  # CSP violations and failed responses, on every page below
    for name, viewport in (("phone", None), ("desktop", {"width": 1280, "height": 900})):
        page = signed_in(open_context(), live_server, key).new_page()
        if viewport:
            page.set_viewport_size(viewport)
        page.on(
            "console",
            lambda m, errors=errors: (
                errors.append(m.text) if "Content Security Policy" in m.text else None
            ),
        )
        page.on(
            "response",
            lambda r, errors=errors: (
                errors.append(f"{r.status} {r.url}") if r.status >= 400 else None
            ),
        )
        page.goto(f"{live_server.url}/clinic/program/")
        expect(page.get_by_role("heading", level=1)).to_have_text("Program")
        expect(page.locator("p.warning").first).to_contain_text("telemedicine legal basis")
        expect(page.get_by_role("link", name="Change program settings")).to_be_visible()
        page.screenshot(path=str(SHOTS / f"{shot_prefix}-{name}.png"), full_page=True)
        page.screenshot(path=str(SHOTS / f"{shot_prefix}-{name}-first-screen.png"))
        for section in ("settings", "counts", "integrations"):
            page.locator(f'section[aria-labelledby="{section}-h"]').screenshot(
                path=str(SHOTS / f"{shot_prefix}-{name}-{section}.png")
            )
        assert not errors, errors  # no CSP violation, no failed stylesheet

    axe_page = signed_in(open_context(bypass_csp=True), live_server, key).new_page()
    axe_page.goto(f"{live_server.url}/clinic/program/")
    found = axe_violations(axe_page)
    assert not found, describe_violations({"/clinic/program/": found})


def _cds_cards_given(settings: Any) -> None:
    """A trusted EHR that was given cards, one of them overridden (the Integrations tables)."""
    from dataclasses import replace

    ehr = "https://ehr.example.org"
    settings.CROSSLINE = replace(settings.CROSSLINE, cds_clients={ehr: {}})
    cds_card(ehr, "class:maoi", "critical", overridden=1)
    cds_card(ehr, "conditions", "info")


def test_the_screens_export_from_the_dashboard_in_chromium(
    open_context: Callable[..., BrowserContext], live_server: Any, shot_prefix: str
) -> None:
    """Dashboard link → the export form; a bad period names the field; a good one downloads
    the CSV; axe-core finds no violation on the form, with and without errors."""
    key = operator_session()
    page = signed_in(open_context(), live_server, key).new_page()
    page.goto(f"{live_server.url}/clinic/program/")
    page.get_by_role("link", name="Export screen counts by day").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Export screen counts")
    page.get_by_label("First day").fill("2026-11-05")
    page.get_by_label("Last day").fill("2026-11-01")
    page.get_by_role("button", name="Download CSV").click()
    expect(page.get_by_role("alert")).to_contain_text("could not be exported")
    expect(page.get_by_label("Last day")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#id_end-error")).to_contain_text("before the first day")
    page.screenshot(path=str(SHOTS / f"{shot_prefix}-error.png"), full_page=True)

    page.get_by_label("First day").fill("2026-11-01")
    page.get_by_label("Last day").fill("2026-11-05")
    with page.expect_download() as info:
        page.get_by_role("button", name="Download CSV").click()
    download = info.value
    assert download.suggested_filename == "crossline-screens-20261101-20261105.csv"
    with open(download.path(), encoding="utf-8") as f:
        assert f.readline().strip() == "day,result,safety_level,state,stored,purged,total"

    axe_page = signed_in(open_context(bypass_csp=True), live_server, key).new_page()
    paths = ["/clinic/program/export/", "/clinic/program/export/?start=2026-11-05&end=2026-11-01"]
    assert_accessible(axe_page, live_server.url, paths)


def test_an_operator_sets_the_patient_record_retention_in_chromium(
    open_context: Callable[..., BrowserContext], live_server: Any, shot_prefix: str
) -> None:
    """Unset by default (nothing is deleted); set in the admin, refused outside 1–100 years
    with the field named, shown on the dashboard once saved."""
    page = signed_in(open_context(), live_server, operator_session()).new_page()
    page.goto(f"{live_server.url}/clinic/program/")
    expect(page.locator("dd", has_text="patient records are never deleted")).to_be_visible()
    page.get_by_role("link", name="Change program settings").click()
    field = page.get_by_label("Patient records kept for (years after the last activity)")
    field.fill("0")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".errornote")).to_be_visible()
    expect(page.locator(".field-record_retention_years .errorlist")).to_contain_text(
        "greater than or equal to 1"
    )
    page.locator(".field-record_retention_years").screenshot(
        path=str(SHOTS / f"{shot_prefix}-refused.png")
    )
    field.fill("7")
    page.get_by_role("button", name="Save", exact=True).click()
    page.goto(f"{live_server.url}/clinic/program/")
    expect(
        page.locator("dd", has_text="7 years after their last activity, then deleted")
    ).to_be_visible()
    page.locator('section[aria-labelledby="settings-h"]').screenshot(
        path=str(SHOTS / f"{shot_prefix}-settings.png")
    )
    from crossline.program.models import ProgramSettings

    assert ProgramSettings.current().record_retention_years == 7


def test_an_operator_places_and_releases_a_legal_hold_in_chromium(
    open_context: Callable[..., BrowserContext], live_server: Any, shot_prefix: str
) -> None:
    from crossline.clinic.models import RecordHold
    from tests.visits.conftest import make_patient

    case = make_patient().case
    page = signed_in(open_context(), live_server, operator_session()).new_page()
    page.goto(f"{live_server.url}/admin/")
    page.get_by_role("link", name="Legal holds").first.click()
    page.get_by_role("link", name="Add legal hold").click()
    page.get_by_label("Case id").fill("not a case")
    page.get_by_label("Hold reference").fill("Matter 2027-14")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".field-case_id .errorlist")).to_contain_text("Enter a valid UUID")
    page.get_by_label("Case id").fill(str(case.public_id))
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("#result_list")).to_contain_text(str(case.public_id))
    page.screenshot(path=str(SHOTS / f"{shot_prefix}-list.png"), full_page=True)
    assert RecordHold.objects.get().case == case

    page.locator("#result_list").get_by_role("link", name=str(case.public_id)).click()
    page.screenshot(path=str(SHOTS / f"{shot_prefix}-change.png"), full_page=True)
    page.get_by_role("link", name="Delete").click()
    page.get_by_role("button", name="Yes, I’m sure").click()
    expect(page.locator("#result_list, p.paginator").first).to_contain_text("0 legal holds")
    assert not RecordHold.objects.exists()


def test_a_page_outside_ones_roles_is_the_workspace_page(
    open_context: Callable[..., BrowserContext], live_server: Any, shot_prefix: str
) -> None:
    """A clinician opening the operators' page: the workspace's 403 (its navigation, the
    roles the account holds, the crisis line at its foot), accessible."""
    key = session_key(staff_user("ina.intake", "intake", email="ina@clinic.test"))
    page = signed_in(open_context(bypass_csp=True), live_server, key).new_page()
    response = page.goto(live_server.url + "/clinic/program/")
    assert response is not None and response.status == 403
    expect(page.locator("h1")).to_have_text("This page is not open to your account")
    expect(page.locator("nav[aria-label=Workspace]")).to_contain_text("Queue")
    expect(page.locator("footer.staff-crisis")).to_contain_text("988")
    page.screenshot(path=SHOTS / f"{shot_prefix}staff-403.png", full_page=True)
    assert not axe_violations(page), describe_violations({"403": axe_violations(page)})
