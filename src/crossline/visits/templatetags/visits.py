"""`{% load visits %}`: the visit history on the case record, and the visit on the result page.

- `{% case_visits case %}` renders visits/_case_visits.html (staff: the clinic record page).
- `{% patient_visit token as visit %}` gives the result page the person's latest visit, if any.
"""

from __future__ import annotations

from typing import Any

from django import template

from crossline.clinic.models import Case
from crossline.intake.models import Assessment
from crossline.visits import mail
from crossline.visits.models import Visit

register = template.Library()


@register.inclusion_tag("visits/_case_visits.html")
def case_visits(case: Case, link: bool = True) -> dict[str, Any]:
    visits = Visit.objects.filter(case=case).select_related("proposed_by", "outcome_by")
    return {
        "case": case,
        "link": link,  # to the visit page (not shown on the visit page itself)
        "visits": [{"visit": v, "when": mail.when(v)} for v in visits],
    }


@register.simple_tag
def patient_visit(token: str) -> dict[str, Any] | None:
    from crossline.visits.patient_views import latest_visit

    assessment = Assessment.by_token(token)
    current = latest_visit(assessment) if assessment is not None else None
    if current is None:
        return None
    return {"visit": current, "when": mail.when(current)}
