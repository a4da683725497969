"""Template context for staff pages: the navigation a user's roles allow, and warnings."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from crossline.accounts.roles import Role, roles_of

# (label, url, roles that see it) — views enforce access themselves; this only hides links.
NAV: list[tuple[str, str, frozenset[Role]]] = [
    ("Queue", "/clinic/", frozenset({Role.INTAKE, Role.PHYSICIAN})),
    ("Alerts", "/clinic/alerts/", frozenset({Role.INTAKE, Role.PHYSICIAN})),
    ("Find", "/clinic/find/", frozenset({Role.INTAKE, Role.PHYSICIAN})),
    ("Courses", "/clinic/program/courses/", frozenset({Role.PHYSICIAN, Role.OPERATOR})),
    ("Program", "/clinic/program/", frozenset({Role.OPERATOR})),
    ("Audit log", "/clinic/audit/", frozenset({Role.OPERATOR})),
    ("Admin", "/admin/", frozenset({Role.OPERATOR})),
    ("Account", "/clinic/account/", frozenset(Role)),
]


def staff(request: HttpRequest) -> dict[str, Any]:
    if not request.path.startswith(("/clinic/", "/admin/")):
        return {}
    roles = roles_of(getattr(request, "user", None))
    nav = [
        {"label": label, "url": url, "current": request.path == url}
        for label, url, allowed in NAV
        if roles & allowed
    ]
    return {"staff_nav": nav, "staff_warnings": staff_warnings(request, roles)}


STALE_CODES = (
    "Your recovery codes no longer work: the program changed the key they were kept under. "
    "Make new ones on your account page."
)


def staff_warnings(request: HttpRequest, roles: frozenset[Role]) -> list[str]:
    """Program-wide warnings (e.g. the telemedicine legal basis lapsing) for signed-in staff,
    and the user's own: recovery codes made under an index key that has since changed."""
    if not roles:
        return []
    from crossline.accounts.models import RecoveryCodes
    from crossline.program.warnings import warnings_for

    user = getattr(request, "user", None)
    own = [STALE_CODES] if user is not None and RecoveryCodes.stale(user) else []
    return [*warnings_for(roles), *own]
