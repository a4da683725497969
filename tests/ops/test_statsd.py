"""Request metrics for the operator: with CROSSLINE_STATSD_ADDRESS set, `crossline serve` sends
gunicorn's own StatsD metrics (a count and a duration per request, a count per status). A real
server and a real UDP socket; the datagrams carry metric names and numbers only."""

from __future__ import annotations

import socket
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from crossline.config import ConfigError, from_environment
from tests.ops.personas import FEW_SYMPTOMS
from web_client import post_assessment, request
from web_server import migrate, serving

STATUS = "crossline.gunicorn.request.status."


def _receive(sock: socket.socket, wanted: list[str], seconds: float = 10) -> list[str]:
    """Every datagram until each wanted prefix has been seen (or the time is up)."""
    lines: list[str] = []
    until = time.monotonic() + seconds
    while time.monotonic() < until and not all(any(x.startswith(w) for x in lines) for w in wanted):
        try:
            data = sock.recv(65536)
        except TimeoutError:
            continue
        lines.extend(data.decode("ascii").splitlines())
    return lines


def test_serve_sends_request_counts_durations_and_statuses_without_paths(
    tmp_path: Path, env: dict[str, str]
) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(0.2)
        port = sock.getsockname()[1]
        env = {**env, "CROSSLINE_STATSD_ADDRESS": f"127.0.0.1:{port}"}
        migrate(env)
        with serving(env, tmp_path / "serve.log") as server:
            assert request(server.port, "GET", "/healthz").status == 200
            created = post_assessment(server.port, {"answers": FEW_SYMPTOMS, "language": "en"})
            assert created.status == 201
            result_path = urlsplit(created.json()["result_url"]).path
            assert request(server.port, "GET", result_path).status == 200
            assert request(server.port, "GET", "/no-such-page").status == 404
            lines = _receive(sock, [f"{STATUS}{s}:" for s in (200, 201, 404)])

    # gunicorn sends each request's count, duration and status after the response.
    assert sum(1 for x in lines if x.startswith("crossline.gunicorn.requests:1|c")) >= 4
    assert sum(1 for x in lines if x.startswith("crossline.gunicorn.request.duration:")) >= 4
    for status in (200, 201, 404):
        assert any(x.startswith(f"{STATUS}{status}:") for x in lines), lines
    # Names and numbers only: no path, no private link, no token, no client address.
    token = result_path.strip("/").split("/")[-1]
    assert all(x.startswith("crossline.gunicorn.") for x in lines), lines
    joined = "\n".join(lines)
    for secret in (token, "/r/", "healthz", "127.0.0.1", "no-such-page"):
        assert secret not in joined


def test_without_the_setting_nothing_is_sent_and_a_bad_address_is_refused(
    env: dict[str, str],
) -> None:
    assert from_environment(env).statsd_address == ""
    ok = {**env, "CROSSLINE_STATSD_ADDRESS": "[::1]:8125"}
    assert from_environment(ok).statsd_address == "[::1]:8125"
    for bad in ("statsd", "statsd:", ":8125", "statsd:port", "statsd:70000", "[]:8125"):
        with pytest.raises(ConfigError, match="CROSSLINE_STATSD_ADDRESS"):
            from_environment({**env, "CROSSLINE_STATSD_ADDRESS": bad})
