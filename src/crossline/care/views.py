"""The alerts pages: the list (open first, by deadline), one alert, acknowledging it.

These pages show no PHI — levels, times, staff names and a link to the case record, which
does its own access check and audit — so reading them is not an audit event; acknowledging is.
The list asks `summary.json` every minute whether the open alerts changed (a count and a
fingerprint), and says so; that request is not activity (accounts.middleware.PASSIVE_PATHS).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from crossline.accounts.decorators import role_required
from crossline.accounts.roles import Role
from crossline.audit import Action, record_case
from crossline.care import alerts
from crossline.care.models import Alert
from crossline.program.policy import current_knowledge

CLINICAL = (Role.INTAKE, Role.PHYSICIAN)
RECENTLY_ACKNOWLEDGED = 50


def alert_for(public_id: UUID) -> Alert:
    """One program per deployment: every clinician may see every alert; unknown ids → 404."""
    found = Alert.objects.select_related("case", "acknowledged_by").filter(public_id=public_id)
    alert = found.first()
    if alert is None:
        raise Http404("no such alert")
    return alert


def _span(delta: timedelta) -> str:
    minutes = int(abs(delta.total_seconds()) // 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if days:
        return f"{days} d {hours} h"
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"


def time_left(alert: Alert, now: datetime) -> dict[str, Any]:
    left = alert.due_at - now
    if left.total_seconds() < 0:
        return {"overdue": True, "text": f"overdue by {_span(left)}"}
    return {"overdue": False, "text": f"{_span(left)} left"}


def staff_name(user: Any) -> str:
    return (user.get_full_name() or user.get_username()) if user is not None else ""


def _row(alert: Alert, now: datetime) -> dict[str, Any]:
    return {
        "alert": alert,
        "left": time_left(alert, now) if alert.is_open else None,
        "acknowledged_by": staff_name(alert.acknowledged_by),
    }


@role_required(*CLINICAL)
@require_GET
def alert_list(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    # The case's course (a reverse one-to-one, absent for most) in the same query: each row
    # links to it without a query of its own.
    rows = Alert.objects.select_related("acknowledged_by", "case__course").defer(
        "unaccepted_answers"  # shown on an alert's own page only (and audited there)
    )
    open_alerts = list(rows.filter(acknowledged_at__isnull=True).order_by("due_at"))
    done = rows.filter(acknowledged_at__isnull=False).order_by("-acknowledged_at")
    context = {
        "open_rows": [_row(a, now) for a in open_alerts],
        "done_rows": [_row(a, now) for a in done[:RECENTLY_ACKNOWLEDGED]],
        "now": now,
        "fingerprint": fingerprint((a.public_id, a.level, a.step) for a in open_alerts),
        "poll_seconds": settings.CROSSLINE_ALERTS_POLL_SECONDS,
    }
    return render(request, "care/alerts.html", context)


@role_required(*CLINICAL)
@require_GET
def alert_summary(request: HttpRequest) -> HttpResponse:
    """`{"open": n, "fingerprint": …, "now": …}` of the open alerts, for the list to compare with
    itself; `now` (the server's clock, Unix seconds) lets it count the time left down without
    trusting the clock of the computer it runs on."""
    found = Alert.objects.filter(acknowledged_at__isnull=True).order_by("due_at")
    rows = list(found.values_list("public_id", "level", "step"))
    now = int(timezone.now().timestamp())
    response = JsonResponse({"open": len(rows), "fingerprint": fingerprint(rows), "now": now})
    response["Cache-Control"] = "no-store"
    return response


def fingerprint(open_alerts: Iterable[tuple[UUID, str, int]]) -> str:
    """Which alerts are open, at which level and escalation step, in deadline order: what the
    list shows that can change. A digest, so the summary carries no ids."""
    digest = hashlib.sha256()
    for public_id, level, step in open_alerts:
        digest.update(f"{public_id}:{level}:{step};".encode())
    return digest.hexdigest()[:16]


@role_required(*CLINICAL)
@require_GET
def alert_detail(request: HttpRequest, public_id: UUID) -> HttpResponse:
    alert = alert_for(public_id)
    now = timezone.now()
    events = alert.events.select_related("user")
    notes = alert.notifications.select_related("user")
    unaccepted = _unaccepted(alert)
    if unaccepted:  # the person's own answers are on this page: a read of their record
        record_case(
            Action.RECORD_VIEWED,
            alert.case.public_id,
            request=request,
            detail={"alert": str(alert.public_id), "what": "unaccepted_answers"},
        )
    context = {
        **_row(alert, now),
        "events": [{"event": e, "user": staff_name(e.user)} for e in events],
        "notifications": [{"note": n, "user": staff_name(n.user)} for n in notes],
        "roster_empty": not alerts.roster(),
        "unaccepted": unaccepted,
    }
    return render(request, "care/alert.html", context)


def _unaccepted(alert: Alert) -> list[dict[str, Any]]:
    """Each time the person sent safety answers a course page could not store, or sent a
    check-in's first step and left at its ASQ step (`left_at_asq`): when, and each question
    (its validated wording) with the answer chosen, in the knowledge base's words."""
    k = current_knowledge()
    sent = []
    for entry in alert.unaccepted_answers or []:
        rows = []
        for item_id, value in entry["answers"].items():
            item = k.items.get(item_id)  # a later knowledge release may not have it: the id
            options = item.options if item else ()
            label = next((o.text["en"] for o in options if o.value == value), str(value))
            question = item.text["en"] if item else item_id
            rows.append({"id": item_id, "question": question, "answer": label})
        at = datetime.fromisoformat(entry["at"])
        sent.append({"at": at, "rows": rows, "left_at_asq": bool(entry.get("left_at_asq"))})
    return sent


@role_required(*CLINICAL)
@require_POST
def alert_acknowledge(request: HttpRequest, public_id: UUID) -> HttpResponse:
    alert = alert_for(public_id)
    if alerts.acknowledge(alert, request, timezone.now()):
        messages.success(request, "Alert acknowledged: escalation stopped.")
    else:
        alert.refresh_from_db()
        who = staff_name(alert.acknowledged_by)
        messages.info(request, f"Already acknowledged by {who}.")
    return HttpResponseRedirect(f"/clinic/alerts/{alert.public_id}/")
