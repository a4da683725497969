"""The tamper-evident audit log. `record()` appends an event in the caller's transaction;
`prepare()` checks and encodes one beforehand, for a hot path to `append()` in its transaction."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from crossline.audit.actions import Action

if TYPE_CHECKING:
    from crossline.audit.log import Pending
    from crossline.audit.models import Event


def record(action: Action | str, **kwargs: Any) -> Event:
    from crossline.audit.log import record as _record  # models load after the app registry

    return _record(action, **kwargs)


def record_case(action: Action | str, case_id: object, **kwargs: Any) -> Event:
    """`record()` for an event about one case: its public id names both the patient and the
    object (never anything that identifies the person)."""
    return record(action, patient=case_id, object_type="case", object_id=case_id, **kwargs)


def prepare(action: Action | str, **kwargs: Any) -> Pending:
    """An event checked and encoded now, appended later (`.append()`) in a transaction."""
    from crossline.audit.log import prepare as _prepare

    return _prepare(action, **kwargs)


def __getattr__(name: str) -> Any:
    """`Pending`, from the module that needs the models (loaded after the app registry)."""
    if name == "Pending":
        from crossline.audit.log import Pending

        return Pending
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["Action", "Pending", "prepare", "record"]
