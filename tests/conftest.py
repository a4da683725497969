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
