"""No patient data, private links or client addresses in the logs (PRODUCT.md "Quality bar").

A real `crossline serve` (gunicorn and Django, their own log configuration) with its stdout and
stderr captured. A person with a distinctive medicine walks the whole web flow, opens their
result and its printable version, and the API receives the same answers; then requests that
make the server log on purpose (a refused CSRF check, an altered private link, invalid JSON, a
malformed HTTP request). Every line logged is then searched.
"""

from __future__ import annotations

import json
import re
import socket
from pathlib import Path

from crossline.web import RedactingFilter, redact
from tests.ops.personas import DISTINCTIVE_MEDICINE, OLDER_CANDIDATE
from web_client import Browser, post_assessment, request
from web_server import base_env, migrate, serving

# gunicorn's own lines ("[date] [pid] [LEVEL] …"), crossline's banner, Django's log format, and the
# access log format `crossline serve` sets: method, status, bytes, milliseconds — no path, no
# address, no user agent, no referrer.
GUNICORN_LINE = re.compile(r"^\[[^\]]+\] \[\d+\] \[[A-Z]+\] ")
DJANGO_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ [A-Z]+ [\w.]+ ")
ACCESS_LINE = re.compile(r'^"[A-Z]+" \d{3} -?\d+ \d+ms$')
BANNER_LINE = re.compile(r"^crossline serving ")


def test_a_whole_assessment_leaves_no_trace_of_the_person_in_the_logs(tmp_path: Path) -> None:
    env = base_env(tmp_path / "var")
    migrate(env)
    with serving(env, tmp_path / "serve.log", workers=2) as server:
        browser = Browser(server.port)
        result = browser.take_assessment(OLDER_CANDIDATE)
        token = result.removeprefix("/r/").strip("/")
        page = browser.get(result)
        assert page.status == 200
        assert DISTINCTIVE_MEDICINE in page.body.decode()  # it was stored and shown back
        browser.get(result + "print")
        assert request(server.port, "GET", f"/r/{token[:-2]}xy/").status == 404

        api = post_assessment(server.port, {"answers": OLDER_CANDIDATE}, key="phi-test-key")
        assert api.status == 201, api.body[:300]
        api_token = api.json()["result_url"].rsplit("/r/", 1)[1].strip("/")
        invalid = {"answers": {**OLDER_CANDIDATE, "profile.age": DISTINCTIVE_MEDICINE}}
        assert post_assessment(server.port, invalid).status == 422
        garbled = f'{{"answers": {{"medications": ["{DISTINCTIVE_MEDICINE}"'.encode()
        as_json = {"Content-Type": "application/json"}
        garbled_post = request(server.port, "POST", "/api/v1/assessments", garbled, as_json)
        assert garbled_post.status == 422

        # Logged on purpose: a CSRF refusal (Django) and a malformed request line (gunicorn).
        stranger = Browser(server.port)
        stranger.cookies["sessionid"] = browser.cookies.get("sessionid", "")
        assert stranger.post("/check/q/profile.age/", {"profile.age": "73"}).status == 403
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as raw:
            raw.sendall(f"GET /r/{token}/ HTTP/9.9\r\nHost: x\r\n\r\n".encode())
            raw.recv(4096)
        server.stop()  # graceful: every buffered line is written

    lines = (tmp_path / "serve.log").read_text().splitlines()
    text = "\n".join(lines)
    assert any(ACCESS_LINE.match(x) for x in lines), text
    assert "Forbidden (CSRF" in text  # the refusal was logged, so the check below means something
    for secret in (DISTINCTIVE_MEDICINE, "Zyxolamine", token, api_token, "profile.", "phq9."):
        assert secret not in text, f"{secret!r} appears in the log:\n{text}"
    # Paths appear only as the route they matched ("/r/<str:token>/") or withheld.
    assert not re.search(r"/r/(?!\[private\]|<str:token>)", text), text
    assert not re.search(r"/check/q/(?!<str:screen_id>)", text), text
    for line in lines:
        assert (
            GUNICORN_LINE.match(line)
            or DJANGO_LINE.match(line)
            or ACCESS_LINE.match(line)
            or BANNER_LINE.match(line)
        ), f"unexpected log line: {line!r}"
        if "127.0.0.1" in line:  # the listening address at start-up, never a client's
            assert BANNER_LINE.match(line) or "Listening at: http://127.0.0.1:" in line, line


# --- the filter itself, on the records Django and gunicorn produce ------------------------------

TOKEN = "dL6rhwqA7GAiuTZ1SpAm7WyJ_dS70Sro6ua830SA2Eg"


class _Match:
    route = "r/<str:token>/print"


class _Request:
    path = f"/r/{TOKEN}/print"
    resolver_match = _Match()


def _filtered(msg: str, *args: object, **extra: object) -> str:
    import logging
    import sys

    try:
        raise ValueError(f"Reverse for 'result' with arguments '('{TOKEN}',)' not found")
    except ValueError:
        exc_info = sys.exc_info()
    record = logging.makeLogRecord({"msg": msg, "args": args, "exc_info": exc_info, **extra})
    assert RedactingFilter().filter(record)
    return logging.Formatter().format(record)


def test_django_error_records_name_the_route_not_the_private_link() -> None:
    out = _filtered("Internal Server Error: %s", _Request.path, request=_Request())
    assert "Internal Server Error: /r/<str:token>/print" in out
    assert TOKEN not in out  # neither in the message nor in the traceback
    assert "ValueError" in out  # the traceback itself is kept


def test_gunicorn_records_withhold_the_uri_and_the_client_address() -> None:
    assert TOKEN not in _filtered("Error handling request %s %s", "GET", f"/r/{TOKEN}/")
    assert "Error handling request GET [path withheld]" in _filtered(
        "Error handling request %s %s", "GET", "/check/q/asq.5/"
    )
    invalid = _filtered("Invalid request from ip=203.0.113.9: Invalid HTTP method: 'BREW'")
    assert "203.0.113.9" not in invalid and "ip=[withheld]" in invalid


def test_redact_leaves_ordinary_text_alone() -> None:
    line = '"POST" 201 2144 25ms'
    assert redact(line) == line
    assert json.loads(redact(json.dumps({"status": "ok"}))) == {"status": "ok"}
