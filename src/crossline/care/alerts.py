"""Safety alerts: created with the case, escalated down the on-call roster, acknowledged.

PRODUCT.md ("Privacy and audit"; pathway step 6): a safety-positive screen whose person left
contact details gets an alert with a response deadline by level (program settings: acute 30
minutes, non-acute 8 hours by default). Who is told, step by step:

- step 0, when the alert is created: the first active person on the on-call roster and the
  program's notification addresses;
- step k (not acknowledged `escalate_after_minutes` after step k-1; step 1 no later than the
  deadline): the k-th next person on the roster (the roster as it stands then, active entries
  in position order);
- after the last roster entry: the notification addresses again, and escalation ends.

Every step also posts the paging webhook when one is configured. Each step is an `AlertEvent`
and an audit event in the same transaction; its notifications are queued only once that
transaction commits (`transaction.on_commit`), so a rolled-back alert sends nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import connection, transaction
from django.http import HttpRequest
from django.utils import timezone

from crossline.accounts.roles import active_clinicians
from crossline.audit import Action, record
from crossline.care.models import Alert, AlertEvent, Notification
from crossline.clinic.cases import deadline, urgency_of
from crossline.clinic.models import Case
from crossline.program.models import OnCallEntry, ProgramSettings


@dataclass(frozen=True)
class Step:
    """Who one escalation step pages: a roster member, the team addresses, or both."""

    number: int
    user: Any  # a staff user, or None
    team: bool
    final: bool


def roster() -> list[Any]:
    """The active on-call users, in roster order. Accounts turned off or without a clinical
    role any more are skipped: the alert's page would refuse them."""
    clinicians = active_clinicians().values("pk")
    entries = OnCallEntry.objects.filter(active=True, user__in=clinicians).select_related("user")
    return [entry.user for entry in entries.order_by("position", "pk")]


def step(number: int, users: list[Any]) -> Step:
    if number == 0:
        return Step(0, users[0] if users else None, team=True, final=False)
    if number < len(users):
        return Step(number, users[number], team=False, final=False)
    return Step(number, None, team=True, final=True)


def team_addresses(program: ProgramSettings) -> list[str]:
    """The program's notification addresses: one per line; malformed lines are skipped."""
    found: list[str] = []
    for line in program.notification_emails.splitlines():
        address = line.strip()
        try:
            validate_email(address)
        except ValidationError:
            continue
        if address.lower() not in (a.lower() for a in found):
            found.append(address)
    return found


# --- creation -------------------------------------------------------------------------------


def on_case_opened(sender: Any, *, case: Case, created: bool, **kwargs: Any) -> None:
    """`clinic.cases.case_opened` receiver, inside the intake transaction: a safety-positive
    case's alert. A second request on the same screen while that alert is open adds nothing;
    one after it was acknowledged — the person at risk got in touch again, perhaps after the
    case was decided or closed — pages again, due from this request: filed silently, no one
    would know they asked."""
    if case.safety_level in ("", "none"):
        return
    screen_alerts = Alert.objects.filter(case=case, source=Alert.Source.SCREEN)
    if not screen_alerts.exists():
        create_alert(case, case.opened_at)
    elif not screen_alerts.filter(acknowledged_at__isnull=True).exists():
        create_alert(case, timezone.now(), again=True)


def create_alert(case: Case, now: datetime, *, again: bool = False) -> Alert:
    """The screen's safety alert and its first notifications (`again`: for a new request after
    the first alert was acknowledged, due from `now` rather than the case's deadline). The
    caller owns the transaction."""
    program = ProgramSettings.current()
    due = (None if again else case.due_at) or deadline(urgency_of(case.safety_level), now, program)
    assert due is not None, "only safety-positive cases have alerts"
    return _open(case, case.safety_level, Alert.Source.SCREEN, [], due, now, program)


def raise_alert(
    case: Case,
    level: str,
    source: str,
    reasons: list[str],
    now: datetime,
    *,
    reported_at: datetime | None = None,
) -> Alert:
    """A course alert (a held session, a red after-check, a missed check-in, a dispensing flag):
    acute and non-acute ones have the program's deadlines and escalate like a screen's; routine
    ones have the non-acute deadline and are notified once. The caller owns the transaction.

    `reported_at`: when the person gave the answers behind an alert raised only later (the
    worker's report of a check-in left at its ASQ step, minutes after it). The deadline is for
    answering the person, who has waited since then, so it counts from that moment, as a
    screen's counts from the request (`create_alert`); the roster is paged now. Without it,
    the deadline counts from `now`."""
    program = ProgramSettings.current()
    minutes = (
        program.acute_deadline_minutes
        if level == Alert.Level.ACUTE
        else program.non_acute_deadline_minutes
    )
    due = (reported_at or now) + timedelta(minutes=minutes)
    return _open(case, level, source, reasons, due, now, program)


def _open(
    case: Case,
    level: str,
    source: str,
    reasons: list[str],
    due: datetime,
    now: datetime,
    program: ProgramSettings,
) -> Alert:
    alert = Alert.objects.create(
        case=case,
        level=level,
        source=source,
        reasons=reasons,
        created_at=now,
        due_at=due,
        next_escalation_at=_first_escalation(level, due, now, program),
    )
    first = step(0, roster())
    team = bool(team_addresses(program))
    AlertEvent.objects.create(
        alert=alert, at=now, kind=AlertEvent.Kind.CREATED, user=first.user, team=team
    )
    record(
        Action.ALERT_CREATED,
        actor="system",
        patient=case.public_id,
        object_type="alert",
        object_id=alert.public_id,
        detail={
            "level": alert.level,
            "source": source,
            "to_user": first.user.pk if first.user else None,
        },
    )
    queue_notifications(alert, first, now, program)
    return alert


def _first_escalation(
    level: str, due: datetime, now: datetime, program: ProgramSettings
) -> datetime | None:
    """When the next person on the roster is paged if no one has acknowledged: the program's
    `escalate_after_minutes` after this first page, so the person paged has that long — but
    never after the deadline, which the program settings promise (escalation no later than the
    acute deadline). Only a deadline counted from an earlier report (`raise_alert`'s
    `reported_at`) can fall before; one already passed escalates at the next sweep. Routine
    alerts do not escalate."""
    if level == Alert.Level.ROUTINE:
        return None
    return min(now + timedelta(minutes=program.escalate_after_minutes), due)


def queue_notifications(alert: Alert, at: Step, now: datetime, program: ProgramSettings) -> None:
    """One notification per recipient and channel, queued after the transaction commits."""
    notes: list[Notification] = []
    common = {"alert": alert, "step": at.number, "created_at": now}
    if at.user is not None:
        notes.append(Notification(channel=Notification.Channel.EMAIL, user=at.user, **common))
    if at.team:
        notes += [
            Notification(channel=Notification.Channel.EMAIL, address=address, **common)
            for address in team_addresses(program)
        ]
    if settings.CROSSLINE.alert_webhook_url:
        notes.append(Notification(channel=Notification.Channel.WEBHOOK, **common))
    for note in notes:
        note.save(force_insert=True)
    ids = [note.pk for note in notes]
    if ids:
        from crossline.care.tasks import enqueue_notifications

        transaction.on_commit(lambda: enqueue_notifications(ids))


# --- escalation -----------------------------------------------------------------------------


def escalate_due(now: datetime, limit: int = 200) -> int:
    """Escalate every unacknowledged alert whose next step is due; the number escalated.

    Safe with several workers at once: each alert's step is claimed in its own transaction
    (PostgreSQL: `SELECT … FOR UPDATE SKIP LOCKED`; SQLite: a conditional UPDATE on the step it
    read), so every step happens exactly once.
    """
    due = Alert.objects.filter(acknowledged_at__isnull=True, next_escalation_at__lte=now)
    ids = list(due.order_by("next_escalation_at").values_list("pk", flat=True)[:limit])
    return sum(1 for pk in ids if _escalate_one(pk, now))


def _escalate_one(pk: int, now: datetime) -> bool:
    program = ProgramSettings.current()
    with transaction.atomic():
        alert = _claim(pk, now)
        if alert is None:
            return False  # another worker has it, or it was acknowledged meanwhile
        at = step(alert.step + 1, roster())
        alert.step = at.number
        alert.next_escalation_at = (
            None if at.final else now + timedelta(minutes=program.escalate_after_minutes)
        )
        alert.save(update_fields=["step", "next_escalation_at"])
        AlertEvent.objects.create(
            alert=alert,
            at=now,
            kind=AlertEvent.Kind.ESCALATED,
            step=at.number,
            user=at.user,
            team=at.team and bool(team_addresses(program)),
        )
        record(
            Action.ALERT_ESCALATED,
            actor="worker",
            patient=alert.case.public_id,
            object_type="alert",
            object_id=alert.public_id,
            detail={
                "step": at.number,
                "to_user": at.user.pk if at.user else None,
                "team": at.team,
                "final": at.final,
            },
        )
        queue_notifications(alert, at, now, program)
    return True


def _claim(pk: int, now: datetime) -> Alert | None:
    due = Alert.objects.filter(pk=pk, acknowledged_at__isnull=True, next_escalation_at__lte=now)
    if connection.vendor == "postgresql":
        return due.select_for_update(skip_locked=True).first()
    # SQLite: one writer at a time; the UPDATE only matches the step this worker read.
    alert = due.first()
    if alert is None:
        return None
    won = due.filter(step=alert.step).update(next_escalation_at=None)
    return alert if won else None


# --- acknowledgement ------------------------------------------------------------------------


def acknowledge(alert: Alert, request: HttpRequest, now: datetime) -> bool:
    """Stop escalation; False when someone had already acknowledged it (nothing changes)."""
    user: Any = request.user  # signed in: the view's role check ran first
    with transaction.atomic():
        locked = Alert.objects.select_for_update().get(pk=alert.pk)
        if locked.acknowledged_at is not None:
            return False
        _acknowledge(locked, user, request, now, {})
    return True


def acknowledge_answered(
    alerts: Iterable[Alert], *, by: str, user: Any, request: HttpRequest | None, now: datetime
) -> int:
    """Acknowledge the open alerts that a clinician's own action has just answered (`by`, the
    action's audit name: a held session cleared or cancelled). Left open, an answered alert
    would keep paging down the on-call roster and stand in the queue as waiting. The caller
    owns the transaction and chooses the alerts; returns how many were acknowledged."""
    count = 0
    for alert in alerts:
        locked = Alert.objects.select_for_update().get(pk=alert.pk)
        if locked.acknowledged_at is None:
            _acknowledge(locked, user, request, now, {"by": by})
            count += 1
    return count


def _acknowledge(
    alert: Alert, user: Any, request: HttpRequest | None, now: datetime, detail: dict[str, Any]
) -> None:
    alert.acknowledged_at = now
    alert.acknowledged_by = user
    alert.next_escalation_at = None
    alert.save(update_fields=["acknowledged_at", "acknowledged_by", "next_escalation_at"])
    AlertEvent.objects.create(
        alert=alert, at=now, kind=AlertEvent.Kind.ACKNOWLEDGED, step=alert.step, user=user
    )
    record(
        Action.ALERT_ACKNOWLEDGED,
        request=request,
        actor=user,
        patient=alert.case.public_id,
        object_type="alert",
        object_id=alert.public_id,
        detail={"step": alert.step, "late": now > alert.due_at, **detail},
    )
