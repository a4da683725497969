"""Suite-wide fixtures."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture(autouse=True)
def _fresh_program_policy() -> Iterator[None]:
    """Each test starts from the program settings in its own database: the per-process cache
    of `current_knowledge()` is not carried from one test (or rolled-back row) to the next."""
    from crossline.program.policy import invalidate

    invalidate()
    yield
    invalidate()


@pytest.fixture(autouse=True)
def _no_remembered_refusals() -> Iterator[None]:
    """Rate-limit refusals remembered by this process belong to the test that made them."""
    from crossline.api.ratelimit import forget_refusals

    forget_refusals()
    yield
    forget_refusals()


@pytest.fixture
def one_rate_window(monkeypatch: pytest.MonkeyPatch) -> float:
    """Hold the rate limiter's clock in the middle of the current one-minute window, so a test
    that counts several requests cannot see them split across two windows (CI runs at any
    second). Only `crossline.api.ratelimit` sees the held clock. Returns the held time."""
    import time
    from types import SimpleNamespace

    from crossline.api import ratelimit

    held = (time.time() // ratelimit.WINDOW_SECONDS) * ratelimit.WINDOW_SECONDS + 30
    monkeypatch.setattr(ratelimit, "time", SimpleNamespace(time=lambda: held))
    return held


@pytest.fixture
def no_rate_limit(settings: Any) -> None:
    """The per-client limits out of the way: a property test submits many screens from one
    test client address."""
    from dataclasses import replace

    settings.CROSSLINE = replace(settings.CROSSLINE, rate_limit_per_minute=10**6)


def pytest_configure(config: pytest.Config) -> None:
    """PostgreSQL: drop the test databases of this machine's earlier runs whose process is
    gone (killed before pytest-django could drop them; see tests/django_settings.py)."""
    from django.conf import settings

    prefix = getattr(settings, "TEST_DATABASE_PREFIX", None)
    if prefix is None:
        return
    import re

    import psycopg

    db = settings.DATABASES["default"]
    params = {"host": db["HOST"], "port": db["PORT"] or 5432, "user": db["USER"]}
    if db["PASSWORD"]:
        params["password"] = db["PASSWORD"]
    with psycopg.connect(dbname=db["NAME"], autocommit=True, **params) as conn:
        names = [r[0] for r in conn.execute("SELECT datname FROM pg_database").fetchall()]
        for name in names:
            found = re.fullmatch(re.escape(prefix) + r"(\d+)", name)
            if found and not _alive(int(found.group(1))):
                conn.execute(f'DROP DATABASE IF EXISTS "{name}"')


def _alive(pid: int) -> bool:
    import os

    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
