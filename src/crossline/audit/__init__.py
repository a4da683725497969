"""The tamper-evident audit log. `record()` appends an event in the caller's transaction."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from crossline.audit.actions import Action

if TYPE_CHECKING:
    from crossline.audit.models import Event


def record(action: Action | str, **kwargs: Any) -> Event:
    from crossline.audit.log import record as _record  # models load after the app registry

    return _record(action, **kwargs)


__all__ = ["Action", "record"]
