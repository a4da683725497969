"""A small HTTP client for the web benchmarks and operations tests: the JSON API, and a
"browser" with a cookie jar that walks the assessment one screen at a time, as a person without
JavaScript would (GET the screen, POST the form, follow the redirect).

Standard library only (http.client), so what is measured is the server, not a client library.
"""

from __future__ import annotations

import http.client
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

CHECKLIST = "medical"
MEDICATIONS = "medications"
_ASSETS = re.compile(r'<(?:link[^>]+rel="stylesheet"[^>]+href|script[^>]+src)="([^"]+)"')


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def location(self) -> str:
        return self.headers.get("location", "")

    def json(self) -> Any:
        return json.loads(self.body)


def request(
    port: int,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: Mapping[str, str] | None = None,
    timeout: float = 10,
) -> Response:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=dict(headers or {}))
        r = conn.getresponse()
        data = r.read()
        return Response(r.status, {k.lower(): v for k, v in r.getheaders()}, data)
    finally:
        conn.close()


def post_assessment(
    port: int, body: Mapping[str, Any], key: str | None = None, timeout: float = 10
) -> Response:
    headers = {"Content-Type": "application/json"}
    if key is not None:
        headers["Idempotency-Key"] = key
    data = json.dumps(body).encode()
    return request(port, "POST", "/api/v1/assessments", data, headers, timeout)


@dataclass
class Step:
    """One screen as a person sees it: the page, and the stylesheets/scripts it pulls in."""

    path: str
    html_bytes: int
    asset_bytes: int

    @property
    def total(self) -> int:
        return self.html_bytes + self.asset_bytes


@dataclass
class Browser:
    port: int
    cookies: dict[str, str] = field(default_factory=dict)
    steps: list[Step] = field(default_factory=list)
    log: list[str] = field(default_factory=list)  # every path visited, in order

    def get(self, path: str) -> Response:
        return self._send("GET", path)

    def post(self, path: str, form: Mapping[str, str]) -> Response:
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if "csrftoken" in self.cookies:
            headers["X-CSRFToken"] = self.cookies["csrftoken"]
        return self._send("POST", path, urlencode(form).encode(), headers)

    def _send(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Response:
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=15)
        try:
            conn.request(method, path, body=body, headers=headers)
            r = conn.getresponse()
            data = r.read()
            for name, value in r.getheaders():
                if name.lower() == "set-cookie":
                    cookie, _, _ = value.partition(";")
                    key, _, val = cookie.partition("=")
                    self.cookies[key.strip()] = val.strip()
            self.log.append(path)
            return Response(r.status, {k.lower(): v for k, v in r.getheaders()}, data)
        finally:
            conn.close()

    def view(self, path: str) -> Response:
        """GET a page as a first-time visitor would: the HTML plus every stylesheet and script
        it links (no cache), recorded as one step."""
        page = self.get(path)
        if page.status != 200:
            raise AssertionError(f"GET {path}: {page.status}")
        assets = 0
        for href in _ASSETS.findall(page.body.decode("utf-8", "replace")):
            asset = self.get(urlsplit(href).path)
            if asset.status != 200:
                raise AssertionError(f"GET {href}: {asset.status}")
            assets += len(asset.body)
        self.steps.append(Step(path, len(page.body), assets))
        return page

    def take_assessment(self, answers: Mapping[str, Any], language: str = "en") -> str:
        """Walk the whole flow with these answers; returns the private result path (/r/…/)."""
        self.cookies["django_language"] = language
        self.view("/")
        location = self.post("/check/start", {}).location
        location = self.get(location).location
        for _ in range(80):
            if location.startswith("/r/"):
                return location
            screen = location.removeprefix("/check/q/").strip("/")
            self.view(location)
            answered = self.post(location, screen_form(screen, answers))
            if answered.status != 302:
                raise AssertionError(f"POST {screen}: {answered.status} {answered.body[:300]!r}")
            location = answered.location
        raise AssertionError("the flow did not finish in 80 screens")


def screen_form(screen: str, answers: Mapping[str, Any]) -> dict[str, str]:
    """The form a person submits on one screen, from a contract answer set."""
    if screen == CHECKLIST:
        form = {k: str(v) for k, v in answers.items() if k.startswith("medical.") and v != "no"}
        return {**form, "none_of_the_others": "1"}
    if screen == MEDICATIONS:
        names = answers.get(MEDICATIONS) or []
        return {"medications": "\n".join(names)} if names else {"no_medications": "1"}
    if screen not in answers:
        raise KeyError(f"the flow asked {screen}, which the answer set does not have")
    return {screen: str(answers[screen])}


def answer_sets(
    n: int, seed: int = 20261128, eligibility: str | None = None
) -> list[dict[str, Any]]:
    """Realistic request bodies: synthetic applicants (bench/population.py), each sending the
    answers the adaptive flow asks them, as a front end would. `eligibility` keeps only those
    the engine decides that way (e.g. "candidate": the longest path, with medicines)."""
    from crossline.engine import evaluate, walk
    from crossline.knowledge import load
    from population import generate

    k = load()
    out: list[dict[str, Any]] = []
    for a in generate(k, max(4 * n, 200) if eligibility else n, seed):
        asked = {i: a.answers[i] for i in walk(k, a.answers).asked}
        if eligibility and evaluate(k, asked, "en").eligibility != eligibility:
            continue
        out.append({"answers": asked, "language": "en"})
        if len(out) == n:
            break
    return out
