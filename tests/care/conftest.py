"""Real receivers for alert notifications.

- `smtp`, `mailbox`: the real SMTP server of tests/mail.py.
- `webhook`: an http.server receiver in a thread; the alert webhook setting points at it. Set
  `webhook.statuses` to the status codes to answer with, in order (then 200).
"""

from __future__ import annotations

import dataclasses
import json
import secrets
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.mail import mailbox, smtp  # noqa: F401 — fixtures for this directory's tests


@dataclasses.dataclass
class Received:
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class Receiver:
    def __init__(self) -> None:
        self.requests: list[Received] = []
        self.statuses: list[int] = []  # answered in order; 200 once used up
        self.secret = secrets.token_urlsafe(32).encode()
        self.lock = threading.Lock()


@pytest.fixture
def webhook(settings: Any) -> Iterator[Receiver]:
    receiver = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # http.server's naming
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            with receiver.lock:
                receiver.requests.append(Received(dict(self.headers.items()), body))
                status = receiver.statuses.pop(0) if receiver.statuses else 200
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}/page"
    settings.CROSSLINE = dataclasses.replace(
        settings.CROSSLINE, alert_webhook_url=url, alert_webhook_secret=receiver.secret
    )
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
