"""Reminder e-mails to the patient before a confirmed visit.

`sweep(now)` runs every few minutes (registered with the worker's scheduler). For each confirmed
visit it sends at most the most recent reminder whose time has come — a sweep that runs late
sends the 1-hour reminder, not a stale 24-hour one as well — and never one whose time had already
come when the patient confirmed (the invitation has just told them). Each reminder is sent once
per proposal: inserting its `Reminder` row is the claim, and the unique constraint turns a
second, concurrent sweep's insert into "someone else has it". A failed send removes the claim so
the next sweep tries again.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django_tasks import task

from crossline.audit import Action, record
from crossline.visits.models import Reminder, Visit

logger = logging.getLogger(__name__)

# How long before the visit each reminder goes out (program policy: change it here).
REMINDERS: dict[str, timedelta] = {"24h": timedelta(hours=24), "1h": timedelta(hours=1)}
SWEEP_EVERY_MINUTES = 5


def due_kind(visit: Visit, now: datetime) -> str | None:
    """The reminder this visit should have now, if any (the latest one whose time has come)."""
    if visit.status != Visit.Status.CONFIRMED or now >= visit.starts_at:
        return None
    ready = [(b, kind) for kind, b in REMINDERS.items() if visit.starts_at - b <= now]
    if not ready:
        return None
    before, kind = min(ready)
    confirmed = visit.confirmed_at or visit.answered_at or now
    return kind if confirmed < visit.starts_at - before else None


def sweep(now: datetime) -> int:
    """Send the reminders due at `now`; returns how many this sweep sent."""
    longest = max(REMINDERS.values())
    candidates = Visit.objects.filter(
        status=Visit.Status.CONFIRMED, starts_at__gt=now, starts_at__lte=now + longest
    ).select_related("case__assessment", "proposed_by")  # served by the visit_upcoming index
    sent = 0
    for visit in candidates:
        kind = due_kind(visit, now)
        if kind is not None and _claim(visit, kind, now):
            sent += _send(visit, kind, now)
    return sent


def _claim(visit: Visit, kind: str, now: datetime) -> Reminder | None:
    try:
        with transaction.atomic():
            return Reminder.objects.create(
                visit=visit, kind=kind, sequence=visit.sequence, claimed_at=now
            )
    except IntegrityError:
        return None  # sent already, or another sweep is sending it right now


def _send(visit: Visit, kind: str, now: datetime) -> int:
    from crossline.visits import mail

    reminder = Reminder.objects.get(visit=visit, kind=kind, sequence=visit.sequence)
    message = mail.message(visit, "reminder", "patient")
    try:
        if message is not None:
            message.send()
    except OSError:
        logger.warning("visit reminder %s not sent (SMTP error); retried next sweep", reminder.pk)
        reminder.delete()
        return 0
    with transaction.atomic():
        reminder.sent_at = now
        reminder.save(update_fields=["sent_at"])
        record(
            Action.NOTIFICATION_SENT,
            actor="system",
            patient=visit.case.public_id,
            object_type="visit",
            object_id=visit.public_id,
            detail={"kind": f"visit.reminder.{kind}", "to": "patient" if message else "none"},
        )
    return 1 if message is not None else 0


@task()
def sweep_task() -> int:
    """The sweep as a background task (for the worker's scheduler: every SWEEP_EVERY_MINUTES)."""
    return sweep(timezone.now())
