"""The three roles, as Django groups. A user may hold more than one.

- `intake` (intake clinician): the queue, applicant records, evaluations, visits, alerts.
- `physician` (prescribing physician): everything `intake` does, and the prescribing decision.
- `operator`: program configuration, users, the audit log — no clinical notes unless the same
  person also holds a clinical role.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class Role(StrEnum):
    INTAKE = "intake"
    PHYSICIAN = "physician"
    OPERATOR = "operator"


CLINICAL = frozenset({Role.INTAKE, Role.PHYSICIAN})


def roles_of(user: Any) -> frozenset[Role]:
    """The roles a signed-in user holds (cached on the user object for the request)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return frozenset()
    cached: frozenset[Role] | None = getattr(user, "_crossline_roles", None)
    if cached is None:
        names = set(user.groups.values_list("name", flat=True))
        cached = frozenset(r for r in Role if r.value in names)
        user._crossline_roles = cached
    return cached


def has_role(user: Any, *roles: Role) -> bool:
    return bool(roles_of(user) & set(roles))


def is_clinician(user: Any) -> bool:
    return bool(roles_of(user) & CLINICAL)


def active_clinicians() -> Any:
    """The active accounts holding a clinical role (a QuerySet of users, by sign-in name): who
    may be on call for safety alerts."""
    from django.contrib.auth import get_user_model

    clinical = [r.value for r in CLINICAL]
    users = get_user_model().objects.filter(is_active=True, groups__name__in=clinical)
    return users.distinct().order_by("username")
