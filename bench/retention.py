"""What patient-record retention costs the worker: the daily scan and the deletions.

`crossline worker` runs its periodic jobs in one loop, so a long retention pass delays the
next escalation sweep. This builds `-n` closed patient records in a real data directory
(SQLite with crossline's PRAGMAs) or a throw-away PostgreSQL database — each a submitted
screen with contact details, a declined evaluation with its letter and an attended visit —
then times, in one process:

- the scan (`retention.due`): every record's last activity and hold reasons read, nothing
  deleted — what the worker pays daily for each record opened before the cut-off — and
- `retention.apply` on a day when all are due (each read again, re-checked under lock,
  counted and deleted with its audit event).

    .venv/bin/python bench/retention.py [--database sqlite|postgres] [-n 300]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import timedelta
from typing import Any

from web_client import answer_sets
from web_server import BENCH_RATE_LIMIT, in_process

YEARS = 7


def _records(client: Any, n: int) -> None:
    from django.contrib.auth.models import User
    from django.db import transaction
    from django.utils import timezone

    from crossline.care.models import Alert
    from crossline.clinic.cases import open_case
    from crossline.clinic.models import Case
    from crossline.evaluation.models import Decision, Evaluation, Letter
    from crossline.intake.models import Assessment, ContactRequest
    from crossline.visits.models import Visit

    doctor = User.objects.create_user("dr.bench", "dr.bench@program.example")
    bodies = answer_sets(n, eligibility="candidate")
    for i in range(n):
        response = client.post(
            "/api/v1/assessments", json.dumps(bodies[i]), content_type="application/json"
        )
        assert response.status_code == 201, response.content
        screen = Assessment.objects.get(public_id=response.json()["id"])
        now = timezone.now()
        with transaction.atomic():
            request = ContactRequest.objects.create(
                assessment=screen,
                kind=ContactRequest.Kind.EVALUATION,
                contact={"name": f"Person {i}", "phone": "2015550147", "state": "FL"},
                consent_to_contact=True,
                consent_version="bench",
            )
            case = open_case(request, now)
            evaluation = Evaluation.objects.create(
                case=case,
                status=Evaluation.Status.DECIDED,
                decision=Decision.DECLINE,
                content={"notes": "bench"},
                updated_by=doctor,
                decided_at=now,
                decided_by=doctor,
            )
            Letter.objects.create(
                evaluation=evaluation,
                assessment=screen,
                kind=Decision.DECLINE,
                language="en",
                text={"reason": "bench"},
                issued_at=now,
            )
            Visit.objects.create(
                case=case,
                starts_at=now - timedelta(days=1),
                duration_minutes=45,
                time_zone="America/New_York",
                video_url="https://video.example/room",
                proposed_by=doctor,
                proposed_at=now - timedelta(days=2),
                status=Visit.Status.ATTENDED,
            )
            Case.objects.filter(pk=case.pk).update(status=Case.Status.CLOSED, closed_at=now)
            # A safety-positive screen's case has its alert: acknowledged, as a closed case's is.
            Alert.objects.filter(case=case).update(acknowledged_at=now, next_escalation_at=None)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    p.add_argument("-n", type=int, default=300, help="patient records")
    args = p.parse_args(argv)
    with in_process(
        args.database, "crossline-ret-", CROSSLINE_RATE_LIMIT_PER_MINUTE=BENCH_RATE_LIMIT
    ):
        from django.test import Client

        _records(Client(), args.n)

        from django.utils import timezone

        from crossline.audit.models import Event
        from crossline.clinic import retention
        from crossline.clinic.models import Case

        soon = timezone.now() + timedelta(days=1)  # every case opened before: all scanned
        later = timezone.now() + timedelta(days=366 * YEARS + 2)  # every record due
        # The setting allows no 0-year period, but the function does: a cut-off of tomorrow
        # makes every record due, so the scan reads each one's last activity and hold
        # reasons, as the worker's daily scan does for records opened before the cut-off.
        t_scan = _timed(lambda: list(retention.due(soon, 0)))
        t_apply = _timed(lambda: retention.apply(later, YEARS))
        assert not Case.objects.exists(), "every record should have been deleted"
        assert Event.objects.filter(action="record.deleted").count() == args.n
        n = args.n
        print(
            f"{args.database}: {n} records · scan {t_scan * 1000 / n:.2f} ms a record "
            f"({t_scan:.2f} s) · delete {t_apply * 1000 / n:.2f} ms a record ({t_apply:.2f} s)"
        )
    return 0


def _timed(run: Any) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


if __name__ == "__main__":
    sys.exit(main())
