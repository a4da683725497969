"""The course's own weekly questions (not validated instruments: product copy, in Django's
translations): question and choices by answer id. One place for the weekly form and the FHIR
record export (in English there)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from crossline.engine import weekly as weekly_rules

COURSE_QUESTIONS: dict[str, tuple[Any, tuple[tuple[str, Any], ...]]] = {
    weekly_rules.BLADDER: (
        _(
            "Since the last check, any new or worse bladder or urinary symptoms — pain, "
            "urgency, or blood in the urine?"
        ),
        (("yes", _("Yes")), ("no", _("No"))),
    ),
    weekly_rules.RECOVERY: (
        _("Did you keep to your recovery plan this week?"),
        (("yes", _("Yes")), ("partly", _("Partly")), ("no", _("No"))),
    ),
}
