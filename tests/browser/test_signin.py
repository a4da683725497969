"""Staff sign-in in the real browser (Debian Chromium): password + authenticator code, lockout
after five wrong passwords, the idle timeout, and axe-core on the sign-in, second-step and
enrolment pages. Screenshots go to /tmp/xl-shots/ (look at them).

The browser conftest marks these tests django_db(transaction=True): the accounts made here are
visible to the live server, and the PostgreSQL pass runs them too.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from playwright.sync_api import BrowserContext, Page, expect

from crossline.accounts import services
from crossline.accounts.middleware import SEEN
from crossline.accounts.models import Authenticator
from tests.accounts.helpers import (
    PASSWORD,
    code_for,
    make_user,
)
from tests.browser.visitor import axe_violations, describe_violations

SHOTS = Path("/tmp/xl-shots")
EMAIL = "doc@example.org"


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def csp_reports(page: Page) -> list[str]:
    seen: list[str] = []
    page.on(
        "console",
        lambda m: seen.append(m.text) if "Content Security Policy" in m.text else None,
    )
    return seen


def password_step(page: Page, base: str, email: str = EMAIL, password: str = PASSWORD) -> None:
    page.goto(f"{base}/clinic/sign-in/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Continue").click()


def test_password_and_authenticator_code_reach_the_workspace(page: Page, live_server: Any) -> None:
    _, device, _ = make_user()
    assert device is not None
    reports = csp_reports(page)
    page.goto(f"{live_server.url}/clinic/")  # anonymous: sent to sign in, then back
    expect(page).to_have_url(re.compile(r"/clinic/sign-in/\?next=%2Fclinic%2F$"))
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    shot(page, "signin")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    expect(page).to_have_url(f"{live_server.url}/clinic/verify/")
    expect(page.get_by_role("heading", name="Enter your code")).to_be_visible()
    shot(page, "verify")
    page.get_by_label("Code").fill(code_for(device))
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{live_server.url}/clinic/")
    page.goto(f"{live_server.url}/clinic/account/")
    expect(page.get_by_role("heading", name="Your account")).to_be_visible()
    expect(page.locator(".who")).to_have_text(EMAIL)
    shot(page, "account")
    page.get_by_role("button", name="Sign out", exact=True).click()
    expect(page).to_have_url(f"{live_server.url}/clinic/sign-in/")
    expect(page.get_by_text("You are signed out.")).to_be_visible()
    assert not reports, reports


def test_five_wrong_passwords_show_the_locked_page(page: Page, live_server: Any) -> None:
    make_user()
    for attempt in range(4):
        password_step(page, live_server.url, password=f"wrong password {attempt}")
        expect(page.get_by_role("alert")).to_contain_text("do not match an account")
    password_step(page, live_server.url, password="wrong password 5")
    expect(page.get_by_role("heading", name="Sign-in is locked for now")).to_be_visible()
    expect(page.get_by_text("paused for 15 minutes")).to_be_visible()
    shot(page, "locked")
    password_step(page, live_server.url)  # the right password, still locked
    expect(page.get_by_role("heading", name="Sign-in is locked for now")).to_be_visible()


def test_thirty_idle_minutes_send_the_next_page_to_sign_in(
    page: Page, context: BrowserContext, live_server: Any
) -> None:
    _, device, _ = make_user()
    assert device is not None
    password_step(page, live_server.url)
    page.get_by_label("Code").fill(code_for(device))
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{live_server.url}/clinic/")
    page.goto(f"{live_server.url}/clinic/account/")
    expect(page.get_by_role("heading", name="Your account")).to_be_visible()
    key = next(c["value"] for c in context.cookies() if c["name"] == settings.SESSION_COOKIE_NAME)
    session = SessionStore(session_key=key)
    session[SEEN] = session[SEEN] - 31 * 60  # half an hour and a minute without activity
    session.save()
    page.reload()
    expect(page).to_have_url(re.compile(r"/clinic/sign-in/\?next=%2Fclinic%2Faccount%2F$"))
    expect(page.get_by_text("signed out after 30 minutes without activity")).to_be_visible()
    shot(page, "idle-timeout")


def test_sign_in_second_step_and_enrolment_pages_have_no_accessibility_violations(
    open_context: Callable[..., BrowserContext], live_server: Any
) -> None:
    page = open_context(bypass_csp=True).new_page()
    base = live_server.url
    found: dict[str, list[dict[str, Any]]] = {}
    user, token = services.create_user("new@example.org", ["physician"])
    # Enrolment: the password page (with an error shown, then fine), the QR page, the codes.
    page.goto(f"{base}/clinic/enrol/{token}/")
    found["enrol: password"] = axe_violations(page)
    shot(page, "enrol-password")
    page.get_by_label("New password").fill("seven77")
    page.get_by_label("The same password again").fill("seven77")
    page.get_by_role("button", name="Save and continue").click()
    expect(page.get_by_role("alert").first).to_contain_text("too short")
    found["enrol: password refused"] = axe_violations(page)
    page.get_by_label("New password").fill("a long and memorable passphrase")
    page.get_by_label("The same password again").fill("a long and memorable passphrase")
    page.get_by_role("button", name="Save and continue").click()
    expect(page).to_have_url(f"{base}/clinic/enrol/authenticator/")
    expect(page.locator(".qr-image svg")).to_be_visible()
    found["enrol: authenticator"] = axe_violations(page)
    shot(page, "enrol-qr")
    device = Authenticator.objects.get(user=user, confirmed=False)
    expect(page.locator("#secret")).to_have_text(services.manual_secret(device))
    page.get_by_label("Code from the app").fill(code_for(device))
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("heading", name="Your recovery codes")).to_be_visible()
    expect(page.locator("ol.codes li")).to_have_count(10)
    found["enrol: recovery codes"] = axe_violations(page)
    shot(page, "enrol-codes")
    page.get_by_role("link", name="I have saved them: continue").click()
    expect(page).to_have_url(f"{base}/clinic/")
    page.goto(f"{base}/clinic/account/")
    found["account"] = axe_violations(page)
    page.get_by_role("button", name="Sign out", exact=True).click()
    # Sign-in and the second step, with an error shown on each.
    found["sign-in"] = axe_violations(page)
    password_step(page, base, "new@example.org", "not it at all")
    found["sign-in refused"] = axe_violations(page)
    password_step(page, base, "new@example.org", "a long and memorable passphrase")
    expect(page).to_have_url(f"{base}/clinic/verify/")
    found["verify"] = axe_violations(page)
    page.get_by_label("Code").fill("000000")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("not right")
    found["verify refused"] = axe_violations(page)
    violations = {name: v for name, v in found.items() if v}
    assert not violations, "axe-core violations:\n" + describe_violations(violations)
