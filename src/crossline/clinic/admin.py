"""Legal holds in the operator admin: a record under hold is never deleted by patient-record
retention. An operator places one by the case's id (as the case page and `purge_records
--dry-run` show it) and releases it by deleting it; both are audit events naming the case."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db import models
from django.http import HttpRequest
from django.utils import timezone

from crossline.accounts.admin_site import admin_site
from crossline.audit import Action
from crossline.clinic.models import Case, RecordHold
from crossline.program.admin_audit import OperatorModelAdmin


class RecordHoldForm(forms.ModelForm):  # type: ignore[type-arg]
    """A new hold: the case by its id. (A hold stays on its case: a change edits only the
    reference.)"""

    case_id = forms.UUIDField(
        label="Case id",
        help_text="The case's id, as its page in the clinic and the retention listing show it.",
    )

    class Meta:
        model = RecordHold
        fields = ["reference"]

    def clean_case_id(self) -> Any:
        case = Case.objects.filter(public_id=self.cleaned_data["case_id"]).first()
        if case is None:
            raise forms.ValidationError("No case has this id.")
        if RecordHold.objects.filter(case=case).exists():
            raise forms.ValidationError("This case is already under a legal hold.")
        self.instance.case = case
        return case.public_id


@admin.register(RecordHold, site=admin_site)
class RecordHoldAdmin(OperatorModelAdmin):
    audit_action = Action.RECORD_HOLD_CHANGED
    form = RecordHoldForm
    list_display = ["case_public_id", "reference", "placed_by", "placed_at"]
    readonly_fields = ["case_public_id", "placed_by", "placed_at"]
    search_fields = ["case__public_id", "reference"]
    ordering = ["-placed_at"]

    @admin.display(description="case id")
    def case_public_id(self, obj: RecordHold) -> str:
        return str(obj.case.public_id) if obj.case_id else ""

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ["case_id", "reference"]
        return ["case_public_id", "reference", "placed_by", "placed_at"]

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        if obj is not None:
            kwargs["form"] = forms.ModelForm
        return super().get_form(request, obj, change, **kwargs)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.readonly_fields if obj is not None else []

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if not change:
            obj.placed_by = request.user
            obj.placed_at = timezone.now()
        super().save_model(request, obj, form, change)

    def audit_patient(self, obj: models.Model) -> str:
        assert isinstance(obj, RecordHold)
        return str(obj.case.public_id)
