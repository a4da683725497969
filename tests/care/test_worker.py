"""`crossline worker` as operators run it: a real subprocess on a real database (a fresh
SQLite data directory, or a fresh PostgreSQL database in the PostgreSQL pass), sending to a real
SMTP server, anchoring the audit chain, and stopping cleanly on SIGTERM. Also: two sweeping
processes at the same moment escalate each alert once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from tests.care.support import LEAKS, TEAM
from tests.mail import Mailbox
from web_server import base_env, crossline_command, migrate, postgres_database

# In the PostgreSQL pass too (`-m django_db`); these tests use their own database, not the
# test database: the worker is another process and must see committed rows.
pytestmark = [pytest.mark.django_db, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def database_url() -> Iterator[str | None]:
    if connection.vendor == "postgresql":
        with postgres_database("crossline_care") as url:
            yield url
    else:
        yield None  # the data directory's SQLite file


@pytest.fixture
def env(tmp_path: Path, database_url: str | None, mailbox: tuple[Mailbox, int]) -> dict[str, str]:
    _, port = mailbox
    environment = base_env(
        tmp_path / "var",
        database_url,
        PYTHONPATH=os.pathsep.join([str(ROOT / "src"), str(ROOT)]),
        DJANGO_SETTINGS_MODULE="crossline.settings",
        CROSSLINE_BASE_URL="https://clinic.example",
        CROSSLINE_SMTP_HOST="127.0.0.1",
        CROSSLINE_SMTP_PORT=str(port),
        CROSSLINE_AUDIT_ANCHOR_EVERY_MINUTES="0.05",  # every 3 s, so the test sees it repeat
    )
    migrate(environment)
    return environment


def support(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "tests.care.subprocess_db", *args],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""


def wait_until(condition: Callable[[], Any], timeout: float = 30) -> Any:
    """Poll (not a timing assertion: the bound only keeps a broken run from hanging)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def anchors(env: dict[str, str]) -> list[dict[str, Any]]:
    path = Path(env["CROSSLINE_DATA_DIR"]) / "audit-anchors.log"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_the_worker_sends_queued_alert_mail_anchors_the_chain_and_stops_on_sigterm(
    env: dict[str, str], mailbox: tuple[Mailbox, int], tmp_path: Path
) -> None:
    box, _ = mailbox
    alert = json.loads(support(env, "seed"))["alert"]
    log = (tmp_path / "worker.log").open("w+")
    worker = subprocess.Popen(
        [*crossline_command(), "worker", "--interval", "0.2"],
        env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        messages = box.wait_for(2, timeout=60)
        assert len(messages) == 2
        for message in messages:
            assert f"https://clinic.example/clinic/alerts/{alert}/" in message.get_content()
            for leak in LEAKS:
                assert leak.lower() not in message.as_string().lower()
        assert len(box.to(TEAM)) == 1 and len(box.to("ada@clinic.example")) == 1
        assert wait_until(lambda: json.loads(support(env, "counts"))["sent"] == 2)

        # The periodic anchor: once at start, then again after its interval.
        first = wait_until(lambda: anchors(env))[0]
        assert first["seq"] >= 1
        assert wait_until(lambda: len(anchors(env)) >= 2)
        assert worker.poll() is None, "the worker stopped by itself"
    finally:
        worker.send_signal(signal.SIGTERM)
        code = worker.wait(timeout=30)
    log.seek(0)
    output = log.read()
    assert code == 0, output
    assert "stopped" in output
    for leak in LEAKS:
        assert leak.lower() not in output.lower()
    verify = subprocess.run(
        [*crossline_command(), "audit", "verify"],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert verify.returncode == 0, verify.stderr
    assert "last anchor: entry" in verify.stdout


def test_sigint_stops_an_idle_worker_with_exit_0(env: dict[str, str]) -> None:
    worker = subprocess.Popen(
        [*crossline_command(), "worker", "--interval", "0.2"],
        env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    wait_until(lambda: anchors(env))  # started and through its first periodic pass
    worker.send_signal(signal.SIGINT)
    output, _ = worker.communicate(timeout=30)
    assert worker.returncode == 0, output


def test_two_processes_sweeping_at_once_escalate_each_alert_once(
    env: dict[str, str], tmp_path: Path
) -> None:
    support(env, "seed-many", "6")
    latest = datetime.fromisoformat(json.loads(support(env, "counts"))["latest"])
    now = (latest + timedelta(minutes=10)).isoformat()
    go = tmp_path / "go"
    sweepers = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.care.subprocess_db", "sweep", str(go), now],
            env=env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    wait_until(lambda: len(list(tmp_path.glob("go.*.ready"))) == 2, timeout=60)
    go.touch()
    outputs = [p.communicate(timeout=60) for p in sweepers]
    assert all(p.returncode == 0 for p in sweepers), outputs
    escalated = [int(out.strip().splitlines()[-1]) for out, _ in outputs]
    assert sum(escalated) == 6
    result = json.loads(support(env, "counts"))
    assert result["steps"] == [1]
    assert result["escalated_events"] == result["escalated_audit"] == 6
    assert result["step1_notifications"] == 6
