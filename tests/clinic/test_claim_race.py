"""Two clinicians can never claim the same case: N operating-system processes, released at the
same moment, race for one case, then "claim next" over M cases — on PostgreSQL, against the
test database (rows committed: `transaction=True`), with SELECT … FOR UPDATE SKIP LOCKED.

SQLite's test database lives in one process's memory, which other processes cannot open: there
the race cannot be run this way, and the conditional update that decides is covered by
test_claims.py. In the PostgreSQL pass (`-m django_db` with DATABASE_URL=postgres://…) these
tests always run; an unreachable server fails the run while the test database is created.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.db import connection

from crossline.accounts.roles import Role
from crossline.audit.models import Event
from crossline.clinic.models import Case
from tests.clinic.conftest import ACUTE, NON_ACUTE, open_case
from tests.staff import staff_user
from tests.web.personas import CANDIDATE

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.slow,
]

CLINICIANS = 8
CASES = 12
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _postgresql_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip(
            "the multi-process claim race needs a database other processes can open: SQLite's "
            "test database is in memory (run the PostgreSQL pass: DATABASE_URL=postgres://…)"
        )


def database_url() -> str:
    s = connection.settings_dict
    auth = quote(s["USER"]) + (f":{quote(s['PASSWORD'])}" if s["PASSWORD"] else "")
    return f"postgres://{auth}@{s['HOST'] or 'localhost'}:{s['PORT'] or 5432}/{s['NAME']}"


def race(tmp_path: Path, mode: str, case_id: str = "") -> list[dict[str, Any]]:
    """Start one process per clinician, wait until all are connected, release them at once."""
    start = tmp_path / "start"
    env = {**os.environ, "DATABASE_URL": database_url(), "PYTHONPATH": f"{ROOT / 'src'}:{ROOT}"}
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.clinic.claim_worker", mode, f"clin{i}", str(start)]
            + ([case_id] if case_id else []),
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(CLINICIANS)
    ]
    try:
        for proc in procs:
            assert proc.stdout is not None
            line = proc.stdout.readline()
            assert line.strip() == "ready", proc.stderr.read() if proc.stderr else line
        start.touch()  # the barrier: every process is connected and polling for this file
        results = []
        for proc in procs:
            out, err = proc.communicate(timeout=120)
            assert proc.returncode == 0, err
            results.append(json.loads(out.strip().splitlines()[-1]))
        return results
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()


@pytest.fixture
def clinicians() -> list[Any]:
    return [staff_user(f"clin{i}", Role.INTAKE) for i in range(CLINICIANS)]


def test_of_eight_processes_claiming_one_case_exactly_one_wins(
    tmp_path: Path, clinicians: list[Any]
) -> None:
    case = open_case(ACUTE, kind="contact_me")
    results = race(tmp_path, "one", str(case.public_id))
    winners = [r["user"] for r in results if r["won"]]
    assert len(winners) == 1, results
    assert {r["reason"] for r in results if not r["won"]} <= {"claimed", "busy"}
    case.refresh_from_db()
    assert case.status == "claimed" and case.claimed_by is not None
    assert case.claimed_by.username == winners[0]
    assert Event.objects.filter(action="case.claimed", patient=str(case.public_id)).count() == 1


def test_eight_processes_claiming_next_over_twelve_cases_never_share_one(
    tmp_path: Path, clinicians: list[Any]
) -> None:
    personas = [ACUTE, NON_ACUTE, CANDIDATE]
    cases = [open_case(personas[i % 3], kind="contact_me") for i in range(CASES)]
    results = race(tmp_path, "next")
    claimed = Counter(case_id for r in results for case_id in r["won"])
    assert sorted(claimed) == sorted(str(c.public_id) for c in cases)  # every case, once
    assert set(claimed.values()) == {1}, claimed
    assert {r["reason"] for r in results} == {"none_open"}
    holder = {case_id: r["user"] for r in results for case_id in r["won"]}
    for case in Case.objects.select_related("claimed_by"):
        assert case.status == "claimed" and case.claimed_by is not None
        assert case.claimed_by.username == holder[str(case.public_id)]
    assert Event.objects.filter(action="case.claimed").count() == CASES
