"""A submitted screen, stored as the web flow stores it (the engine's decision recorded)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone

from crossline.intake import flow
from crossline.intake.models import Assessment
from crossline.knowledge import load


def submitted(
    answers: dict[str, Any], lang: str = "en", at: datetime | None = None
) -> tuple[Assessment, str]:
    """The submitted assessment for `answers` and its private-link token."""
    assessment, token = Assessment.start(lang)
    assessment.answers = answers
    assessment.record(flow.decide(load(), answers, lang))
    assessment.status = Assessment.Status.SUBMITTED
    assessment.submitted_at = at or timezone.now()
    assessment.save()
    return assessment, token
