"""Retention of patient records (PRODUCT.md "Privacy and audit": "Patient records follow the
operator-configured retention (check state law)").

A patient record is one case and everything stored under it (`PARTS`): the screen it was opened
from (answers, decision), the contact details, the evaluation with its addenda and letter, the
visits and their reminders, the treatment course (sessions, weekly questionnaires, check-ins
and their first steps, consent signatures, risk assessments, decisions, supplies, the recovery
plan) and the safety alerts with their history and notifications.

Nothing is deleted unless an operator set `ProgramSettings.record_retention_years`: crossline
has no default, because the period is the law of the states the program treats in, which
crossline does not know. A record is **due** when its *last activity* — the latest date or time
stored anywhere in it, a visit's or session's scheduled time included — is before the cut-off
day, that many years before today (UTC). The latest of everything is the conservative reading
of both usual wordings ("from the last patient contact", "from the most recent entry").

A due record is **held back**, and reported, while it still asks something of someone: a case
still open or claimed, a safety alert not acknowledged, a course not stopped. The operator
settles those first; retention never decides that a person's open request is over. An
operator's legal hold (`RecordHold`, in the admin) holds a record back whatever its state.

Deleting a record: one transaction per record. The screen's non-identifying columns are added
to the aggregate counts first (as anonymous retention does), so reporting reads the same; then
every row, children before parents; then one audit event (`record.deleted`, the case's public id
and the last activity's date, nothing else). The audit log itself is never touched: its events
name the case by that id and hold no patient data.

The clock is an argument: the worker passes `timezone.now()`, tests pass a fixed time.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from django.db import models, transaction
from django.db.models import Max, Q

from crossline.audit import Action, record_case
from crossline.care.models import Alert, AlertEvent, Notification
from crossline.clinic.models import Case, RecordHold
from crossline.course.models import (
    CheckIn,
    ConsentSignature,
    Course,
    CourseDecision,
    FirstStep,
    RecoveryPlan,
    RiskAssessment,
    Session,
    Supply,
    Weekly,
)
from crossline.engine.course import STOPPED
from crossline.evaluation.models import Addendum, Evaluation, Letter
from crossline.intake.models import Assessment, ContactRequest
from crossline.intake.retention import add_to_counts
from crossline.visits.models import Reminder, Visit

CASE, SCREEN = "case", "screen"

# Every model that stores part of a patient record, with the lookup from it to the record's
# case or to its screen, in the order they are deleted (children before their parents: most
# foreign keys are PROTECT; the case before its screen, which it points to).
# tests/clinic/test_retention.py fails when a model that reaches a case or a screen is missing.
PARTS: tuple[tuple[type[models.Model], str, str], ...] = (
    (RecordHold, "case", CASE),  # a held record is never deleted: listed for completeness
    (FirstStep, "course__case", CASE),  # before the alert it may point to
    (Notification, "alert__case", CASE),
    (AlertEvent, "alert__case", CASE),
    (Alert, "case", CASE),
    (Reminder, "visit__case", CASE),
    (Visit, "case", CASE),
    (CheckIn, "course__case", CASE),
    (Weekly, "course__case", CASE),
    (Session, "course__case", CASE),
    (ConsentSignature, "course__case", CASE),
    (RiskAssessment, "course__case", CASE),
    (CourseDecision, "course__case", CASE),
    (Supply, "course__case", CASE),
    (RecoveryPlan, "course__case", CASE),
    (Course, "case", CASE),
    (Letter, "evaluation__case", CASE),
    (Addendum, "evaluation__case", CASE),
    (Evaluation, "case", CASE),
    (Case, "pk", CASE),
    (ContactRequest, "assessment", SCREEN),
    (Assessment, "pk", SCREEN),
)


def _rows(case: Case) -> Iterator[tuple[type[models.Model], models.QuerySet[models.Model]]]:
    """Each part's rows of this record, in `PARTS` order."""
    ids = {CASE: case.pk, SCREEN: case.assessment_id}
    for model, lookup, via in PARTS:
        yield model, model._default_manager.filter(**{lookup: ids[via]})


@dataclass(frozen=True)
class Due:
    """A record past its retention: the case, its last activity's day and why it is held back
    (empty: it may be deleted)."""

    case: Case
    last_activity: dt.date
    held: tuple[str, ...]


@dataclass(frozen=True)
class Applied:
    cutoff: dt.date  # records whose last activity is before this day are due
    deleted: int
    held: tuple[Due, ...]
    finished: bool = True  # False: the time budget ran out first


def cutoff(now: dt.datetime, years: int) -> dt.date:
    """The first day a record's last activity may fall on and still be kept: today (UTC) the
    same calendar day `years` years before (29 February → 28 February)."""
    today = now.astimezone(dt.UTC).date()
    try:
        return today.replace(year=today.year - years)
    except ValueError:
        return today.replace(year=today.year - years, day=28)


def last_activity(case: Case) -> dt.date:
    """The latest date or time stored anywhere in the case's record, as a UTC day."""
    return last_activities([case])[case.pk]


def last_activities(cases: Sequence[Case]) -> dict[int, dt.date]:
    """`last_activity` of each case, by case id: one grouped query per part for all of them
    (the daily scan reads every record opened before the cut-off)."""
    latest = {case.pk: dt.date.min for case in cases}
    case_of_screen = {case.assessment_id: case.pk for case in cases}
    ids = {CASE: list(latest), SCREEN: list(case_of_screen)}
    for model, lookup, via in PARTS:
        fields = _DATES[model]
        if not fields:
            continue
        rows = (
            model._default_manager.filter(**{f"{lookup}__in": ids[via]})
            .order_by()  # a model's default ordering would join the GROUP BY
            .values(lookup)
            .annotate(**{f"latest_{f}": Max(f) for f in fields})
        )
        for row in rows:
            owner = row.pop(lookup)
            pk = owner if via == CASE else case_of_screen[owner]
            days = [_day(v) for v in row.values() if v is not None]
            latest[pk] = max([latest[pk], *days])
    return latest


# Each part's date and time columns (DateTimeField is a DateField).
_DATES = {
    model: [f.name for f in model._meta.concrete_fields if isinstance(f, models.DateField)]
    for model, _, _ in PARTS
}
SCAN_CHUNK = 500  # cases whose last activity is read together


def due(now: dt.datetime, years: int) -> Iterator[Due]:
    """The records whose last activity is before the cut-off, oldest case first, with the
    reasons any of them is held back."""
    before = cutoff(now, years)
    # A record's last activity is at least its case's opening, so later cases cannot be due.
    start = dt.datetime.combine(before, dt.time.min, tzinfo=dt.UTC)
    candidates = Case.objects.filter(opened_at__lt=start).order_by("opened_at", "pk")
    chunk: list[Case] = []
    for case in candidates.iterator(chunk_size=SCAN_CHUNK):
        chunk.append(case)
        if len(chunk) == SCAN_CHUNK:
            yield from _due_among(chunk, before)
            chunk = []
    yield from _due_among(chunk, before)


def _due_among(cases: list[Case], before: dt.date) -> Iterator[Due]:
    days = last_activities(cases)
    for case in cases:
        if days[case.pk] < before:
            yield Due(case, days[case.pk], held_because(case))


def held_because(case: Case) -> tuple[str, ...]:
    reasons = []
    hold = RecordHold.objects.filter(case=case).first()
    if hold is not None:
        reasons.append(f"a legal hold is placed ({hold.reference})")
    if case.status in (Case.Status.OPEN, Case.Status.CLAIMED):
        reasons.append(f"the case is still {case.status}")
    if Alert.objects.filter(case=case, acknowledged_at__isnull=True).exists():
        reasons.append("a safety alert is not acknowledged")
    if Course.objects.filter(case=case).filter(~Q(status=STOPPED)).exists():
        reasons.append("the treatment course is not stopped")
    return tuple(reasons)


def apply(now: dt.datetime, years: int, budget: float | None = None) -> Applied:
    """Delete every due record that is not held back; report those that are. With a `budget`
    (seconds), stop starting new deletions once it is spent (`Applied.finished` False): the
    worker's loop also runs the escalation sweep, which must not wait long; the next run goes
    on where this one stopped (the records already deleted are no longer due)."""
    stop = None if budget is None else time.monotonic() + budget
    deleted, held = 0, list[Due]()
    for item in due(now, years):
        if stop is not None and time.monotonic() > stop:
            return Applied(cutoff(now, years), deleted, tuple(held), finished=False)
        if item.held:
            held.append(item)
        elif delete(item.case.pk, now, years):
            deleted += 1
    return Applied(cutoff(now, years), deleted, tuple(held))


def delete(case_pk: int, now: dt.datetime, years: int) -> bool:
    """Delete one record in one transaction, checking again under lock that it is still due
    and not held (the clinic may have acted since it was listed). False if it was not."""
    with transaction.atomic():
        case = Case.objects.select_for_update().filter(pk=case_pk).first()
        if case is None:
            return False
        day = last_activity(case)
        if day >= cutoff(now, years) or held_because(case):
            return False
        screen = case.assessment
        add_to_counts([(screen.created_at, screen.eligibility, screen.safety_level, screen.state)])
        public_id = case.public_id
        for _, rows in _rows(case):
            rows.delete()
        record_case(
            Action.RECORD_DELETED,
            public_id,
            actor="system",
            detail={"last_activity": day.isoformat(), "retention_years": years},
        )
    return True


def _day(value: dt.date) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).date()
    return value
