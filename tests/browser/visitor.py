"""A person taking the check in a real browser.

`Visitor` answers screen by screen the way a person would (tap an option, press Next), and on
every page it reaches checks that the crisis banner link is visible at the top and saves a
full-page screenshot to tests/browser/screenshots/ (look at them: they are part of the test).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from playwright.sync_api import APIResponse, Locator, Page, expect

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SHOTS = Path(__file__).resolve().parent / "screenshots"

BANNER = {
    "en": "In crisis? Call or text 988",
    "es": "¿En crisis? Llame al 988 y oprima 2, o envíe AYUDA al 988",
}
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
SCREEN_PATH = re.compile(r"^/check/q/([^/]+)/$")
RESULT_PATH = re.compile(r"^/r/[^/]+/$")

# An answer as a person gives it: an option value, a number, the medicines they type (an empty
# list ticks "I take none"), or the checklist lines they mark yes/unsure by condition id (the
# "none of the others" confirmation is always ticked).
Answer = str | int | list[str] | dict[str, str]


def path_of(page: Page) -> str:
    return urlsplit(page.url).path


def screen_of(page: Page) -> str | None:
    return screen_at(path_of(page))


def screen_at(path: str) -> str | None:
    match = SCREEN_PATH.match(path)
    return match.group(1) if match else None


def page_kind(page: Page) -> str:
    """What a page that is not a question is (names its screenshot)."""
    path = path_of(page)
    if path == "/":
        return "home"
    if RESULT_PATH.match(path):
        return "result"
    return path.strip("/").replace("/", "-") or "page"


def expect_crisis_banner(page: Page, lang: str) -> None:
    """Every page: the crisis link is visible, in the page's language, without scrolling."""
    link = page.locator('header.crisis-bar a.crisis-link[href="/crisis/"]')
    expect(link).to_contain_text(BANNER[lang])
    expect(link).to_be_visible()
    expect(link).to_be_in_viewport()


# The innermost elements whose right edge passes the screen's (for the failure message).
_WIDEST = """(screen) => [...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > screen + 1
               && ![...e.children].some(c => c.getBoundingClientRect().right > screen + 1))
  .slice(0, 5)
  .map(e => `${e.tagName.toLowerCase()}${e.className ? '.' + e.className : ''}`
            + ` "${(e.textContent || '').trim().slice(0, 40)}"`
            + ` (right ${Math.round(e.getBoundingClientRect().right)})`)"""


def expect_fits_the_screen(page: Page) -> None:
    """Nothing runs off the side: the page is no wider than the screen. (Measured against the
    screen: a phone browser widens its layout to fit a page that is too wide.)"""
    screen = page.viewport_size["width"] if page.viewport_size else None
    if screen is not None:
        wider = page.evaluate("document.documentElement.scrollWidth") - screen
        assert wider <= 1, (
            f"{path_of(page)} is {wider} px wider than the {screen} px screen: "
            + ", ".join(page.evaluate(_WIDEST, screen))
        )


def form_for(screen: str, value: Answer) -> dict[str, str]:
    """The form a screen posts for this answer (what `choose` makes the page send)."""
    if screen == "medical":
        assert isinstance(value, dict)
        return {"none_of_the_others": "1", **{f"medical.{c}": m for c, m in value.items()}}
    if screen == "medications":
        assert isinstance(value, list)
        return {"medications": "\n".join(value)} if value else {"no_medications": "1"}
    return {screen: str(value)}


def choose(page: Page, screen: str, value: Answer) -> None:
    """Give one screen's answer without submitting it."""
    if screen == "medical":
        assert isinstance(value, dict)
        for condition, mark in value.items():
            page.locator(f'input[name="medical.{condition}"][value="{mark}"]').check()
        page.locator('input[name="none_of_the_others"]').check()
    elif screen == "medications":
        assert isinstance(value, list)
        if value:
            page.locator("textarea#medications").fill("\n".join(value))
        else:
            page.locator('input[name="no_medications"]').check()
    elif page.locator(f'select[name="{screen}"]').count():
        page.locator(f'select[name="{screen}"]').select_option(str(value))
    elif page.locator(f'input[type="number"][name="{screen}"]').count():
        page.locator(f'input[name="{screen}"]').fill(str(value))
    else:
        page.locator(f'input[type="radio"][name="{screen}"][value="{value}"]').check()


@dataclass
class Visitor:
    page: Page
    base_url: str
    name: str  # screenshot file prefix
    lang: str = "en"
    screens: list[str] = field(default_factory=list)  # screens answered, in order
    _shots: int = 0

    def open(self, path: str, shoot: bool = True) -> None:
        self.page.goto(self.base_url + path)
        self.arrived(shoot)

    def arrived(self, shoot: bool = True) -> None:
        expect_crisis_banner(self.page, self.lang)
        expect_fits_the_screen(self.page)
        if shoot:
            self.shoot(screen_of(self.page) or page_kind(self.page))

    def shoot(self, label: str) -> None:
        """A full-page screenshot: tests/browser/screenshots/<test>-<nn>-<label>.png."""
        self._shots += 1
        shot = SHOTS / f"{self.name}-{self._shots:02d}-{label.replace(' ', '-')}.png"
        self.page.screenshot(path=shot, full_page=True)

    def press(self, button: Locator) -> None:
        """Press a button or link that loads a new page."""
        with self.page.expect_navigation():
            button.click()
        self.arrived()

    def start(self) -> None:
        self.open("/")
        self.press(self.page.locator('form[action$="/check/start"] button'))
        assert screen_of(self.page), f"the check did not start: {self.page.url}"

    def switch_language(self, lang: str) -> None:
        """Press the visible language switch in the top bar."""
        self.lang = lang
        self.press(self.page.locator(f'form.lang button[value="{lang}"]'))

    @property
    def screen(self) -> str | None:
        return screen_of(self.page)

    def answer(self, value: Answer) -> None:
        screen = self.screen
        assert screen, f"not on a question: {self.page.url}"
        choose(self.page, screen, value)
        self.screens.append(screen)
        self.press(self.page.locator("form.screen button.primary"))
        errors = self.page.locator(".errors")
        assert not errors.count(), f"{screen} = {value!r} was refused: {errors.inner_text()}"

    def skip_ahead(self, answers: Mapping[str, Answer], until: str | None = None) -> None:
        """Answer by plain form posts to the real views, without rendering the pages in between,
        from the current question (or a new check) to the `until` screen or the result; then
        open that page. For tests whose subject is a page, not the walk to it."""
        request = self.page.request
        if self.screen is None:
            self.page.goto(self.base_url + "/")  # the CSRF cookie
        cookies = self.page.context.cookies()
        csrf = {"X-CSRFToken": next(c["value"] for c in cookies if c["name"] == "csrftoken")}

        def follow(response: APIResponse) -> str:
            assert response.status == 302, f"{response.url}: {response.status} {response.text()}"
            return response.headers["location"]

        if self.screen is None:
            follow(request.post(self.base_url + "/check/start", headers=csrf, max_redirects=0))
            location = follow(request.get(self.base_url + "/check/", max_redirects=0))
        else:
            location = path_of(self.page)
        for _ in range(80):
            screen = screen_at(location)
            if screen is None or screen == until:
                return self.open(location)
            assert screen in answers, f"unexpected question {screen!r}"
            self.screens.append(screen)
            url = self.base_url + location
            form = form_for(screen, answers[screen])
            location = follow(request.post(url, form=form, headers=csrf, max_redirects=0))
        raise AssertionError(f"the check never ended: {self.screens}")

    def take(self, answers: Mapping[str, Answer], until: str | None = None) -> list[str]:
        """Answer what the flow asks from `answers` until a result page (or the `until` screen).

        A question the person has no answer for fails the test: the flow asked something it
        should not have."""
        for _ in range(80):
            screen = self.screen
            if screen is None or screen == until:
                return self.screens
            assert screen in answers, f"unexpected question {screen!r} after {self.screens}"
            self.answer(answers[screen])
        raise AssertionError(f"the check never ended: {self.screens}")


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's WCAG 2.1 A/AA and best-practice violations (needs a bypass_csp context)."""
    page.add_script_tag(path=str(AXE))
    return page.evaluate(
        """async (tags) => {
            const results = await axe.run(document, {runOnly: {type: 'tag', values: tags}});
            return results.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                targets: v.nodes.map(n => n.target.join(' ')),
            }));
        }""",
        AXE_TAGS,
    )


def describe_violations(found: Mapping[str, list[dict[str, Any]]]) -> str:
    lines = []
    for kind, violations in found.items():
        for v in violations:
            targets = ", ".join(v["targets"][:8]) + (" …" if len(v["targets"]) > 8 else "")
            lines.append(f"{kind}: {v['id']} ({v['impact']}) {v['help']} — {targets}")
    return "\n".join(lines)


def assert_accessible(page: Page, base_url: str, paths: list[str]) -> None:
    """Open each path in `page` (a bypass_csp context) and fail listing every axe violation."""
    found = {}
    for path in paths:
        page.goto(f"{base_url}{path}")
        found[path] = axe_violations(page)
    assert not any(found.values()), describe_violations(found)
