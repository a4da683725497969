"""`{% load course_staff %}`: course facts for the staff pages outside the course app (alerts).

- `{{ rule_id|rule_summary }}`: the plain English summary of a check-in rule (checkin.toml), or "".
- `{% course_of case as course %}`: the case's treatment course, or None.
"""

from __future__ import annotations

from typing import Any

from django import template

from crossline.clinic.models import Case
from crossline.knowledge import load

register = template.Library()


@register.filter
def rule_summary(rule: Any) -> str:
    from crossline.course.views import rule_summary as summary

    return summary(load(), str(rule))


@register.simple_tag
def course_of(case: Case) -> Any:
    from crossline.course.models import Course

    return Course.objects.filter(case=case).first()
