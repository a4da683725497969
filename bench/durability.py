"""Durability under crashes: no acknowledged submission lost, none duplicated.

Starts a real `crossline serve` (gunicorn, default worker count) on a fresh SQLite data directory
or, with `--database postgres`, a fresh PostgreSQL database. Several client threads submit
realistic answer sets through `POST /api/v1/assessments`, each with its own `Idempotency-Key`;
a killer thread SIGKILLs the whole server process group (master and workers) at random moments
and starts it again. A submission that fails with a connection error, a 5xx or a 429 is retried
with the SAME key and body until it gets its 201, as a careful client would; now and then an
already-acknowledged submission is sent again (same key, same body) and must return the same id.

At the end (server stopped), the database is read through the app's own models:

* every id a client got a 201 for is an Assessment.public_id (lost = 0);
* there are exactly as many assessments as keys that were acknowledged (duplicated = 0: a retry
  after a lost response never creates a second assessment);
* a sample of the returned result links still open (the keys survived the restarts);
* `committed_before_crash` counts retries answered with `Idempotent-Replayed: true`: the server
  had committed, the crash swallowed the response, and the retry got the original back;
* SQLite: `PRAGMA integrity_check` is ok.

    .venv/bin/python bench/durability.py [--database sqlite|postgres] [--kills 8] [--threads 4]

Prints the counts, writes bench/out/durability_<database>.json, exits 1 on any loss, duplicate or
mismatch.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import random
import sys
import tempfile
import threading
import time
import uuid
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from web_client import answer_sets, post_assessment, request
from web_server import (
    BENCH_RATE_LIMIT,
    Server,
    base_env,
    free_port,
    migrate,
    postgres_database,
    run_crossline,
)

OUT = Path(__file__).parent / "out"
RETRY_FOR_S = 90  # a submission keeps retrying (same key) for at most this long

VERIFY = """
import json
from django.db import connection
from crossline.intake.models import Assessment
ids = [str(u) for u in Assessment.objects.values_list("public_id", flat=True)]
keyed = Assessment.objects.filter(idempotency_key__isnull=False)
out = {"ids": ids, "idempotency_records": keyed.count()}
if connection.vendor == "sqlite":
    with connection.cursor() as cur:
        cur.execute("PRAGMA integrity_check")
        out["integrity"] = cur.fetchone()[0]
print("VERIFY " + json.dumps(out))
"""


@dataclass
class Tally:
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    acknowledged: dict[str, str] = field(default_factory=dict)  # key -> id
    result_paths: dict[str, str] = field(default_factory=dict)  # key -> result path
    bodies: dict[str, dict[str, Any]] = field(default_factory=dict, repr=False)
    keys_started: int = 0
    http_attempts: int = 0
    connection_errors: int = 0
    server_errors: int = 0
    throttled: int = 0
    retried_keys: int = 0
    committed_before_crash: int = 0
    gave_up: list[str] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    replays: int = 0
    replay_mismatches: list[str] = field(default_factory=list)

    def add(self, name: str, n: int = 1) -> None:
        with self.lock:
            setattr(self, name, getattr(self, name) + n)


class Run:
    def __init__(self, server: Server, bodies: list[dict[str, Any]], args: argparse.Namespace):
        self.server = server
        self.bodies = bodies
        self.args = args
        self.tally = Tally()
        self.stop = threading.Event()
        self.counter = itertools.count()
        self.kills = 0
        self.restart_s: list[float] = []

    # --- clients -----------------------------------------------------------------------------

    def client(self, seed: int) -> None:
        rng = random.Random(seed)
        while not self.stop.is_set():
            i = next(self.counter)
            if i >= self.args.max_submissions:
                return
            if self.tally.acknowledged and rng.random() < self.args.replay:
                self.replay(rng)
                continue
            key = f"durability-{uuid.uuid4()}"
            self.submit(key, self.bodies[i % len(self.bodies)])

    def submit(self, key: str, body: dict[str, Any]) -> None:
        """Send until 201, always with the same key and body."""
        self.tally.add("keys_started")
        deadline = time.monotonic() + RETRY_FOR_S
        attempts = 0
        while time.monotonic() < deadline:
            if self.stop.is_set() and self.server.proc is None:
                break  # the server could not be restarted: nothing left to retry against
            attempts += 1
            status, data, replayed = self.send(key, body)
            if status == 201:
                with self.tally.lock:
                    self.tally.acknowledged[key] = data["id"]
                    self.tally.result_paths[key] = urlsplit(data["result_url"]).path
                    self.tally.bodies[key] = body
                    self.tally.retried_keys += attempts > 1
                    # The crash came after the commit but before the response reached us:
                    # the retry found the stored assessment instead of creating another.
                    self.tally.committed_before_crash += replayed
                return
            if status is not None and status < 500 and status != 429:
                self.tally.rejected.append(f"{key}: {status} {str(data)[:200]}")
                return
            time.sleep(0.05 + random.random() * 0.2)
        self.tally.gave_up.append(key)

    def replay(self, rng: random.Random) -> None:
        """An acknowledged submission sent again: the same id, never a new assessment."""
        with self.tally.lock:
            key = rng.choice(list(self.tally.acknowledged))
            body, expected = self.tally.bodies[key], self.tally.acknowledged[key]
        self.tally.add("replays")
        for _ in range(200):
            status, data, _ = self.send(key, body)
            if status == 201:
                if data["id"] != expected:
                    self.tally.replay_mismatches.append(f"{key}: {expected} then {data['id']}")
                return
            if status is not None and status < 500 and status != 429:
                self.tally.replay_mismatches.append(f"{key}: replay got {status}")
                return
            time.sleep(0.1)

    def send(self, key: str, body: dict[str, Any]) -> tuple[int | None, Any, bool]:
        """(status, JSON body, replayed?) — status None when the connection failed."""
        self.tally.add("http_attempts")
        try:
            r = post_assessment(self.server.port, body, key=key, timeout=20)
        except (OSError, http.client.HTTPException):
            self.tally.add("connection_errors")
            return None, None, False
        if r.status >= 500:
            self.tally.add("server_errors")
        elif r.status == 429:
            self.tally.add("throttled")
        replayed = r.headers.get("idempotent-replayed") == "true"
        try:
            return r.status, r.json(), replayed
        except ValueError:
            return r.status, r.body[:200], replayed

    # --- the killer ----------------------------------------------------------------------------

    def killer(self, seed: int) -> None:
        rng = random.Random(seed)
        try:
            for _ in range(self.args.kills):
                time.sleep(rng.uniform(self.args.min_gap, self.args.max_gap))
                self.server.kill()
                self.kills += 1
                t0 = time.monotonic()
                self.server.start()
                self.restart_s.append(time.monotonic() - t0)
            time.sleep(self.args.settle)
        finally:
            self.stop.set()


def verify(env: dict[str, str], tally: Tally, port: int) -> dict[str, Any]:
    done = run_crossline("manage", "shell", "-c", VERIFY, env=env)
    line = next((x for x in done.stdout.splitlines() if x.startswith("VERIFY ")), None)
    if line is None:
        raise RuntimeError(f"verification failed:\n{done.stdout}\n{done.stderr}")
    stored = json.loads(line.removeprefix("VERIFY "))
    rows = set(stored["ids"])
    acked = set(tally.acknowledged.values())
    return {
        "rows": len(stored["ids"]),
        "idempotency_records": stored["idempotency_records"],
        "lost": len(acked - rows),
        "unacknowledged_rows": len(rows - acked),
        "integrity": stored.get("integrity"),
    }


def check_links(port: int, tally: Tally, sample: int, rng: random.Random) -> tuple[int, int]:
    paths = list(tally.result_paths.values())
    chosen = rng.sample(paths, min(sample, len(paths)))
    ok = sum(1 for p in chosen if request(port, "GET", p).status == 200)
    return len(chosen), ok


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    p.add_argument("--kills", type=int, default=8, help="SIGKILLs of the whole server")
    p.add_argument("--threads", type=int, default=4, help="client threads")
    p.add_argument("--workers", type=int, help="gunicorn workers (default: crossline's)")
    p.add_argument("--min-gap", type=float, default=0.5, help="seconds between restart and kill")
    p.add_argument("--max-gap", type=float, default=3.0)
    p.add_argument(
        "--settle", type=float, default=1.5, help="seconds of load after the last restart"
    )
    p.add_argument("--max-submissions", type=int, default=1_000_000)
    p.add_argument("--replay", type=float, default=0.1, help="share of sends that replay a key")
    p.add_argument("--seed", type=int, default=20261128)
    p.add_argument("--out", type=Path, default=None, help="default bench/out/durability_<db>.json")
    args = p.parse_args(argv)

    bodies = answer_sets(300, args.seed)
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="crossline-dur-")))
        url = stack.enter_context(postgres_database()) if args.database == "postgres" else None
        port = free_port()
        env = base_env(
            tmp / "var",
            url,
            CROSSLINE_RATE_LIMIT_PER_MINUTE=BENCH_RATE_LIMIT,
            CROSSLINE_BASE_URL=f"http://127.0.0.1:{port}",
        )
        migrate(env)
        server = Server(env=env, log_path=tmp / "server.log", port=port, workers=args.workers)
        stack.callback(server.kill)
        server.start()
        run = Run(server, bodies, args)
        started = time.monotonic()
        threads = [
            threading.Thread(target=run.client, args=(args.seed + n,)) for n in range(args.threads)
        ]
        threads.append(threading.Thread(target=run.killer, args=(args.seed,)))
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - started
        links_checked, links_ok = check_links(port, run.tally, 25, random.Random(args.seed))
        server.stop()
        stored = verify(env, run.tally, port)

    t = run.tally
    report = {
        "database": args.database,
        "threads": args.threads,
        "kills": run.kills,
        "restart_s_max": round(max(run.restart_s, default=0), 2),
        "elapsed_s": round(elapsed, 1),
        "submissions": t.keys_started,
        "acknowledged_201": len(t.acknowledged),
        "retried_submissions": t.retried_keys,
        "committed_before_crash": t.committed_before_crash,
        "http_attempts": t.http_attempts,
        "connection_errors": t.connection_errors,
        "server_errors_5xx": t.server_errors,
        "throttled_429": t.throttled,
        "replays": t.replays,
        "replay_mismatches": len(t.replay_mismatches),
        "gave_up": len(t.gave_up),
        "rejected": len(t.rejected),
        **stored,
        "duplicated": max(0, stored["rows"] - len(t.acknowledged)),
        "result_links_checked": links_checked,
        "result_links_ok": links_ok,
    }
    failures = _failures(report, t)
    report["ok"] = not failures
    out = args.out or OUT / f"durability_{args.database}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    for k, v in report.items():
        print(f"{k:>24}: {v}")
    for f in failures:
        print(f"FAIL: {f}", file=sys.stderr)
    return 1 if failures else 0


def _failures(report: dict[str, Any], tally: Tally) -> list[str]:
    problems = [*tally.rejected[:5], *tally.replay_mismatches[:5]]
    problems += [f"gave up on {k}" for k in tally.gave_up[:5]]
    if report["lost"]:
        problems.append(f"{report['lost']} acknowledged submissions are missing")
    if report["rows"] != report["acknowledged_201"]:
        problems.append(f"{report['rows']} rows for {report['acknowledged_201']} acknowledged keys")
    if report["idempotency_records"] != report["rows"]:
        problems.append(
            f"{report['idempotency_records']} idempotency records for {report['rows']} rows"
        )
    if report["result_links_ok"] != report["result_links_checked"]:
        problems.append("a result link no longer opens after the restarts")
    if report["integrity"] not in (None, "ok"):
        problems.append(f"sqlite integrity_check: {report['integrity']}")
    if report["kills"] == 0 or report["acknowledged_201"] == 0:
        problems.append("nothing was tested (no kills or no submissions)")
    return problems


if __name__ == "__main__":
    sys.exit(main())
