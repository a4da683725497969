"""`{% patient_letter_url token as url %}`: the letter link for the patient's result page.

A template tag (not a change to the intake views): the result page includes
`evaluation/_result_letter_link.html`, which asks here whether a letter was issued.
"""

from __future__ import annotations

from django import template
from django.urls import reverse

from crossline.evaluation.models import Letter
from crossline.intake.models import Assessment

register = template.Library()


@register.simple_tag
def patient_letter_url(token: str) -> str:
    assessment = Assessment.by_token(str(token))
    if assessment is None or not Letter.objects.filter(assessment=assessment).exists():
        return ""
    return reverse("evaluation_patient:letter", args=[token])
