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


class StaleEdit(CourseError):
    """The plan was saved by someone else after the editor opened it: nothing was saved.
    `current` is the plan as it stands now."""

    def __init__(self, current: RecoveryPlan | None) -> None:
        self.current = current
        who = current.updated_by.get_username() if current else "someone"
        when = f" at {current.updated_at:%Y-%m-%d %H:%M} UTC" if current else ""
        super().__init__(
            f"This plan was changed by someone else ({who}{when}) since you opened it, so "
            "nothing was saved. The current plan is shown below; your text is still in the "
            "form: compare them, then save again to replace the current plan."
        )


def version_of(plan: RecoveryPlan | None) -> str:
    """The version an editor opened: the plan's last save ("" when there was no plan). The
    form carries it back so a save can tell whether someone else saved in between."""
    return plan.updated_at.isoformat() if plan is not None else ""


def save_plan(
    course: Course,
    *,
    content: dict[str, str],
    agreed_on: date | None,
    user: Any,
    request: HttpRequest | None,
    now: datetime,
    version: str | None = None,
) -> RecoveryPlan:
    """Create or replace the course's recovery plan. At least one part must be written.

    `version` is `version_of` the plan the editor opened: when the plan has been saved since,
    `StaleEdit` and nothing is overwritten (two staff members editing it from pages loaded at
    different times would otherwise silently replace each other's words). None replaces
    whatever is there (a caller that has not shown the plan to anyone)."""
    cleaned = {key: str(content.get(key) or "").strip()[:MAX_LENGTH] for key in FIELDS}
    if not any(cleaned.values()):
        raise CourseError("therapy: write at least one part of the plan")
    if agreed_on is None:
        raise CourseError("agreed_on: the date the plan was agreed with the patient")
    with transaction.atomic():
        locked = Course.objects.select_for_update().select_related("case").get(pk=course.pk)
        # The course row's lock orders concurrent saves: the second reads the first's version.
        current = RecoveryPlan.objects.filter(course=locked).select_related("updated_by").first()
        if version is not None and version != version_of(current):
            raise StaleEdit(current)
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
