"""`{% load course_patient %}`: the result page's hook to the person's treatment course.

- `{% patient_course token as course %}` gives the course of the screen behind this private
  result link, or None (no case, or no course yet).
"""

from __future__ import annotations

from typing import Any

from django import template

from crossline.course.models import Course
from crossline.intake.models import Assessment

register = template.Library()


@register.simple_tag
def patient_course(token: str) -> Any:
    assessment = Assessment.by_token(token)
    if assessment is None:
        return None
    return Course.objects.filter(case__assessment=assessment).first()
