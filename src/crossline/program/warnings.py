"""Program-wide warnings shown on every staff page (filled in by the operator dashboard work)."""

from __future__ import annotations

from crossline.accounts.roles import Role


def warnings_for(roles: frozenset[Role]) -> list[str]:
    return []
