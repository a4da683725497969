"""The alerts list in Chromium says when a new alert arrives — without reloading itself — and,
once the session has ended, that it no longer updates. The page with the notice showing stays
free of axe-core violations; screenshots go to tests/browser/screenshots/ to be looked at."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

from django.contrib.sessions.backends.db import SessionStore
from django.test import override_settings
from playwright.sync_api import BrowserContext, ConsoleMessage, Page, Response, expect

from crossline.accounts.middleware import SEEN
from crossline.accounts.roles import Role
from tests.browser.test_program_dashboard import signed_in
from tests.browser.visitor import SHOTS, axe_violations, describe_violations
from tests.care.support import ACUTE, NON_ACUTE, contact_me, on_call, staff, submitted
from tests.staff import session_key, staff_user

OPEN_ROWS = "table[aria-labelledby=open-alerts] tbody tr"


def raise_one(answers: dict[str, Any]) -> None:
    assessment, _ = submitted(answers)
    contact_me(assessment)


def open_list(context: BrowserContext, live_server: Any) -> tuple[Page, str]:
    """One open alert, a clinician's session and the alerts list open in `context`."""
    on_call(staff("ada", "physician"))
    raise_one(NON_ACUTE)
    key = session_key(staff_user("ivy.intake", Role.INTAKE))
    page = signed_in(context, live_server, key).new_page()
    page.goto(f"{live_server.url}/clinic/alerts/")
    return page, key


@override_settings(CROSSLINE_ALERTS_POLL_SECONDS=1)
def test_a_new_alert_is_announced_and_an_ended_session_stops_the_updates(
    open_context: Callable[..., BrowserContext], live_server: Any, shot_prefix: str
) -> None:
    context = open_context()
    errors: list[str] = []  # script errors, CSP refusals and failed responses
    context.on("console", lambda m: _note(m, errors))
    context.on("response", lambda r: _failed(r, errors))
    page, key = open_list(context, live_server)
    status = page.locator("#alerts-status")
    expect(status).to_have_attribute("role", "status")
    expect(page.locator("#alerts-static")).to_be_hidden()  # the no-script notice
    time.sleep(2.5)  # two polls with nothing new: nothing is said
    expect(status).to_be_empty()
    assert page.title().startswith("Alerts")

    raise_one(ACUTE)
    expect(status).to_contain_text("New alerts: 2 open alerts now (1 on this page).")
    assert page.title().startswith("(2) Alerts")
    page.screenshot(path=SHOTS / f"{shot_prefix}-1-new-alert.png")
    expect(page.locator(OPEN_ROWS)).to_have_count(1)  # not reloaded

    status.get_by_role("link", name="Show the current list").click()
    expect(page.locator(OPEN_ROWS)).to_have_count(2)
    time.sleep(1.5)
    expect(status).to_be_empty()

    session = SessionStore(session_key=key)
    session[SEEN] = time.time() - 31 * 60  # the clinician walked away half an hour ago
    session.save()
    expect(status).to_contain_text("Your session has ended, so this list no longer updates.")
    expect(status.get_by_role("link", name="Sign in again")).to_have_attribute(
        "href", re.compile(r"^/clinic/sign-in/\?next=")
    )
    page.screenshot(path=SHOTS / f"{shot_prefix}-2-session-ended.png")
    assert not errors, errors


@override_settings(CROSSLINE_ALERTS_POLL_SECONDS=1)
def test_the_time_left_counts_down_by_the_servers_clock(
    open_context: Callable[..., BrowserContext], live_server: Any, shot_prefix: str
) -> None:
    """A deadline that passes while the list is open shows as overdue at the next check."""
    page, _ = open_list(open_context(), live_server)
    cell = page.locator("td[data-due]")
    expect(cell).to_have_text(re.compile(r"^\d+ h \d+ min left$"))
    expect(cell).not_to_have_class(re.compile("overdue"))
    # As if the page had been open for hours: its deadline is now 5 minutes and 30 s ago.
    page.evaluate(
        "c => c.setAttribute('data-due', String(Math.floor(Date.now() / 1000) - 330))",
        cell.element_handle(),
    )
    expect(cell).to_have_text("overdue by 5 min")
    expect(cell).to_have_class(re.compile("overdue"))
    expect(page.locator("#alerts-status")).to_be_empty()  # the alerts themselves did not change
    page.screenshot(path=SHOTS / f"{shot_prefix}-1-overdue.png")


@override_settings(CROSSLINE_ALERTS_POLL_SECONDS=1)
def test_the_list_with_its_notice_has_no_accessibility_violations(
    open_context: Callable[..., BrowserContext], live_server: Any
) -> None:
    page, _ = open_list(open_context(bypass_csp=True), live_server)
    raise_one(ACUTE)
    expect(page.locator("#alerts-status")).to_contain_text("New alerts")
    violations = axe_violations(page)
    assert not violations, describe_violations({"alerts list": violations})


def _note(message: ConsoleMessage, errors: list[str]) -> None:
    # A failed load is also reported as a response (below), where its address can be seen.
    if message.type == "error" and not message.text.startswith("Failed to load resource"):
        errors.append(message.text)


def _failed(response: Response, errors: list[str]) -> None:
    if response.status >= 400:  # the icon too: every page names its own (no /favicon.ico)
        errors.append(f"{response.status} {response.url}")


def test_without_javascript_the_list_says_when_it_was_drawn(
    open_context: Callable[..., BrowserContext], live_server: Any, shot_prefix: str
) -> None:
    """No script, no updates: the list says so, with the time it was drawn and a reload link;
    a reload shows a newer alert. With script (the tests above) the notice is hidden."""
    page, _ = open_list(open_context(java_script_enabled=False), live_server)
    notice = page.get_by_text("does not update by itself without JavaScript")
    expect(notice).to_be_visible()
    expect(page.locator(OPEN_ROWS)).to_have_count(1)
    page.screenshot(path=SHOTS / f"{shot_prefix}-no-script.png", full_page=True)
    raise_one(ACUTE)
    notice.get_by_role("link", name="reload it").click()
    expect(page.locator(OPEN_ROWS)).to_have_count(2)
