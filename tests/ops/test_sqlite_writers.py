"""crossline's SQLite backend queues write transactions on a file lock (`crossline.sqlite`):
a second writer sleeps in the kernel until the first one's transaction ends, however it ends,
and wakes at once, instead of polling with SQLite's busy handler."""

from __future__ import annotations

import fcntl
import os
import stat
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db.utils import ConnectionHandler

from crossline.settings import _database
from crossline.sqlite.base import LOCK_SUFFIX


def _wrapper(path: Path) -> Any:
    """A connection of its own, as another worker process would have."""
    return ConnectionHandler({"default": _database(f"sqlite:///{path}")})["default"]


def _begin(conn: Any) -> None:
    """What `transaction.atomic()` does on entering the outermost block."""
    conn.set_autocommit(False, force_begin_transaction_with_broken_autocommit=True)


def _end(conn: Any, commit: bool = True) -> None:
    conn.commit() if commit else conn.rollback()
    conn.set_autocommit(True)


@pytest.fixture(autouse=True)
def _own_files(django_db_blocker: Any) -> Iterator[None]:
    """These connections open their own files, not the test database pytest-django guards."""
    with django_db_blocker.unblock():
        yield


@pytest.fixture
def db_path(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "crossline.sqlite3"
    conn = _wrapper(path)
    with conn.cursor() as cursor:
        cursor.execute("CREATE TABLE t (n INTEGER)")
    conn.close()
    yield path


def _lock_is_free(db_path: Path) -> bool:
    fd = os.open(f"{db_path}{LOCK_SUFFIX}", os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)  # closing drops the probe's own lock, if it got one
    return True


def test_a_second_writer_waits_until_the_first_commits_then_sees_its_row(db_path: Path) -> None:
    first = _wrapper(db_path)
    _begin(first)
    with first.cursor() as cursor:
        cursor.execute("INSERT INTO t VALUES (1)")
    began, seen = threading.Event(), []

    def second_writer() -> None:
        conn = _wrapper(db_path)
        _begin(conn)  # queues on the file lock
        began.set()
        with conn.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM t")
            seen.append(cursor.fetchone()[0])
            cursor.execute("INSERT INTO t VALUES (2)")
        _end(conn)
        conn.close()

    thread = threading.Thread(target=second_writer)
    thread.start()
    assert not began.wait(0.3), "the second writer began while the first held the lock"
    _end(first)
    assert began.wait(5), "the second writer did not wake when the first committed"
    thread.join(5)
    assert seen == [1]
    with first.cursor() as cursor:
        cursor.execute("SELECT n FROM t ORDER BY n")
        assert [r[0] for r in cursor.fetchall()] == [1, 2]
    first.close()


@pytest.mark.parametrize("ending", ["commit", "rollback", "close"])
def test_every_way_a_transaction_ends_releases_the_lock(db_path: Path, ending: str) -> None:
    conn = _wrapper(db_path)
    _begin(conn)
    with conn.cursor() as cursor:
        cursor.execute("INSERT INTO t VALUES (1)")
    assert not _lock_is_free(db_path)
    if ending == "close":
        conn.close()
    else:
        _end(conn, commit=ending == "commit")
    assert _lock_is_free(db_path)
    conn.close()


def test_a_failed_begin_releases_the_lock(db_path: Path) -> None:
    conn = _wrapper(db_path)
    conn.ensure_connection()
    conn.transaction_mode = "NOT-A-MODE"  # BEGIN NOT-A-MODE: a syntax error from SQLite
    with pytest.raises(Exception, match="syntax error"):
        _begin(conn)
    assert _lock_is_free(db_path)
    conn.close()


def test_reads_outside_a_transaction_take_no_lock(db_path: Path) -> None:
    writer = _wrapper(db_path)
    _begin(writer)
    reader = _wrapper(db_path)
    started = time.monotonic()
    with reader.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM t")  # WAL: a reader never waits for a writer
        assert cursor.fetchone()[0] == 0
    assert time.monotonic() - started < 1
    _end(writer)
    reader.close()
    writer.close()


def test_the_lock_file_is_private_and_an_in_memory_database_has_none(db_path: Path) -> None:
    conn = _wrapper(db_path)
    _begin(conn)
    _end(conn)
    conn.close()
    mode = stat.S_IMODE(os.stat(f"{db_path}{LOCK_SUFFIX}").st_mode)
    assert mode & 0o077 == 0
    memory = {**_database(f"sqlite:///{db_path}"), "NAME": ":memory:"}
    assert ConnectionHandler({"default": memory})["default"]._lock_path() is None
