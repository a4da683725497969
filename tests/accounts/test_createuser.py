"""`crossline createuser` as an operator runs it: a real subprocess, its own data directory."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
from pathlib import Path

import pytest

from crossline.accounts.models import hash_token

ROOT = Path(__file__).resolve().parents[2]
CROSSLINE = ROOT / ".venv" / "bin" / "crossline"
BASE_URL = "https://clinic.example.org"


def run(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("CROSSLINE_") and k not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE")
    }
    env.update(
        PYTHONPATH=str(ROOT / "src"),
        CROSSLINE_DATA_DIR=str(data_dir),
        CROSSLINE_BASE_URL=BASE_URL,
    )
    return subprocess.run(
        [str(CROSSLINE), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        stdin=subprocess.DEVNULL,
    )


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("createuser") / "var"
    done = run("migrate", data_dir=path)
    assert done.returncode == 0, done.stderr
    return path


def link_token(stdout: str) -> str:
    match = re.search(
        rf"^{re.escape(BASE_URL)}/clinic/enrol/([A-Za-z0-9_-]{{40,}})/$", stdout, re.M
    )
    assert match, stdout
    return match.group(1)


def test_createuser_prints_a_one_time_link_from_the_base_url(data_dir: Path) -> None:
    done = run(
        "createuser",
        "--email",
        "first@example.org",
        "--role",
        "operator",
        "--role",
        "physician",
        data_dir=data_dir,
    )
    assert done.returncode == 0, done.stderr
    token = link_token(done.stdout)
    assert "roles: operator, physician" in done.stdout
    with sqlite3.connect(data_dir / "crossline.sqlite3") as db:
        stored = db.execute(
            "SELECT t.token_hash, u.password FROM accounts_enrolmenttoken t"
            " JOIN auth_user u ON u.id = t.user_id WHERE u.username = 'first@example.org'"
        ).fetchall()
        actions = [r[0] for r in db.execute("SELECT action FROM audit_event ORDER BY seq")]
    assert stored[0][0] == hash_token(token)  # only the hash is stored
    assert stored[0][1].startswith("!")  # no usable password
    assert "user.created" in actions


def test_an_existing_email_is_refused_and_reissue_prints_a_new_link(data_dir: Path) -> None:
    first = run("createuser", "--email", "twice@example.org", "--role", "intake", data_dir=data_dir)
    again = run("createuser", "--email", "twice@example.org", "--role", "intake", data_dir=data_dir)
    assert again.returncode != 0
    assert "--email" in again.stderr and "already exists" in again.stderr
    reissued = run("createuser", "--email", "twice@example.org", "--reissue", data_dir=data_dir)
    assert reissued.returncode == 0, reissued.stderr
    assert link_token(reissued.stdout) != link_token(first.stdout)
    with sqlite3.connect(data_dir / "crossline.sqlite3") as db:
        rows = db.execute(
            "SELECT token_hash, revoked_at IS NOT NULL FROM accounts_enrolmenttoken t"
            " JOIN auth_user u ON u.id = t.user_id WHERE u.username = 'twice@example.org'"
        ).fetchall()
    revoked = {h: r for h, r in rows}
    assert revoked[hash_token(link_token(first.stdout))] == 1
    assert revoked[hash_token(link_token(reissued.stdout))] == 0


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["--email", "not-an-email", "--role", "intake"], "--email"),
        (["--email", "x@example.org", "--role", "surgeon"], "--role"),
        (["--email", "y@example.org"], "--role"),
    ],
)
def test_bad_input_exits_non_zero_naming_the_field(
    args: list[str], field: str, data_dir: Path
) -> None:
    done = run("createuser", *args, data_dir=data_dir)
    assert done.returncode != 0
    assert field in done.stderr
    assert "/clinic/enrol/" not in done.stdout


def test_there_is_no_password_option(data_dir: Path) -> None:
    done = run(
        "createuser",
        "--email",
        "z@example.org",
        "--role",
        "intake",
        "--password",
        "x",
        data_dir=data_dir,
    )
    assert done.returncode != 0
