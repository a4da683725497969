"""Program-wide warnings shown on every staff page (and the program dashboard).

The telemedicine legal basis (FACTS §G1: the DEA telemedicine flexibilities end 2026-12-31
unless extended): from `WARN_DAYS` days before it lapses, clinicians and operators see when it
lapses; once it has lapsed (or when none is recorded), that approval now requires a recorded
in-person evaluation (PRODUCT.md, "Evaluation and course rules").
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

from crossline.accounts.roles import Role

WARN_DAYS = 90


@dataclass(frozen=True)
class Telemedicine:
    basis: str
    expires: dt.date | None
    today: dt.date

    @property
    def in_force(self) -> bool:
        return bool(self.basis) and (self.expires is None or self.today <= self.expires)

    @property
    def days_left(self) -> int | None:
        """Days until it lapses (0 on its last day, negative once lapsed); None: no expiry."""
        return None if self.expires is None else (self.expires - self.today).days

    @property
    def days_ago(self) -> int | None:
        """Days since it lapsed (positive once lapsed)."""
        return None if self.days_left is None else -self.days_left

    @property
    def warning(self) -> str | None:
        if not self.basis:
            return (
                "No legal basis for telemedicine prescribing is recorded: approving a course "
                "now requires a recorded in-person evaluation (FACTS §G1)."
            )
        if self.expires is None or self.days_left is None:
            return None
        when = f"{self.expires:%-d %B %Y}"
        if self.days_left < 0:
            return (
                f"The telemedicine legal basis “{self.basis}” lapsed on {when}: approving a "
                "course now requires a recorded in-person evaluation (FACTS §G1). If it was "
                "extended, an operator records the new basis and expiry in the admin."
            )
        if self.days_left <= WARN_DAYS:
            days = "today" if self.days_left == 0 else f"in {self.days_left} days"
            return (
                f"The telemedicine legal basis “{self.basis}” lapses on {when} — {days}. "
                "Unless it is extended, approving a course after that date will require a "
                "recorded in-person evaluation (FACTS §G1)."
            )
        return None


def telemedicine(today: dt.date | None = None) -> Telemedicine:
    """The basis in force per the program settings (cached with `current_knowledge`)."""
    from crossline.program.models import ProgramSettings
    from crossline.program.policy import current_settings

    values = current_settings()
    if values is None:  # nobody saved settings yet: the model's defaults apply
        defaults = ProgramSettings()
        basis, expires = defaults.telemedicine_basis, defaults.telemedicine_basis_expires
    else:
        basis, expires = values["telemedicine_basis"], values["telemedicine_basis_expires"]
    return Telemedicine(basis, expires, today or timezone.localdate())


def warnings_for(roles: frozenset[Role], today: dt.date | None = None) -> list[str]:
    """The warnings for a staff member with `roles` (every role is a clinician or operator)."""
    if not roles:
        return []
    warning = telemedicine(today).warning
    return [warning] if warning else []
