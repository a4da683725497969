"""What one API submission costs inside one process, without HTTP or a load generator.

Django's test client against a real data directory (SQLite with crossline's PRAGMAs: WAL,
synchronous=FULL) or a throw-away PostgreSQL database: the mean time of `GET /healthz`, of a
candidate submission with an Idempotency-Key and of one without, and their ratio, in wall-clock
and in CPU time of this process (what a saturated server runs out of); on PostgreSQL also the
CPU of the database server's process for this connection (/proc, the server being local). With
`--profile`, a cProfile of the keyed submissions in CPU time (the top functions by cumulative
time).

    .venv/bin/python bench/web_profile.py [--database sqlite|postgres] [-n 300] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import json
import os
import pstats
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from web_client import answer_sets
from web_server import BENCH_RATE_LIMIT, in_process


def _backend_cpu() -> float:
    """Seconds of CPU (user + system) the PostgreSQL backend of this process's connection has
    used (the server runs on this machine: its /proc), or 0 on SQLite."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return 0.0
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class GcClock:
    """CPU seconds this process has spent in the cyclic garbage collector (gc.callbacks)."""

    def __init__(self) -> None:
        self.total = 0.0
        self._start = 0.0
        gc.callbacks.append(self._tick)

    def _tick(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._start = time.process_time()
        else:
            self.total += time.process_time() - self._start


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    p.add_argument("-n", type=int, default=300, help="requests of each kind")
    p.add_argument("--profile", action="store_true", help="cProfile the keyed submissions")
    p.add_argument("--sort", default="cumulative", help="the profile's order (pstats keys)")
    p.add_argument(
        "--no-freeze",
        action="store_true",
        help="leave what setup loaded to the garbage collector (`crossline serve` freezes it)",
    )
    args = p.parse_args(argv)
    bodies = [json.dumps(b) for b in answer_sets(200, eligibility="candidate")]
    with in_process(
        args.database, "crossline-prof-", CROSSLINE_RATE_LIMIT_PER_MINUTE=BENCH_RATE_LIMIT
    ):
        from django.test import Client

        client = Client()
        clock = GcClock()

        def healthz(i: int) -> None:
            assert client.get("/healthz").status_code == 200

        def submit(i: int, keyed: bool) -> None:
            headers = {"Idempotency-Key": uuid.uuid4().hex} if keyed else {}
            r = client.post(
                "/api/v1/assessments",
                bodies[i % len(bodies)],
                content_type="application/json",
                headers=headers,
            )
            assert r.status_code == 201, r.content

        def timed(fn: Any, *extra: Any) -> tuple[float, ...]:
            """Wall-clock and CPU milliseconds per request (CPU: this process only, so neither
            the fsync waits nor other jobs on the machine count), of that CPU the garbage
            collector's, and on PostgreSQL the CPU of the database server's process serving
            this connection."""
            for i in range(20):  # warm-up
                fn(i, *extra)
            server, collecting = _backend_cpu(), clock.total
            wall, cpu = time.perf_counter(), time.process_time()
            for i in range(args.n):
                fn(i, *extra)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            server, collecting = _backend_cpu() - server, clock.total - collecting
            return tuple(x / args.n * 1000 for x in (wall, cpu, collecting, server))

        for i in range(20):  # what the first requests load, as a served worker has
            healthz(i)
            submit(i, True)
        if not args.no_freeze:  # as `crossline serve` does before it forks its workers
            gc.collect()
            gc.freeze()
        h1 = timed(healthz)
        keyed = timed(submit, True)
        unkeyed = timed(submit, False)
        h2 = timed(healthz)
        label = args.database
        kinds = ("wall", "CPU", "of which GC") + (
            ("database CPU",) if args.database == "postgres" else ()
        )
        for i, what in enumerate(kinds):
            h = (h1[i] + h2[i]) / 2
            ratios = what != "of which GC"  # a part of the CPU, not a cost to compare
            print(
                f"{label} {what}: healthz {h:.2f} ms, keyed {keyed[i]:.2f} ms"
                + (f" (ratio {h / keyed[i]:.2f})" if ratios else "")
                + f", unkeyed {unkeyed[i]:.2f} ms"
                + (f" (ratio {h / unkeyed[i]:.2f})" if ratios else "")
            )
        if args.profile:
            profiler = cProfile.Profile(time.process_time)
            profiler.enable()
            for i in range(args.n):
                submit(i, True)
            profiler.disable()
            stats = pstats.Stats(profiler).sort_stats(args.sort)
            stats.print_stats(45)
    return 0


if __name__ == "__main__":
    sys.exit(main())
