"""A fresh checkout: `crossline migrate`, then `crossline serve`, is all it takes (PRODUCT.md
"Deployment identifiers"). Real subprocesses; every server is killed in a `finally`."""

from __future__ import annotations

import re
import stat
import time
from collections.abc import Callable
from pathlib import Path

import psycopg

import crossline.intake
from tests.ops.personas import FEW_SYMPTOMS
from web_client import Browser, request
from web_server import base_env, migrate, run_crossline, serving

SITE_CSS = Path(crossline.intake.__file__).parent / "static" / "crossline" / "site.css"
BANNER = re.compile(
    r"crossline serving \S+ \(listening on (http://127\.0\.0\.1:\d+), (\d+) workers, "
    r"database (\w+)\)"
)


def process_group(pgid: int) -> list[int]:
    """The live processes of one process group (the gunicorn master and its workers)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            found.append(int(entry.name))
    return found


def eventually(condition: Callable[[], bool], seconds: float = 15) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def test_migrate_then_serve_on_a_fresh_data_dir(tmp_path: Path, data_dir: Path) -> None:
    env = base_env(data_dir)
    migrated = run_crossline("migrate", env=env)
    assert migrated.returncode == 0, migrated.stderr
    # The data directory holds the keys (owner-only) and the database; nothing else to set up.
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
    assert stat.S_IMODE((data_dir / "keys.toml").stat().st_mode) == 0o600
    assert (data_dir / "crossline.sqlite3").stat().st_size > 0
    keys = (data_dir / "keys.toml").read_text()

    with serving(env, tmp_path / "serve.log") as server:
        log = server.log_path.read_text()
        banner = BANNER.search(log)
        assert banner, log
        address, workers, database = banner.groups()
        assert address == server.url and database == "sqlite"
        assert int(workers) >= 2
        assert eventually(lambda: len(process_group(server.pid)) == int(workers) + 1)
        assert eventually(
            lambda: server.log_path.read_text().count("Booting worker") == int(workers)
        )

        health = request(server.port, "GET", "/healthz")
        assert health.status == 200 and health.json() == {"status": "ok"}

        css = request(server.port, "GET", "/static/crossline/site.css")
        assert css.status == 200
        assert css.headers["content-type"].startswith("text/css")
        assert css.body == SITE_CSS.read_bytes()
    # Served from the app's static directory by whitenoise: no collectstatic step ran.
    assert not any((data_dir / "static").iterdir())
    # A restart keeps the keys it created on first start (losing them would lose the data).
    assert (data_dir / "keys.toml").read_text() == keys


def test_the_apps_sqlite_connection_is_wal_with_full_sync(data_dir: Path) -> None:
    env = base_env(data_dir)
    probe = (
        "from django.db import connection as c\n"
        "cur = c.cursor()\n"
        "print('PRAGMAS', *(cur.execute(f'PRAGMA {p}').fetchone()[0]"
        " for p in ('journal_mode', 'synchronous', 'foreign_keys')))\n"
    )
    shell = run_crossline("manage", "shell", "-c", probe, env=env)
    assert shell.returncode == 0, shell.stderr
    line = next(x for x in shell.stdout.splitlines() if x.startswith("PRAGMAS"))
    assert line.split()[1:] == ["wal", "2", "1"]  # synchronous 2 = FULL
    # `crossline check` makes the same check on the app's connection, and passes.
    checked = run_crossline("check", env=env)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "crossline checks OK (database sqlite)" in checked.stdout
    assert "CDS Hooks: no EHR trusted" in checked.stdout


def test_database_url_postgres_keeps_the_data_in_postgresql(
    tmp_path: Path, data_dir: Path, postgres_url: str
) -> None:
    env = base_env(data_dir, postgres_url)
    migrate(env)
    with serving(env, tmp_path / "serve.log", workers=2) as server:
        banner = BANNER.search(server.log_path.read_text())
        assert banner and banner.group(3) == "postgres"
        result = Browser(server.port).take_assessment(FEW_SYMPTOMS)
        assert request(server.port, "GET", result).status == 200

    with psycopg.connect(postgres_url) as conn:
        rows = conn.execute("SELECT status, eligibility, state FROM intake_assessment").fetchall()
    assert rows == [("submitted", "not_indicated", "FL")]
    assert not (data_dir / "crossline.sqlite3").exists()


def test_check_passes_on_postgresql(data_dir: Path, postgres_url: str) -> None:
    env = base_env(data_dir, postgres_url)
    migrate(env)
    checked = run_crossline("check", env=env)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "crossline checks OK (database postgresql)" in checked.stdout
    assert "patient-record retention: not set: patient records are never deleted" in (
        checked.stdout
    )


def test_check_fails_when_the_database_cannot_be_reached(data_dir: Path) -> None:
    """Run before a deploy to test the configuration, `check` must not pass on a wrong
    DATABASE_URL (it said "crossline checks OK" and "run `crossline migrate` first")."""
    env = base_env(data_dir, "postgres://crossline:hunter2@127.0.0.1:1/crossline")
    checked = run_crossline("check", env=env)
    assert checked.returncode != 0
    assert "database: cannot connect (OperationalError): check DATABASE_URL" in checked.stderr
    assert "checks OK" not in checked.stdout
    assert "hunter2" not in checked.stdout + checked.stderr


def test_what_the_master_loads_is_frozen_out_of_the_workers_collections() -> None:
    """`crossline serve` loads the application in the gunicorn master (`--preload`); what it
    loaded is then moved out of the cyclic collector's reach before the workers fork, so their
    collections do not walk it (docs/benchmarks.md: GC per keyed submission 0.08 → 0.02 ms)."""
    import gc

    from crossline.web import wsgi_application

    before = gc.get_freeze_count()
    try:
        assert callable(wsgi_application())
        assert gc.get_freeze_count() > before
        assert gc.isenabled()  # requests' own garbage is still collected
    finally:
        gc.unfreeze()


def test_without_its_database_the_server_says_so_and_the_crisis_line_still_shows(
    tmp_path: Path, data_dir: Path
) -> None:
    """The database down (here: nothing listens where it points): `/healthz` answers 503 for
    the load balancer, the home page and the crisis page still answer (they need no database),
    and any page that does need it fails with the error page that carries the crisis line."""
    migrated = run_crossline("migrate", env=base_env(data_dir))
    assert migrated.returncode == 0, migrated.stderr
    nowhere = "postgres://postgres@127.0.0.1:9/crossline?connect_timeout=2"  # port 9: discard
    env = base_env(data_dir, nowhere)
    with serving(env, tmp_path / "serve.log", ready_status=503) as server:
        health = request(server.port, "GET", "/healthz")
        assert health.status == 503
        assert health.json() == {"status": "unavailable", "database": "unreachable"}
        for path, language in (("/", "en"), ("/crisis/", "en"), ("/crisis/", "es")):
            page = request(server.port, "GET", path, headers={"Accept-Language": language})
            assert page.status == 200, (path, page.status)
            assert "988" in page.body.decode()
        failed = request(server.port, "GET", "/learn/")  # reads the program's settings
        assert failed.status == 500
        text = failed.body.decode()
        assert (
            "Call or text 988" in text and "Llame al 988 y oprima 2, o envíe AYUDA al 988" in text
        )
        log = server.log_path.read_text()
        assert "health check: the database cannot be reached (OperationalError)" in log
