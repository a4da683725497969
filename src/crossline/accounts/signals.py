"""Audit events for what django-axes decides: an account and address locked out."""

from __future__ import annotations

from typing import Any

from axes.signals import user_locked_out  # type: ignore[import-untyped]
from django.contrib.auth import get_user_model
from django.dispatch import receiver

from crossline.audit import Action, record


@receiver(user_locked_out)
def record_lockout(sender: Any, request: Any = None, username: str | None = None, **_: Any) -> None:
    known = get_user_model().objects.filter(username=username).first() if username else None
    record(
        Action.SIGNIN_LOCKED_OUT,
        request=request,
        actor=known if known is not None else "unknown",
        detail={"failures": int(getattr(request, "axes_failures_since_start", 0) or 0)},
    )
