"""The recovery plan beside the medicine (issue 5 item 8): therapy or counselling, protected
rest, boundaries at work, support people — the patient's own words, agreed with a clinician.

Once a course has one, each weekly questionnaire asks the one-line check `course.recovery`
(services.submit_weekly). Stored encrypted (RecoveryPlan.content); saved with its audit event.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.db import transaction
from django.http import HttpRequest

from crossline.audit import Action, record
from crossline.course.models import CheckIn, Course, RecoveryPlan
from crossline.course.services import CourseError
from crossline.engine.weekly import RECOVERY

FIELDS = ("therapy", "rest", "boundaries", "support")
LABELS = {
    "therapy": "Therapy or counselling",
    "rest": "Protected rest",
    "boundaries": "Boundaries at work",
    "support": "Support people",
}
MAX_LENGTH = 2000


def save_plan(
    course: Course,
    *,
    content: dict[str, str],
    agreed_on: date | None,
    user: Any,
    request: HttpRequest | None,
    now: datetime,
) -> RecoveryPlan:
    """Create or replace the course's recovery plan. At least one part must be written."""
    cleaned = {key: str(content.get(key) or "").strip()[:MAX_LENGTH] for key in FIELDS}
    if not any(cleaned.values()):
        raise CourseError("therapy: write at least one part of the plan")
    if agreed_on is None:
        raise CourseError("agreed_on: the date the plan was agreed with the patient")
    with transaction.atomic():
        locked = Course.objects.select_for_update().select_related("case").get(pk=course.pk)
        plan, created = RecoveryPlan.objects.update_or_create(
            course=locked,
            defaults={
                "content": cleaned,
                "agreed_on": agreed_on,
                "updated_by": user,
                "updated_at": now,
            },
        )
        record(
            Action.RECOVERY_PLAN_SAVED,
            request=request,
            actor=user,
            patient=locked.case.public_id,
            object_type="course",
            object_id=locked.public_id,
            detail={"created": created, "parts": ",".join(k for k in FIELDS if cleaned[k])},
        )
    return plan


def weekly_answers(course: Course, last: int = 8) -> list[dict[str, Any]]:
    """The last weeks' answers to the recovery line, newest first: number, date, answer."""
    rows = []
    checkins = (
        CheckIn.objects.filter(course=course, kind=CheckIn.Kind.WEEKLY)
        .select_related("weekly")
        .order_by("-submitted_at", "-pk")
    )
    for c in checkins:
        answer = (c.answers or {}).get(RECOVERY)
        if answer is None:
            continue
        rows.append({"number": c.weekly.number if c.weekly else None,
                     "on": c.submitted_at, "answer": answer})  # fmt: skip
        if len(rows) >= last:
            break
    return rows


def parts(plan: RecoveryPlan | None) -> list[tuple[str, str]]:
    """(label, text) of the written parts, in order, for display."""
    content = plan.content if plan else {}
    return [(LABELS[k], str(content.get(k, ""))) for k in FIELDS if content.get(k)]
