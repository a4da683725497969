"""The audit log's search and download in Chromium: a period that ends before it starts is
named at its field; a good search downloads the CSV; axe-core finds no violation."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from playwright.sync_api import BrowserContext, expect

from tests.browser.test_program_dashboard import operator_session, signed_in
from tests.browser.visitor import SHOTS, assert_accessible


def test_the_audit_log_downloads_what_was_searched(
    open_context: Callable[..., BrowserContext], live_server: Any, shot_prefix: str
) -> None:
    key = operator_session()
    page = signed_in(open_context(), live_server, key).new_page()
    page.goto(f"{live_server.url}/clinic/audit/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Audit log")
    page.get_by_label("From (UTC date").fill("2026-11-05")
    page.get_by_label("To (UTC date").fill("2026-11-01")
    page.get_by_role("button", name="Download CSV").click()
    expect(page.locator("#id_until_error")).to_contain_text("before the first day")
    expect(page.get_by_role("alert")).to_contain_text("To (UTC date): The last day is before")
    expect(page.get_by_label("To (UTC date")).to_have_attribute("aria-invalid", "true")
    page.screenshot(path=str(SHOTS / f"{shot_prefix}-error.png"), full_page=True)

    page.get_by_label("From (UTC date").fill("2026-01-01")
    page.get_by_label("To (UTC date").fill("2026-12-31")
    page.get_by_label("Action").select_option("signin.succeeded")
    with page.expect_download() as info:
        page.get_by_role("button", name="Download CSV").click()
    download = info.value
    assert download.suggested_filename.startswith("crossline-audit-")
    with open(download.path(), encoding="utf-8") as f:
        header = f.readline().strip()
    assert header == "seq,at,action,actor,actor_id,patient,object_type,object_id,request_id,detail"

    axe_page = signed_in(open_context(bypass_csp=True), live_server, key).new_page()
    paths = ["/clinic/audit/", "/clinic/audit/?since=2026-11-05&until=2026-11-01"]
    assert_accessible(axe_page, live_server.url, paths)
