"""`crossline audit verify` and `crossline audit anchor` as an operator runs them."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from web_server import run_crossline

RECORD = (
    "from crossline.audit import Action, record\n"
    "for i in range(5):\n"
    "    record(Action.RECORD_VIEWED, actor='system', patient='p%d' % i)\n"
)


def test_verify_passes_on_an_intact_chain_and_names_the_first_bad_entry(
    data_dir: Path, env: dict[str, str]
) -> None:
    assert run_crossline("migrate", env=env).returncode == 0
    assert run_crossline("manage", "shell", "-c", RECORD, env=env).returncode == 0
    anchored = run_crossline("audit", "anchor", env=env)
    assert anchored.returncode == 0, anchored.stderr
    assert "entry 5" in anchored.stdout
    assert (data_dir / "audit-anchors.log").stat().st_mode & 0o777 == 0o600

    intact = run_crossline("audit", "verify", env=env)
    assert intact.returncode == 0, intact.stderr
    # The five events and the anchoring itself (recorded after the anchored head).
    assert "intact" in intact.stdout and "6 entries" in intact.stdout
    db = sqlite3.connect(data_dir / "crossline.sqlite3")
    (action, detail) = db.execute("SELECT action, detail FROM audit_event WHERE seq = 6").fetchone()
    db.close()
    assert action == "audit.anchored" and json.loads(detail) == {"head": 5}

    db = sqlite3.connect(data_dir / "crossline.sqlite3")
    with db:
        db.execute("DROP TRIGGER audit_event_no_update")
        db.execute("UPDATE audit_event SET patient = 'someone-else' WHERE seq = 3")
    db.close()
    broken = run_crossline("audit", "verify", env=env)
    assert broken.returncode != 0
    assert "entry 3" in broken.stderr
    assert broken.stdout == ""


def test_verify_detects_deleted_newest_entries_after_an_anchor(
    data_dir: Path, env: dict[str, str]
) -> None:
    assert run_crossline("migrate", env=env).returncode == 0
    assert run_crossline("manage", "shell", "-c", RECORD, env=env).returncode == 0
    assert run_crossline("audit", "anchor", env=env).returncode == 0
    db = sqlite3.connect(data_dir / "crossline.sqlite3")
    with db:
        db.execute("DROP TRIGGER audit_event_no_delete")
        db.execute("DELETE FROM audit_event WHERE seq >= 4")
    db.close()
    broken = run_crossline("audit", "verify", env=env)
    assert broken.returncode != 0
    assert "entry 4" in broken.stderr and "deleted" in broken.stderr
