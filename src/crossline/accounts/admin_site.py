"""The operator admin: Django's admin behind the same sign-in, MFA and operator role.

The admin has no login page of its own: /admin/login/ sends people to the clinic sign-in (with
`next`), and a signed-in, verified user without the operator role is refused (403, recorded as
`permission.denied`). Its logout is the clinic's sign-out; its password pages lead to the
account page, where passwords are changed. Accounts are created with `crossline createuser`.
"""

from __future__ import annotations

from functools import update_wrapper
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect

from crossline.accounts.roles import Role, has_role


def _verified(user: Any) -> bool:
    verified = getattr(user, "is_verified", None)
    return bool(user.is_authenticated and callable(verified) and verified())


def _deny(request: HttpRequest) -> None:
    from crossline.audit import Action, record

    record(
        Action.PERMISSION_DENIED,
        request=request,
        detail={"path": request.path[:80], "view": "admin"},
    )
    raise PermissionDenied


class OperatorAdminSite(admin.AdminSite):
    site_header = "crossline — program administration"
    site_title = "crossline admin"
    index_title = "Program administration"
    login_template = None
    enable_nav_sidebar = False

    def has_permission(self, request: HttpRequest) -> bool:
        user = request.user
        return bool(user.is_active and _verified(user) and has_role(user, Role.OPERATOR))

    def admin_view(self, view: Any, cacheable: bool = False) -> Any:
        """Every admin page: a verified user without the operator role is refused at once
        (403, audited) instead of being sent round the sign-in page."""
        inner = super().admin_view(view, cacheable)

        def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if _verified(request.user) and not self.has_permission(request):
                _deny(request)
            return inner(request, *args, **kwargs)  # type: ignore[no-any-return]

        return update_wrapper(guarded, inner)

    def login(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        user = request.user
        if _verified(user) and not self.has_permission(request):
            _deny(request)
        next_url = request.GET.get("next") or "/admin/"
        if _verified(user):
            from crossline.accounts.services import landing

            return HttpResponseRedirect(landing(request, user, next_url))
        return HttpResponseRedirect(f"{settings.LOGIN_URL}?{urlencode({'next': next_url})}")

    def logout(  # type: ignore[override]
        self, request: HttpRequest, extra_context: Any = None
    ) -> HttpResponse:
        if request.method != "POST":
            return HttpResponseRedirect("/admin/")
        from crossline.accounts.views import sign_out

        return sign_out(request)

    def password_change(  # type: ignore[override]
        self, request: HttpRequest, extra_context: Any = None
    ) -> HttpResponse:
        return HttpResponseRedirect("/clinic/account/")

    def password_change_done(  # type: ignore[override]
        self, request: HttpRequest, extra_context: Any = None
    ) -> HttpResponse:
        return HttpResponseRedirect("/clinic/account/")


admin_site = OperatorAdminSite(name="admin")
