"""Django's SQLite backend, with write transactions queued on a file lock.

Every transaction starts with `BEGIN IMMEDIATE` (settings: `transaction_mode`), which takes
SQLite's write lock at once. When another process holds it, SQLite's busy handler polls: it
sleeps 1, 2, 5, 10 … ms between tries, so under load the lock is often free while every
waiting writer is still asleep (measured: a quarter of both cores idle while submissions
queued; docs/benchmarks.md). Here each process first takes an exclusive `flock` on a file
beside the database and holds it until its transaction ends: waiting writers sleep in the
kernel and the next one wakes the moment the previous one commits.

The file lock only orders writers; SQLite's own locking still guarantees correctness, so a
process that skips it (the `sqlite3` shell, an autocommit statement outside a transaction)
is safe, merely not queued. The kernel drops a `flock` when its process dies, so a killed
worker never leaves it held. In-memory databases (the test database) have no file to lock.
"""

from __future__ import annotations

import fcntl
import os
from typing import Any

from django.db.backends.sqlite3 import base

LOCK_SUFFIX = "-writers"


class DatabaseWrapper(base.DatabaseWrapper):
    # django-stubs leaves out the private hooks overridden here: hence the `misc` ignores.
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._writer_fd: int | None = None
        self._writer_locked = False

    def _lock_path(self) -> str | None:
        if self.is_in_memory_db():
            return None
        return f"{self.settings_dict['NAME']}{LOCK_SUFFIX}"

    def _queue(self) -> None:
        if self._writer_fd is None:
            path = self._lock_path()
            if path is None:
                return
            self._writer_fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        fcntl.flock(self._writer_fd, fcntl.LOCK_EX)
        self._writer_locked = True

    def _leave(self) -> None:
        if self._writer_locked and self._writer_fd is not None:
            self._writer_locked = False
            fcntl.flock(self._writer_fd, fcntl.LOCK_UN)

    def _start_transaction_under_autocommit(self) -> None:
        self._queue()
        try:
            super()._start_transaction_under_autocommit()  # type: ignore[misc]
        except BaseException:
            self._leave()
            raise

    def _commit(self) -> None:
        try:
            super()._commit()  # type: ignore[misc]
        finally:
            self._leave()

    def _rollback(self) -> None:
        try:
            super()._rollback()  # type: ignore[misc]
        finally:
            self._leave()

    def _close(self) -> None:
        try:
            super()._close()  # type: ignore[misc]
        finally:
            self._leave()
            if self._writer_fd is not None:
                os.close(self._writer_fd)
                self._writer_fd = None
