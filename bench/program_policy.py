"""What `crossline.program.policy.current_knowledge()` adds to a request (the API submit path).

Times, in one process on a throw-away SQLite database (or DATABASE_URL): `load()` (the cached
release, the baseline), `current_knowledge()` from its cache (every request within
`TTL_SECONDS`), and a refresh (the one query of the settings row, plus the rebuild of the
knowledge when the row changed) — which happens at most once per `TTL_SECONDS` per process.
Median of `--runs` runs of `--n` calls each, `time.perf_counter`.

    PYTHONPATH=src:. .venv/bin/python bench/program_policy.py  # tests.django_settings
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable


def per_call(fn: Callable[[], object], n: int, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        for _ in range(n):
            fn()
        times.append((time.perf_counter() - start) / n)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.django_settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from crossline.knowledge import load
    from crossline.program import policy
    from crossline.program.models import ProgramSettings

    s = ProgramSettings.current()
    s.service_states = ["FL", "NJ", "NY"]
    s.universal_asq = True
    s.save()
    policy.current_knowledge()

    def refresh_unchanged() -> None:
        policy._cache = policy._cache and policy._Snapshot(
            policy._cache.key, policy._cache.values, policy._cache.knowledge, -1e9
        )
        policy.current_knowledge()

    def refresh_changed() -> None:
        policy.invalidate()
        policy.current_knowledge()

    n, runs = args.n, args.runs
    rows = [
        ("load() (release, cached)", per_call(load, n, runs)),
        ("current_knowledge(), cached", per_call(policy.current_knowledge, n, runs)),
        ("refresh, row unchanged (1 query)", per_call(refresh_unchanged, n // 20, runs)),
        ("refresh, row changed (query+rebuild)", per_call(refresh_changed, n // 20, runs)),
    ]
    for name, seconds in rows:
        print(f"{name:40s} {seconds * 1e6:9.2f} µs")
    print(f"refreshes: at most one per {policy.TTL_SECONDS:g} s per process")


if __name__ == "__main__":
    main()
