"""Privacy and speed on a phone: no page asks any other host for anything (no fonts, scripts,
analytics or images from elsewhere). The same check guards every browser test through the
`open_context` fixture (the crisis panel and safety page in test_crisis.py among them); this
test states it on the longest walk, a depressed candidate's, clicked page by page."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from playwright.sync_api import Request

from tests.browser.personas import DEPRESSED_IN_FLORIDA
from tests.browser.visitor import Visitor


def test_pages_request_nothing_from_any_other_host(visitor: Visitor, live_server: Any) -> None:
    requested: list[str] = []

    def note(request: Request) -> None:
        requested.append(request.url)

    visitor.page.on("request", note)
    visitor.start()
    visitor.take(DEPRESSED_IN_FLORIDA)  # the longest walk, every question page type, clicked
    visitor.open("/learn/", shoot=False)  # ~40,000 px tall: the accessibility test shoots it
    visitor.open("/crisis/")

    hosts = {urlsplit(url).netloc for url in requested}
    assert hosts == {urlsplit(live_server.url).netloc}, sorted(set(requested))
    assert any("/static/" in url for url in requested)  # the listener did see sub-resources
