"""`python -m tests.care.subprocess_db seed|seed-many N|sweep GO NOW|counts`, run with a
worker's environment: the worker tests' database, prepared and inspected from outside the
test process (the worker is another process and sees only committed rows)."""

from __future__ import annotations

import json
import sys

import django

if __name__ == "__main__":  # pragma: no cover — run by tests/care/test_worker.py
    django.setup()
    from tests.care import support

    command, *rest = sys.argv[1:]
    if command == "seed":
        print(json.dumps(support.seed()))
    elif command == "seed-many":
        support.seed_many(int(rest[0]))
    elif command == "sweep":
        print(support.sweep_when(rest[0], rest[1]))
    elif command == "counts":
        print(json.dumps(support.counts()))
    else:
        raise SystemExit(f"unknown command {command!r}")
