"""Users and roles in the operator admin, locked down.

Only operators (verified by the second factor) reach the admin at all; here they can see users,
turn an account off or on, and give or take roles. Nothing else about an account is editable:
no passwords (set by the person through their enrolment link), no superuser or staff flags, no
per-user permissions, no deleting (deactivate instead: the audit log keeps their id). New
accounts are made with `crossline createuser`. Turning an account off ends its sessions for good
(they do not come back when it is switched on again). Every change is recorded (`user.changed`),
and the last active operator cannot be removed.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.http import HttpRequest

from crossline.accounts.admin_site import admin_site
from crossline.accounts.models import Profile
from crossline.accounts.roles import Role, has_role

User = get_user_model()
ROLE_NAMES = [r.value for r in Role]


def _operator(request: HttpRequest) -> bool:
    return admin_site.has_permission(request) and has_role(request.user, Role.OPERATOR)


class OperatorOnly:
    def has_module_permission(self, request: HttpRequest) -> bool:
        return _operator(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _operator(request)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class UserForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = User
        fields = ["is_active", "groups"]
        labels = {"groups": "Roles", "is_active": "Active (may sign in)"}

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        instance = self.instance
        stays_operator = bool(data.get("is_active")) and any(
            g.name == Role.OPERATOR for g in data.get("groups") or []
        )
        if instance.pk and not stays_operator:
            # Under the admin's transaction, the operator role's row locked: two operators
            # removing each other at once are counted one after the other, never both allowed
            # (SQLite's transactions take the write lock when they begin).
            Group.objects.select_for_update().filter(name=Role.OPERATOR).first()
            others = (
                User.objects.filter(is_active=True, groups__name=Role.OPERATOR)
                .exclude(pk=instance.pk)
                .exists()
            )
            if not others:
                raise forms.ValidationError(
                    "This is the last active operator:"
                    " first give another account the operator role."
                )
        return data


@admin.register(User, site=admin_site)
class UserAdmin(OperatorOnly, admin.ModelAdmin):  # type: ignore[type-arg]
    form = UserForm
    list_display = ["username", "is_active", "roles", "last_login"]
    list_filter = ["is_active", "groups"]
    search_fields = ["username"]
    ordering = ["username"]
    fields = ["username", "is_active", "groups", "last_login", "date_joined"]
    readonly_fields = ["username", "last_login", "date_joined"]

    @admin.display(description="Roles")
    def roles(self, obj: Any) -> str:
        return ", ".join(sorted(g.name for g in obj.groups.all()))

    def get_queryset(self, request: HttpRequest) -> Any:
        return super().get_queryset(request).prefetch_related("groups")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _operator(request)

    def formfield_for_manytomany(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "groups":
            kwargs["queryset"] = Group.objects.filter(name__in=ROLE_NAMES).order_by("name")
            kwargs["widget"] = forms.CheckboxSelectMultiple
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            if "is_active" in form.changed_data and not obj.is_active:
                # Django only ignores an inactive account's sessions; ended here, they stay
                # ended if the account is switched on again.
                Profile.bump_epoch(obj.pk)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        from crossline.audit import Action, record

        with transaction.atomic():
            super().save_related(request, form, formsets, change)
            if form.changed_data:
                roles = sorted(g.name for g in form.instance.groups.all())
                record(
                    Action.USER_CHANGED,
                    request=request,
                    object_type="user",
                    object_id=form.instance.pk,
                    detail={
                        "fields": ",".join(sorted(form.changed_data))[:80],
                        "active": bool(form.instance.is_active),
                        "roles": ",".join(roles),
                    },
                )


@admin.register(Group, site=admin_site)
class RoleAdmin(OperatorOnly, admin.ModelAdmin):  # type: ignore[type-arg]
    """The roles are fixed (a migration creates them); members are managed on each user."""

    list_display = ["name", "members"]
    fields = ["name"]
    readonly_fields = ["name"]

    @admin.display(description="Members")
    def members(self, obj: Any) -> int:
        return int(obj.user_set.count())

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
