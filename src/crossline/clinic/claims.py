"""Claiming a case: exactly one clinician has it, however many press "claim" at the same moment.

Both databases get the same guarantee from the same last step, a *conditional update*:
``UPDATE case SET status='claimed', claimed_by=… WHERE id=… AND status='open'``. Its row count
decides: 1 means this clinician won, 0 means someone else got there first. The database applies
the WHERE clause to the row's current committed state under its write lock, so two updates can
never both see ``status='open'``:

- **PostgreSQL** (READ COMMITTED): the row is first locked with ``SELECT … FOR UPDATE SKIP
  LOCKED``. A row another transaction is claiming (or changing) right now is *skipped*, not
  waited for: a single claim reports "someone is claiming it" at once, and "claim next" simply
  takes the next most urgent open case — which is what SKIP LOCKED is for: many clinicians
  pulling from one queue without queueing behind each other. The conditional update then runs
  on the row we hold locked; it also re-checks ``status='open'``, so the outcome stays correct
  even if the lock step were removed (a second UPDATE waits for the first, re-reads the row and
  finds it claimed).
- **SQLite** has no row locks (Django drops ``select_for_update`` there) and one writer:
  crossline opens every transaction ``IMMEDIATE`` (settings.py), so the whole claim — choosing
  the case and updating it — runs while this connection holds the database's write lock, and no
  other writer can interleave. The conditional update's row count still decides, so a case
  chosen from a stale read can never be claimed twice.

The claim and its audit event commit together (`crossline.audit.record` in the same
transaction), so a claim that rolls back leaves no event, and every claim has one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from django.db import transaction
from django.db.models import F, QuerySet
from django.http import HttpRequest
from django.utils import timezone

from crossline.accounts.roles import Role, has_role
from crossline.audit import Action, record_case
from crossline.clinic.models import Case

Status = Case.Status

# "Claim next" retries when its chosen case was taken between choosing and updating (SQLite's
# stale read; on PostgreSQL the locked row cannot change, so one pass suffices).
_NEXT_ATTEMPTS = 5


@dataclass(frozen=True)
class Claim:
    """The outcome of a claim: the case (if any) and whether this clinician now holds it."""

    case: Case | None
    won: bool
    reason: str = ""  # why not: "claimed", "busy", "not_open", "none_open"


def queue_order(cases: QuerySet[Case]) -> QuerySet[Case]:
    """Most urgent first: acute, non-acute, then evaluation requests; within a safety level the
    case due first, then the oldest (evaluation requests have no deadline: oldest first).

    A deadline is not always opened_at + one interval: the operator may change the interval,
    and a closed case a new request brings back counts from that request (`cases.open_case`).
    The `case_queue` index (status, urgency, opened_at) narrows the rows; the few open safety
    cases are sorted by deadline. NULLS LAST spelled out: the two databases differ otherwise.
    """
    return cases.order_by("urgency", F("due_at").asc(nulls_last=True), "opened_at", "pk")


def _take(case_pk: int, user: Any, now: datetime) -> bool:
    """The conditional update whose row count decides who holds the case."""
    taken = Case.objects.filter(pk=case_pk, status=Status.OPEN).update(
        status=Status.CLAIMED, claimed_by=user, claimed_at=now
    )
    return taken == 1


def _claimed(case_pk: int, user: Any, request: HttpRequest | None, how: str) -> Case:
    case = Case.objects.select_related("claimed_by").get(pk=case_pk)
    record_case(
        Action.CASE_CLAIMED,
        case.public_id,
        request=request,
        actor=user if request is None else None,
        detail={"how": how, "urgency": case.urgency},
    )
    return case


def claim(public_id: UUID, user: Any, request: HttpRequest | None = None) -> Claim:
    """Claim one case for `user`: won, or why not (already claimed, being claimed, not open)."""
    now = timezone.now()
    with transaction.atomic():
        # PostgreSQL: lock the row or skip it if another transaction holds it. SQLite: a plain
        # read inside the IMMEDIATE transaction that already holds the write lock.
        locked = (
            Case.objects.select_for_update(skip_locked=True)
            .filter(public_id=public_id)
            .values_list("pk", "status")
            .first()
        )
        if locked is None:
            return _why_not(public_id)
        pk, status = locked
        if status != Status.OPEN or not _take(pk, user, now):
            return _why_not(public_id)
        return Claim(_claimed(pk, user, request, "direct"), won=True)


def _why_not(public_id: UUID) -> Claim:
    case = Case.objects.select_related("claimed_by").filter(public_id=public_id).first()
    if case is None:
        raise Case.DoesNotExist
    if case.status == Status.CLAIMED:
        return Claim(case, won=False, reason="claimed")
    if case.status == Status.OPEN:
        return Claim(case, won=False, reason="busy")  # locked by a claim in progress
    return Claim(case, won=False, reason="not_open")


def claim_next(user: Any, request: HttpRequest | None = None, state: str = "") -> Claim:
    """Claim the most urgent open case (in `state`, if given), skipping cases others are
    claiming at this moment."""
    now = timezone.now()
    for _attempt in range(_NEXT_ATTEMPTS):
        with transaction.atomic():
            candidates = Case.objects.filter(status=Status.OPEN)
            if state:
                candidates = candidates.filter(state=state)
            chosen = (
                queue_order(candidates.select_for_update(skip_locked=True))
                .values_list("pk", flat=True)
                .first()
            )
            if chosen is None:
                return Claim(None, won=False, reason="none_open")
            if _take(chosen, user, now):
                return Claim(_claimed(chosen, user, request, "next"), won=True)
    return Claim(None, won=False, reason="busy")


def may_release(case: Case, user: Any) -> bool:
    """The clinician who holds the case, or any physician, may put it back in the queue."""
    if case.status != Status.CLAIMED:
        return False
    return case.claimed_by_id == user.pk or has_role(user, Role.PHYSICIAN)


def holds(case: Case, user: Any) -> bool:
    """Whether `user` holds the case: only they record its evaluation; others read it only."""
    return case.status == Status.CLAIMED and case.claimed_by_id == user.pk


def release(case: Case, user: Any, request: HttpRequest | None = None) -> bool:
    """Put a claimed case back in the queue (open). False when it was no longer claimed by the
    clinician this page showed (someone released or decided it meanwhile)."""
    return _change(
        case,
        user,
        request,
        Action.CASE_RELEASED,
        {"by": "claimer" if case.claimed_by_id == user.pk else "physician"},
        where={"status": Status.CLAIMED, "claimed_by_id": case.claimed_by_id},
        to={"status": Status.OPEN, "claimed_by": None, "claimed_at": None},
    )


def _change(
    case: Case,
    user: Any,
    request: HttpRequest | None,
    action: Action,
    detail: dict[str, Any],
    *,
    where: dict[str, Any],
    to: dict[str, Any],
) -> bool:
    """One conditional UPDATE of the case and its audit event, in one transaction. False when
    the case no longer matched `where`: someone changed it since the page was shown."""
    with transaction.atomic():
        if Case.objects.filter(pk=case.pk, **where).update(**to) != 1:
            return False
        record_case(
            action,
            case.public_id,
            request=request,
            actor=user if request is None else None,
            detail=detail,
        )
    return True


# --- closing ---------------------------------------------------------------------------------


def why_not_close(case: Case, user: Any) -> str | None:
    """None when `user` may close the case now; otherwise why not, in plain words.

    The clinician who holds it, or any physician, closes it — and never while a safety alert of
    the case is unacknowledged, a video visit is still ahead (cancel it first: that tells the
    person, whose reminders would otherwise keep coming) or a treatment course is under way
    (stop the course first)."""
    from crossline.care.models import Alert
    from crossline.course.models import Course
    from crossline.engine import course as course_rules
    from crossline.visits.models import Visit

    if case.status == Status.CLOSED:
        return "The case is closed already."
    if not (holds(case, user) or has_role(user, Role.PHYSICIAN)):
        return "Only the clinician who holds the case, or a physician, may close it."
    if Alert.objects.filter(case=case, acknowledged_at__isnull=True).exists():
        return "An alert of this case is not acknowledged yet."
    ahead = Visit.objects.filter(case=case, status__in=Visit.OPEN, starts_at__gt=timezone.now())
    if ahead.exists():
        return "A video visit is still planned: cancel it on the visit page first."
    running = Course.objects.filter(case=case).exclude(status=course_rules.STOPPED)
    if running.exists():
        return "A treatment course is under way: the physician stops it first."
    return None


def reopen(
    case: Case, user: Any, reason: str, request: HttpRequest | None, now: datetime
) -> str | None:
    """Reopen a closed case (reason: ReopenReason). It comes back decided when its evaluation
    was decided, otherwise claimed by `user`, who reopened it to work on it (not into the queue,
    where its first deadline would make it look overdue). Returns the status it came back with;
    None when it changed meanwhile."""
    from crossline.evaluation.models import Evaluation

    with transaction.atomic():
        decided = Evaluation.objects.filter(
            case_id=case.pk, status=Evaluation.Status.DECIDED
        ).exists()
        back: dict[str, Any] = (
            {"status": Status.DECIDED}
            if decided
            else {"status": Status.CLAIMED, "claimed_by": user, "claimed_at": now}
        )
        changed = _change(
            case,
            user,
            request,
            Action.CASE_REOPENED,
            {"reason": reason, "status": back["status"]},
            where={"status": Status.CLOSED},
            to={"close_reason": "", "closed_at": None, **back},
        )
    return str(back["status"]) if changed else None


def close(case: Case, user: Any, reason: str, request: HttpRequest | None, now: datetime) -> bool:
    """Close the case with a reason (CloseReason). False when it changed meanwhile."""
    if case.status == Status.CLOSED:
        return False
    return _change(
        case,
        user,
        request,
        Action.CASE_CLOSED,
        {"reason": reason},
        where={"status": case.status},
        to={"status": Status.CLOSED, "close_reason": reason, "closed_at": now},
    )
