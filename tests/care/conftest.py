"""Real receivers for alert notifications.

- `smtp`: an aiosmtpd server on a free localhost port; Django's mail settings point at it.
- `webhook`: an http.server receiver in a thread; the alert webhook setting points at it. Set
  `webhook.statuses` to the status codes to answer with, in order (then 200).
"""

from __future__ import annotations

import dataclasses
import email
import email.policy
import json
import secrets
import sys
import threading
from collections.abc import Iterator
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

BENCH = Path(__file__).resolve().parents[2] / "bench"
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))

from web_server import free_port  # noqa: E402 — bench/web_server.py, shared with tests/ops


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.arrived = threading.Condition()

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        message = email.message_from_bytes(raw, policy=email.policy.default)
        with self.arrived:
            self.messages.append(message)  # type: ignore[arg-type]
            self.envelopes.append((envelope.mail_from or "", list(envelope.rcpt_tos)))
            self.arrived.notify_all()
        return "250 OK"

    def wait_for(self, count: int, timeout: float = 20) -> list[EmailMessage]:
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.messages) >= count, timeout)
        return self.messages

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m, (_, rcpt) in zip(self.messages, self.envelopes, strict=True)
                if address in rcpt]  # fmt: skip


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    box = Mailbox()
    port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield box, port
    finally:
        controller.stop()


@pytest.fixture
def smtp(mailbox: tuple[Mailbox, int], settings: Any) -> Mailbox:
    box, port = mailbox
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    return box


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
