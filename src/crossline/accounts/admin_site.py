"""The operator admin: Django's admin behind the same sign-in, MFA and operator role."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from crossline.accounts.roles import Role, has_role


class OperatorAdminSite(admin.AdminSite):
    site_header = "crossline — program administration"
    site_title = "crossline admin"
    index_title = "Program administration"
    login_template = None

    def has_permission(self, request: HttpRequest) -> bool:
        user = request.user
        verified = getattr(user, "is_verified", None)
        return bool(
            user.is_active
            and user.is_authenticated
            and callable(verified)
            and verified()
            and has_role(user, Role.OPERATOR)
        )


admin_site = OperatorAdminSite(name="admin")
