"""Run a real `crossline serve` (gunicorn) for the web benchmarks and the operations tests.

The server runs in its own process group, so `kill()` takes down the gunicorn master and every
worker at once (SIGKILL: no graceful shutdown, no chance to flush anything). Its stdout and
stderr go to a log file that the caller can read afterwards (the no-PHI-in-logs test greps it).

Databases: `sqlite_env(dir)` gives a fresh embedded data directory; `postgres_database()` creates
a throw-away PostgreSQL database (and drops it afterwards), so runs never share rows.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

PG_ADMIN_URL = os.environ.get("CROSSLINE_BENCH_PG", "postgres://postgres@127.0.0.1:5432/postgres")
# The documented benchmark setting (docs/operations.md): the per-client limit out of the way.
BENCH_RATE_LIMIT = "1000000"


def crossline_command() -> list[str]:
    installed = shutil.which("crossline", path=str(Path(sys.executable).parent))
    return [installed] if installed else [sys.executable, "-m", "crossline.cli"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def base_env(data_dir: Path, database_url: str | None = None, **extra: str) -> dict[str, str]:
    """The environment of a server: this process's, minus any crossline/Django settings (and
    DJANGO_ALLOW_ASYNC_UNSAFE, which the browser tests set for their own process: a server or a
    `crossline check` started after them must not inherit it — the check rejects it)."""
    dropped = ("DATABASE_URL", "DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE")
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("CROSSLINE_") and k not in dropped
    }
    env.update(PYTHONUTF8="1", CROSSLINE_DATA_DIR=str(data_dir))
    if database_url:
        env["DATABASE_URL"] = database_url
    env.update(extra)
    return env


def run_crossline(
    *args: str, env: Mapping[str, str], timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*crossline_command(), *args],
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        stdin=subprocess.DEVNULL,
    )


def migrate(env: Mapping[str, str]) -> None:
    done = run_crossline("migrate", env=env)
    if done.returncode != 0:
        raise RuntimeError(f"crossline migrate failed:\n{done.stdout}\n{done.stderr}")


@dataclass
class Server:
    """One `crossline serve` process group; restartable on the same port after a kill."""

    env: dict[str, str]
    log_path: Path
    port: int = field(default_factory=free_port)
    workers: int | None = None
    proc: subprocess.Popen[bytes] | None = None
    starts: int = 0
    # What `/healthz` answers once the server is up: 503 when it is meant to run without its
    # database (tests/ops/test_serve.py).
    ready_status: int = 200

    @property
    def pid(self) -> int:
        """The gunicorn master's pid, which is also the process group id."""
        assert self.proc is not None, "not running"
        return self.proc.pid

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60) -> None:
        argv = [*crossline_command(), "serve", "--host", "127.0.0.1", "--port", str(self.port)]
        if self.workers:
            argv += ["--workers", str(self.workers)]
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                argv,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # its own process group: master + workers
            )
        self.starts += 1
        self._wait_healthy(timeout)

    def _wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise RuntimeError(f"crossline serve exited early:\n{self.log_tail()}")
            with contextlib.suppress(OSError, http.client.HTTPException):
                if get_status(self.port, "/healthz") == self.ready_status:
                    return
            time.sleep(0.1)
        self.kill()
        raise RuntimeError(f"crossline serve not healthy after {timeout} s:\n{self.log_tail()}")

    def kill(self) -> None:
        """SIGKILL the whole process group (master and workers), then reap the master."""
        self._signal_group(signal.SIGKILL)

    def stop(self) -> None:
        """Graceful stop (SIGTERM), falling back to SIGKILL."""
        self._signal_group(signal.SIGTERM, wait=15)

    def _signal_group(self, sig: signal.Signals, wait: float = 10) -> None:
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, sig)
        try:
            self.proc.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        self._wait_group_gone()
        self.proc = None

    def _wait_group_gone(self) -> None:
        """Workers are reaped by init, not by us: wait until the group is empty."""
        assert self.proc is not None
        for _ in range(100):
            try:
                os.killpg(self.proc.pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.05)

    def log_tail(self, lines: int = 40) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


@contextlib.contextmanager
def serving(
    env: Mapping[str, str], log_path: Path, workers: int | None = None, ready_status: int = 200
) -> Iterator[Server]:
    server = Server(env=dict(env), log_path=log_path, workers=workers, ready_status=ready_status)
    try:
        server.start()
        yield server
    finally:
        server.kill()


def get_status(port: int, path: str, timeout: float = 5) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


# --- PostgreSQL ---------------------------------------------------------------------------


def postgres_available() -> bool:
    try:
        import psycopg

        with psycopg.connect(PG_ADMIN_URL, connect_timeout=3):
            return True
    except Exception:
        return False


@contextlib.contextmanager
def postgres_database(prefix: str = "crossline_bench") -> Iterator[str]:
    """A fresh, empty database; yields its postgres:// URL and drops it afterwards."""
    import psycopg

    name = f"{prefix}_{secrets.token_hex(4)}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def in_process(database: str, prefix: str, **extra: str) -> Iterator[None]:
    """Django set up in this process on a migrated throw-away data directory (SQLite, with
    crossline's PRAGMAs) or PostgreSQL database (`database`: "sqlite" or "postgres"), for the
    in-process benchmarks; `extra` settings go to the environment (e.g. the benchmark rate
    limit). Connections are closed and the database dropped on the way out."""
    import tempfile

    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix=prefix)))
        url = stack.enter_context(postgres_database()) if database == "postgres" else None
        env = base_env(tmp / "var", url, **extra)
        migrate(env)
        os.environ.update(env)
        os.environ["DJANGO_SETTINGS_MODULE"] = "crossline.settings"
        os.environ["CROSSLINE_BASE_URL"] = "http://testserver"
        os.environ["CROSSLINE_ALLOWED_HOSTS"] = "testserver"
        import django

        django.setup()
        try:
            yield
        finally:
            from django.db import connections

            connections.close_all()
