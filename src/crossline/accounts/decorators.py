"""Access to the clinician workspace: signed in, second factor verified, and the right role.

- not signed in → the sign-in page (with `next`);
- signed in but the second factor not verified this session → the MFA step (or enrolment);
- signed in and verified, without the role → 403, recorded as `permission.denied`.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseBase, HttpResponseRedirect

from crossline.accounts.roles import Role, roles_of

View = Callable[..., HttpResponseBase]


def _is_verified(user: Any) -> bool:
    verified = getattr(user, "is_verified", None)
    return bool(verified()) if callable(verified) else False


def role_required(*roles: Role) -> Callable[[View], View]:
    """Allow users holding any of `roles` (all roles when none are given) with verified MFA."""
    allowed = frozenset(roles) or frozenset(Role)

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            user = request.user
            if not user.is_authenticated:
                query = urlencode({"next": request.get_full_path()})
                return HttpResponseRedirect(f"{settings.LOGIN_URL}?{query}")
            if not _is_verified(user):
                return HttpResponseRedirect(settings.OTP_VERIFY_URL)
            if not roles_of(user) & allowed:
                from crossline.audit import Action, record

                record(
                    Action.PERMISSION_DENIED,
                    request=request,
                    detail={"path": request.path[:80], "view": view.__name__[:80]},
                )
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapper

    return decorate
