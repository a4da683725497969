"""Auditing and role-based permissions for ModelAdmins on the operator admin site.

`AuditedAdminMixin` records one typed audit event (`settings.changed` by default) for every
add, change and delete made through the admin, in the same transaction as the change. The
detail names the model, the operation and the changed field NAMES — never values (a user's
name or e-mail is PHI-adjacent; settings values are simply not needed). The accounts admin may
use it for users and groups with `audit_action = Action.USER_CHANGED`.

Django's admin already wraps the change form, the list-editable save and the delete view in a
transaction; actions (bulk delete) and the user password form are wrapped here.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib import admin
from django.db import models, router, transaction
from django.http import HttpRequest, HttpResponse

from crossline.accounts.roles import Role, has_role
from crossline.audit import Action, record

_CHANGED = "_crossline_admin_changed_fields"
_MAX = 80  # an audit detail string's limit


def _chunks(names: Iterable[str]) -> dict[str, str]:
    """Comma-joined field names in ≤ 80-character pieces: fields, fields_2, …"""
    out: dict[str, str] = {}
    current = ""
    for name in names:
        name = name[:_MAX]
        joined = f"{current},{name}" if current else name
        if len(joined) > _MAX:
            out[f"fields_{len(out) + 1}" if out else "fields"] = current
            joined = name
        current = joined
    if current or not out:
        out[f"fields_{len(out) + 1}" if out else "fields"] = current
    return out


def _labels(message: Any) -> list[str]:
    """Field labels from a change message built by `construct_change_message` (fallback)."""
    names: list[str] = []
    if isinstance(message, list):
        for part in message:
            for value in part.values() if isinstance(part, dict) else ():
                names.extend(str(f) for f in value.get("fields", ()))
    return names


class AuditedAdminMixin:
    audit_action: Action = Action.SETTINGS_CHANGED
    model: type[models.Model]

    def audit(
        self, request: HttpRequest, obj: models.Model, operation: str, fields: Iterable[str] = ()
    ) -> None:
        meta = obj._meta
        record(
            self.audit_action,
            request=request,
            patient=self.audit_patient(obj),
            object_type=meta.label_lower[:80],
            object_id=obj.pk,
            detail={"model": meta.label_lower[:80], "operation": operation, **_chunks(fields)},
        )

    def audit_patient(self, obj: models.Model) -> str:
        """The non-identifying id of the patient record a change concerns (none by default)."""
        return ""

    # The form's changed field names, kept for the log_* call that follows the save.
    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)  # type: ignore[misc]
        setattr(request, _CHANGED, list(form.changed_data))

    def _take_fields(self, request: HttpRequest, message: Any) -> list[str]:
        fields = getattr(request, _CHANGED, None)
        if fields is None:
            return _labels(message)
        delattr(request, _CHANGED)
        return list(fields)

    def log_addition(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        self.audit(request, obj, "added", self._take_fields(request, message))
        return super().log_addition(request, obj, message)  # type: ignore[misc]

    def log_change(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        self.audit(request, obj, "changed", self._take_fields(request, message))
        return super().log_change(request, obj, message)  # type: ignore[misc]

    def log_deletions(self, request: HttpRequest, queryset: Any) -> Any:
        for obj in queryset:
            self.audit(request, obj, "deleted")
        return super().log_deletions(request, queryset)  # type: ignore[misc]

    def response_action(self, request: HttpRequest, queryset: Any) -> HttpResponse | None:
        """Actions (bulk delete) run in one transaction with their audit events."""
        with transaction.atomic(using=router.db_for_write(self.model)):
            return super().response_action(request, queryset)  # type: ignore[misc, no-any-return]

    def user_change_password(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        """UserAdmin's password form saves outside a transaction: put it and its event in one."""
        with transaction.atomic(using=router.db_for_write(self.model)):
            return super().user_change_password(request, *args, **kwargs)  # type: ignore[misc]


class OperatorOnlyMixin:
    """Model permissions from the operator role (the site itself requires verified MFA + the
    operator role), not from Django's per-model permission table."""

    def _operator(self, request: HttpRequest) -> bool:
        return has_role(request.user, Role.OPERATOR)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._operator(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._operator(request)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return self._operator(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._operator(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._operator(request)


class OperatorModelAdmin(OperatorOnlyMixin, AuditedAdminMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    pass
