"""Template context for staff pages: the navigation a user's roles allow, and warnings."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from crossline.accounts.middleware import STAFF_PREFIXES
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


# Where each role starts (after sign-in, the brand link, the 403 page's way back), first match
# wins: a clinician's work is the queue; an operator's is the program page (the queue refuses an
# operator-only account). Every page here is in NAV for the same roles.
HOMES: list[tuple[str, frozenset[Role]]] = [
    ("/clinic/", frozenset({Role.INTAKE, Role.PHYSICIAN})),
    ("/clinic/program/", frozenset({Role.OPERATOR})),
]
NO_ROLE_HOME = "/clinic/"  # refused there too, by the page that says the account holds no role


def home_for(user: Any) -> str:
    """The first page the user's roles open."""
    roles = roles_of(user)
    return next((url for url, allowed in HOMES if roles & allowed), NO_ROLE_HOME)


def staff(request: HttpRequest) -> dict[str, Any]:
    if not request.path.startswith(STAFF_PREFIXES):
        return {}
    user = getattr(request, "user", None)
    roles = roles_of(user)
    nav = [
        {"label": label, "url": url, "current": request.path == url}
        for label, url, allowed in NAV
        if roles & allowed
    ]
    return {
        "staff_nav": nav,
        "staff_home": home_for(user),
        "staff_warnings": staff_warnings(request, roles),
    }


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
