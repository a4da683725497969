"""How long the audit log's CSV download takes at its cap (`crossline.audit.views`).

The download streams within one request, and `crossline serve`'s sync workers are stopped after
30 s: the cap (100,000 events) must fit well inside that. A throw-away data directory (SQLite,
crossline's PRAGMAs) or PostgreSQL database gets N audit events in one bulk INSERT (their MACs
are placeholders: the chain is not what is measured), then an operator downloads them all
through the view (Django's test client, the whole middleware stack) and the stream is read to
its end.

    .venv/bin/python bench/audit_export.py [--database sqlite|postgres] [-n 100000]

Prints and writes bench/out/audit_export_<database>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from web_server import in_process

HERE = Path(__file__).resolve().parent
_INSERT = (
    'INSERT INTO audit_event (seq, "at", action, actor_id, actor, patient, object_type,'
    " object_id, request_id, detail, prev_mac, mac, key_id)"
    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    p.add_argument("-n", type=int, default=100_000, help="audit events to download")
    args = p.parse_args(argv)
    with in_process(args.database, "crossline-audit-"):
        from django.db import connection, transaction
        from django.utils import timezone

        sys.path.insert(0, str(HERE.parent))
        from tests.staff import signed_in, staff_user

        now = timezone.now()
        rows = [
            (
                i, now, "record.viewed", 1, "olive@clinic.test",
                f"3f2b6a1e-0000-4000-8000-{i:012d}", "case", str(i), "r" * 32,
                json.dumps({"view": "record"}), "0" * 64, "0" * 64, "a1",
            )
            for i in range(1, args.n + 1)
        ]  # fmt: skip
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(_INSERT, rows)
        client = signed_in(staff_user("olive.operator", "operator"))
        started = time.perf_counter()
        response = client.get("/clinic/audit/", {"format": "csv"})
        size = sum(len(chunk) for chunk in response.streaming_content)
        seconds = time.perf_counter() - started
        assert response.status_code == 200, response.status_code
        connection.close()
    report = {
        "database": args.database,
        "events": args.n,
        "bytes": size,
        "seconds": round(seconds, 2),
        "events_per_s": round(args.n / seconds),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }
    out = HERE / "out" / f"audit_export_{args.database}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
