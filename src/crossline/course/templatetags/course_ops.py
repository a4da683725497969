"""Template tags for the ops partials: `{% dispensing_summary course as d %}` and
`{% recovery_summary course as r %}` (the partials need only `course` in their context)."""

from __future__ import annotations

from typing import Any

from django import template

from crossline.course import dispensing, recovery
from crossline.course.models import Course, RecoveryPlan

register = template.Library()


@register.simple_tag
def dispensing_summary(course: Course) -> dict[str, Any]:
    return dispensing.summary(course)


@register.simple_tag
def recovery_summary(course: Course) -> dict[str, Any]:
    plan = RecoveryPlan.objects.filter(course=course).first()
    return {
        "plan": plan,
        "parts": recovery.parts(plan),
        "answers": recovery.weekly_answers(course),
    }
