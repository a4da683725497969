"""Operations tests run the real `crossline` commands as subprocesses.

The server and HTTP helpers are shared with the web benchmarks (bench/web_server.py,
bench/web_client.py), so the tests and the published figures exercise the same code path.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))

from web_server import base_env, postgres_available, postgres_database  # noqa: E402


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A data directory that does not exist yet: the commands create it on first start."""
    return tmp_path / "var"


@pytest.fixture
def env(data_dir: Path) -> dict[str, str]:
    return base_env(data_dir)


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    if not postgres_available():
        pytest.fail("PostgreSQL is not reachable on 127.0.0.1:5432 (the tests need it)")
    with postgres_database("crossline_ops") as url:
        yield url
