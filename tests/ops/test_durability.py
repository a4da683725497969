"""Durability under SIGKILL (issue 3, "Tests"): bench/durability.py with a small count, on
SQLite and on PostgreSQL. The script starts `crossline serve`, submits through the JSON API from
several threads with an Idempotency-Key each, kills the whole server process group at random
moments, restarts it, and finally checks every acknowledged submission is stored exactly once."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.ops.conftest import BENCH


@pytest.mark.parametrize("database", ["sqlite", "postgres"])
def test_no_acknowledged_submission_is_lost_or_duplicated_across_kills(
    database: str, tmp_path: Path
) -> None:
    out = tmp_path / "durability.json"
    # fmt: off
    argv = [
        sys.executable, str(BENCH / "durability.py"), "--database", database,
        "--kills", "2", "--threads", "3", "--min-gap", "0.5", "--max-gap", "1.5",
        "--settle", "0.5", "--out", str(out),
    ]
    # fmt: on
    done = subprocess.run(argv, capture_output=True, text=True, timeout=240, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(out.read_text())
    assert report["ok"]
    assert report["kills"] == 2
    assert report["acknowledged_201"] > 10
    assert report["lost"] == 0 and report["duplicated"] == 0
    assert report["rows"] == report["acknowledged_201"] == report["idempotency_records"]
    assert report["replay_mismatches"] == 0
    assert report["result_links_ok"] == report["result_links_checked"] > 0
    if database == "sqlite":
        assert report["integrity"] == "ok"
