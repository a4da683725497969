"""Web load benchmark: `crossline serve` (gunicorn, crossline's default worker count) on SQLite
and on PostgreSQL, measured from the same machine (issue 3, "Performance").

(a) Maximum throughput, with wrk (closed loop, `--connections` at once): `GET /healthz` (a
    trivial endpoint with one database round trip), then `POST /api/v1/assessments` with
    realistic candidate answer sets (the longest path: medical checklist and medicines) — with
    a unique Idempotency-Key on every request and without one — then `/healthz` again. The
    figure is the submit/healthz ratio within the same run (goal ≥ 0.3): wrk shares the two
    cores with the server, so absolute numbers say as much about the machine as about crossline.
(b) A fixed rate of `--rate` submissions per second (goal: p99 ≤ 100 ms at 100/s), with and
    without an Idempotency-Key, open loop:
    each request is sent at its scheduled time whatever happened to the others, and its latency
    runs from the scheduled time, so a stalled server cannot hide its queue (no coordinated
    omission). One new connection per request, as gunicorn's sync workers close each one.
(c) Transfer per step of the web flow: a candidate walks the whole assessment with a cookie
    jar; each screen's HTML plus the stylesheets and scripts it links, uncached (goal ≤ 60 KB).

The submit rate limit is raised with the documented benchmark setting
`CROSSLINE_RATE_LIMIT_PER_MINUTE=1000000` (the limiter still counts every request in the
shared database cache; only its ceiling is out of the way).

    .venv/bin/python bench/web_load.py [--database sqlite|postgres|both] [--duration 15]
        [--connections 32] [--rounds 1] [--rate 100] [--rate-duration 30]

Writes bench/out/web_load.json; prints a summary.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import gzip
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from web_client import Browser, answer_sets
from web_server import BENCH_RATE_LIMIT, Server, base_env, migrate, postgres_database

HERE = Path(__file__).parent
LUA = HERE / "web_load.lua"
OUT = HERE / "out" / "web_load.json"
STEP_GOAL_BYTES = 60 * 1024


# --- (a) wrk ------------------------------------------------------------------------------------


def wrk(url: str, args: argparse.Namespace, *script_args: str) -> dict[str, Any]:
    argv = [
        "wrk", "-t2", f"-c{args.connections}", f"-d{args.duration}s", "--timeout", "10s",
        "-s", str(LUA), url, "--", *script_args,
    ]  # fmt: skip
    done = subprocess.run(argv, capture_output=True, text=True, timeout=args.duration + 60)
    line = next((x for x in done.stdout.splitlines() if x.startswith("WRKJSON ")), None)
    if done.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed: {done.stdout}\n{done.stderr}")
    raw = json.loads(line.removeprefix("WRKJSON "))
    seconds = raw["duration_us"] / 1e6
    return {
        "requests": raw["requests"],
        "per_s": round(raw["requests"] / seconds, 1),
        "p50_ms": round(raw["p50_us"] / 1000, 1),
        "p90_ms": round(raw["p90_us"] / 1000, 1),
        "p99_ms": round(raw["p99_us"] / 1000, 1),
        "max_ms": round(raw["max_us"] / 1000, 1),
        "errors": raw["errors"],
    }


def throughput(server: Server, bodies_file: Path, args: argparse.Namespace) -> dict[str, Any]:
    """The four wrk runs; with `--rounds N`, the sequence N times over (each round a ratio of
    its own, as other jobs on a shared machine come and go), the first round as before."""
    rounds = [_round(server, bodies_file, args) for _ in range(args.rounds)]
    if args.rounds == 1:
        return rounds[0]
    report = dict(rounds[0])
    report["rounds"] = rounds
    for name in ("submit_with_key", "submit_without_key"):
        ratios = [r[name]["ratio_to_healthz"] for r in rounds]
        report[f"{name}_ratio_median"] = round(statistics.median(ratios), 3)
    return report


def _round(server: Server, bodies_file: Path, args: argparse.Namespace) -> dict[str, Any]:
    health, submit = f"{server.url}/healthz", f"{server.url}/api/v1/assessments"
    nonce = uuid.uuid4().hex[:12]
    runs = {
        "healthz_before": _with_cpu(server, wrk, health, args, "get"),
        "submit_with_key": _with_cpu(
            server, wrk, submit, args, "post", str(bodies_file), "key", nonce
        ),
        "submit_without_key": _with_cpu(
            server, wrk, submit, args, "post", str(bodies_file), "nokey"
        ),
        "healthz_after": _with_cpu(server, wrk, health, args, "get"),
    }
    trivial = statistics.mean([runs["healthz_before"]["per_s"], runs["healthz_after"]["per_s"]])
    for name in ("submit_with_key", "submit_without_key"):
        runs[name]["ratio_to_healthz"] = round(runs[name]["per_s"] / trivial, 3)
    return runs


def _with_cpu(server: Server, run: Any, *args: Any) -> dict[str, Any]:
    """A wrk run, plus the CPU time the server's processes (gunicorn master and workers, not
    the database server) spent per request: less sensitive than throughput to other jobs."""
    before = _group_cpu_s(server.pid)
    result: dict[str, Any] = run(*args)
    spent = _group_cpu_s(server.pid) - before
    result["server_cpu_ms_per_request"] = round(spent / max(1, result["requests"]) * 1000, 3)
    return result


def _group_cpu_s(pgid: int) -> float:
    """User + system CPU seconds of every live process in the process group."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:  # fields after the command: state, ppid, pgrp, …
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / tick


# --- (b) fixed rate, open loop ------------------------------------------------------------------


def _request_bytes(body: dict[str, Any], key: str | None) -> bytes:
    data = json.dumps(body).encode()
    head = (
        "POST /api/v1/assessments HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n"
        + (f"Idempotency-Key: {key}\r\n" if key else "")
        + "\r\n"
    )
    return head.encode() + data


async def _open_loop(
    port: int, bodies: list[dict[str, Any]], rate: float, seconds: float, keyed: bool
) -> list[tuple[float, int | None]]:
    loop = asyncio.get_running_loop()
    start = loop.time() + 0.5
    nonce = uuid.uuid4().hex[:12]

    async def one(i: int) -> tuple[float, int | None]:
        scheduled = start + i / rate
        payload = _request_bytes(bodies[i % len(bodies)], f"{nonce}-{i}" if keyed else None)
        await asyncio.sleep(max(0.0, scheduled - loop.time()))
        status: int | None = None
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(payload)
            await writer.drain()
            response = await asyncio.wait_for(reader.read(), timeout=30)
            writer.close()
            status = int(response[9:12])
        except (OSError, ValueError, TimeoutError):
            pass
        return loop.time() - scheduled, status

    return await asyncio.gather(*(one(i) for i in range(int(rate * seconds))))


def fixed_rate(
    server: Server, bodies: list[dict[str, Any]], args: argparse.Namespace, keyed: bool
) -> dict[str, Any]:
    asyncio.run(_open_loop(server.port, bodies, args.rate, 3, keyed))  # warm-up, not counted
    results = asyncio.run(_open_loop(server.port, bodies, args.rate, args.rate_duration, keyed))
    latencies = sorted(s * 1000 for s, _ in results)
    statuses: dict[str, int] = {}
    for _, status in results:
        statuses[str(status)] = statuses.get(str(status), 0) + 1

    def pct(p: float) -> float:
        return round(latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))], 1)

    return {
        "idempotency_key": keyed,
        "rate_per_s": args.rate,
        "seconds": args.rate_duration,
        "requests": len(results),
        "statuses": statuses,
        "p50_ms": pct(50),
        "p90_ms": pct(90),
        "p99_ms": pct(99),
        "max_ms": round(latencies[-1], 1),
        "goal_p99_ms": 100,
    }


# --- (c) transfer per step ----------------------------------------------------------------------


def transfer(server: Server, full: dict[str, Any], language: str) -> dict[str, Any]:
    browser = Browser(server.port)
    result = browser.take_assessment(full, language)
    browser.view(result)
    steps = browser.steps
    largest = max(steps, key=lambda s: s.total)
    css = {s.asset_bytes for s in steps}
    return {
        "language": language,
        "steps": len(steps),
        "largest_step": {"path": _anonymous(largest.path), "bytes": largest.total},
        "largest_html_bytes": max(s.html_bytes for s in steps),
        "stylesheet_bytes": sorted(css),
        "median_step_bytes": int(statistics.median(s.total for s in steps)),
        "all_steps_bytes": sum(s.total for s in steps),
        "within_goal": largest.total <= STEP_GOAL_BYTES,
        "result_page_gzip_bytes": len(gzip.compress(browser.get(result).body)),
        "per_step": [{"path": _anonymous(s.path), "bytes": s.total} for s in steps],
    }


def _anonymous(path: str) -> str:
    return "/r/<token>/" if path.startswith("/r/") else path


# --- one database -------------------------------------------------------------------------------


def run_one(database: str, args: argparse.Namespace) -> dict[str, Any]:
    bodies = answer_sets(500, args.seed, eligibility="candidate")
    load_before = [round(x, 2) for x in os.getloadavg()]
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="crossline-load-")))
        url = stack.enter_context(postgres_database()) if database == "postgres" else None
        env = base_env(tmp / "var", url, CROSSLINE_RATE_LIMIT_PER_MINUTE=BENCH_RATE_LIMIT)
        migrate(env)
        server = Server(env=env, log_path=tmp / "server.log", workers=args.workers)
        stack.callback(server.kill)
        server.start()
        workers = _workers(server)
        bodies_file = tmp / "bodies.jsonl"
        bodies_file.write_text("".join(json.dumps(b) + "\n" for b in bodies))
        print(f"[{database}] transfer per step …", flush=True)
        sizes = [transfer(server, bodies[0]["answers"], lang) for lang in ("en", "es")]
        print(f"[{database}] wrk, {args.duration} s a run …", flush=True)
        max_load = throughput(server, bodies_file, args)
        print(f"[{database}] fixed rate {args.rate}/s for {args.rate_duration} s …", flush=True)
        rate = {
            "with_key": fixed_rate(server, bodies, args, keyed=True),
            "without_key": fixed_rate(server, bodies, args, keyed=False),
        }
        server.stop()
    return {
        "workers": workers,
        "load_average_before_after": [load_before, [round(x, 2) for x in os.getloadavg()]],
        "throughput": max_load,
        "fixed_rate": rate,
        "transfer": sizes,
    }


def _workers(server: Server) -> int:
    for line in server.log_path.read_text().splitlines():
        if line.startswith("crossline serving"):
            return int(line.split(" workers")[0].rsplit(" ", 1)[1])
    return 0


def machine() -> dict[str, Any]:
    model = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        model = next(
            (x.split(":", 1)[1].strip() for x in cpuinfo.read_text().splitlines()
             if x.startswith("model name")), "",
        )  # fmt: skip
    wrk_version = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "wrk": wrk_version.split("[")[0].strip(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--database", choices=("sqlite", "postgres", "both"), default="both")
    p.add_argument("--duration", type=int, default=15, help="seconds per wrk run")
    p.add_argument("--connections", type=int, default=32, help="wrk connections")
    p.add_argument("--workers", type=int, help="gunicorn workers (default: crossline's)")
    p.add_argument("--rounds", type=int, default=1, help="repeat the four wrk runs N times")
    p.add_argument("--rate", type=float, default=100.0, help="fixed-rate submissions per second")
    p.add_argument("--rate-duration", type=int, default=30, help="seconds at the fixed rate")
    p.add_argument("--seed", type=int, default=20261128)
    p.add_argument("--out", type=Path, default=OUT)
    args = p.parse_args(argv)
    if shutil.which("wrk") is None:
        print("wrk is not installed: apt-get install -y wrk", file=sys.stderr)
        return 2

    report: dict[str, Any] = {
        "date": datetime.date.today().isoformat(),
        "command": "python bench/web_load.py " + " ".join(argv or sys.argv[1:]),
        "machine": machine(),
        "settings": {k: v for k, v in vars(args).items() if k != "out"},
    }
    databases = ["sqlite", "postgres"] if args.database == "both" else [args.database]
    started = time.monotonic()
    for database in databases:
        report[database] = run_one(database, args)
    report["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    report["elapsed_s"] = round(time.monotonic() - started)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(summary(report, databases))
    return 0


def summary(report: dict[str, Any], databases: list[str]) -> str:
    lines = []
    for db in databases:
        r = report[db]
        t = r["throughput"]
        h = (t["healthz_before"]["per_s"] + t["healthz_after"]["per_s"]) / 2
        hc = (
            t["healthz_before"]["server_cpu_ms_per_request"]
            + t["healthz_after"]["server_cpu_ms_per_request"]
        ) / 2
        lines.append(f"{db} ({r['workers']} workers)")
        lines.append(f"  healthz {h:.0f}/s, server CPU {hc:.2f} ms a request")
        for name in ("submit_with_key", "submit_without_key"):
            s = t[name]
            lines.append(
                f"  {name}: {s['per_s']:.0f}/s (ratio {s['ratio_to_healthz']}), "
                f"p50 {s['p50_ms']} ms, p99 {s['p99_ms']} ms, "
                f"server CPU {s['server_cpu_ms_per_request']:.2f} ms, errors {s['errors']}"
            )
        for i, rd in enumerate(t.get("rounds", [])):
            hr = (rd["healthz_before"]["per_s"] + rd["healthz_after"]["per_s"]) / 2
            k, u = rd["submit_with_key"], rd["submit_without_key"]
            lines.append(
                f"  round {i + 1}: healthz {hr:.0f}/s, with key {k['per_s']:.0f}/s"
                f" ({k['ratio_to_healthz']}), without {u['per_s']:.0f}/s ({u['ratio_to_healthz']})"
            )
        if "rounds" in t:
            lines.append(
                f"  median ratio: with key {t['submit_with_key_ratio_median']}, "
                f"without {t['submit_without_key_ratio_median']}"
            )
        for name, f in r["fixed_rate"].items():
            lines.append(
                f"  fixed {f['rate_per_s']:.0f}/s {name}: p50 {f['p50_ms']} ms, "
                f"p90 {f['p90_ms']} ms, p99 {f['p99_ms']} ms, max {f['max_ms']} ms, "
                f"statuses {f['statuses']}"
            )
        for s in r["transfer"]:
            lines.append(
                f"  transfer ({s['language']}): {s['steps']} steps, largest "
                f"{s['largest_step']['bytes']} B ({s['largest_step']['path']}), "
                f"median {s['median_step_bytes']} B"
            )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
