"""The knowledge base with the operator's settings applied: the one the screen must use.

`current_knowledge()` is the packaged knowledge (`crossline.knowledge.load()`) with the
operator-editable policy from `ProgramSettings` applied through `Knowledge.with_policy`, which
refuses anything but service states, universal ASQ (stricter only) and alert deadlines: clinical
thresholds and hard floors (age ≥ 18, crisis rules) cannot be changed here.

Cost: the API submit path calls it on every request, so it does not query on every call. Each
process keeps the last result and re-reads the settings row (one indexed query of a few
columns) at most every `TTL_SECONDS`, rebuilding only if the row's `updated_at` changed. A save
or delete of the row in this process invalidates at once (and again on commit); other
processes see the change within `TTL_SECONDS`. With the database unreachable, the settings
last read stand (re-tried every `TTL_SECONDS`); a process that never read them fails.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from crossline.engine.knowledge import Knowledge
from crossline.knowledge import load

TTL_SECONDS = 5.0
_log = logging.getLogger("crossline.program")
_clock: Callable[[], float] = time.monotonic  # tests advance a clock of their own

SETTINGS_COLUMNS = (
    "pk",
    "updated_at",
    "service_states",
    "universal_asq",
    "acute_deadline_minutes",
    "non_acute_deadline_minutes",
    "escalate_after_minutes",
    "telemedicine_basis",
    "telemedicine_basis_expires",
)


def base_knowledge() -> Knowledge:
    """The reviewed knowledge release, without operator settings."""
    return load()


def apply_settings(k: Knowledge, values: Mapping[str, Any] | None) -> Knowledge:
    """`k` with a settings row's operator-editable values applied (PolicyError if refused)."""
    if values is None:
        return k
    changes: dict[str, Any] = {
        "alert_deadline_acute_minutes": values["acute_deadline_minutes"],
        "alert_deadline_non_acute_minutes": values["non_acute_deadline_minutes"],
    }
    if values["service_states"] is not None:
        changes["service_states"] = list(values["service_states"])
    if values["universal_asq"]:  # stricter only: off leaves the release's value
        changes["universal_asq"] = True
    return k.with_policy(**changes)


@dataclass(frozen=True, slots=True)
class _Snapshot:
    key: tuple[Any, ...] | None  # (pk, updated_at) of the row read; None without a row
    values: Mapping[str, Any] | None
    knowledge: Knowledge
    checked_at: float


_cache: _Snapshot | None = None
_lock = threading.Lock()


def _snapshot() -> _Snapshot:
    global _cache
    snap = _cache
    now = _clock()
    if snap is not None and now - snap.checked_at < TTL_SECONDS:
        return snap
    from django.db import DatabaseError

    with _lock:
        try:
            row = _settings_row()
        except DatabaseError:
            if snap is None:
                raise
            # The database unreachable: the settings last read stand (pages that read them,
            # the education pages among them, still answer); retried after the TTL.
            _log.warning("program settings: the database cannot be reached; the last read stand")
            _cache = _Snapshot(snap.key, snap.values, snap.knowledge, now)
            return _cache
        key = (row["pk"], row["updated_at"]) if row else None
        if snap is not None and snap.key == key:
            knowledge = snap.knowledge
        else:
            knowledge = apply_settings(base_knowledge(), row)
        snap = _Snapshot(key, row, knowledge, now)
        _cache = snap
    return snap


def _settings_row() -> dict[str, Any] | None:
    from crossline.program.models import ProgramSettings

    row: dict[str, Any] | None = (
        ProgramSettings.objects.order_by("pk").values(*SETTINGS_COLUMNS).first()
    )
    return row


def current_knowledge() -> Knowledge:
    """The knowledge the screen uses: the release with the operator's settings applied."""
    return _snapshot().knowledge


def current_settings() -> Mapping[str, Any] | None:
    """The settings row's values (`SETTINGS_COLUMNS`), cached like `current_knowledge()`;
    None before an operator has saved any settings (the defaults then apply)."""
    return _snapshot().values


def invalidate(**_: Any) -> None:
    """Forget the cached snapshot (a signal receiver; tests call it between tests too)."""
    global _cache
    _cache = None


def settings_saved(**kwargs: Any) -> None:
    """post_save/post_delete of ProgramSettings: invalidate now, and again after commit (a
    reader in between may have cached the uncommitted row; the TTL re-check covers rollback)."""
    from django.db import transaction

    invalidate()
    transaction.on_commit(invalidate)
