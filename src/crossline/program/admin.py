"""The operator admin for program settings, the on-call roster and consent text versions.

Registered on the operator site (`crossline.accounts.admin_site.admin_site`: verified MFA and
the operator role). Clinical thresholds are not here: they change only through a reviewed
knowledge release (they are shown read-only on the program dashboard).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import ForeignKey, Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone

from crossline.accounts.admin_site import admin_site
from crossline.accounts.roles import active_clinicians
from crossline.program.admin_audit import OperatorModelAdmin
from crossline.program.models import (
    MAX_DEADLINE_MINUTES,
    ConsentText,
    OnCallEntry,
    ProgramSettings,
    normalise_states,
)
from crossline.program.policy import base_knowledge

MAX_ID_DIGITS = 18  # a 64-bit primary key has at most 19 digits; 18 always fits


class ServiceStatesField(forms.Field):
    """USPS codes typed as "FL, NJ"; empty means the knowledge release's default."""

    widget = forms.TextInput(attrs={"size": 40, "autocomplete": "off"})

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list | tuple):
            return ", ".join(value)
        return value

    def to_python(self, value: Any) -> list[str] | None:
        if isinstance(value, list | tuple):
            value = ", ".join(value)
        text = str(value or "").strip()
        if not text or text == "null":
            return None
        return normalise_states(text)


class ProgramSettingsForm(forms.ModelForm):  # type: ignore[type-arg]
    service_states = ServiceStatesField(required=False)
    video_visit_url = forms.URLField(required=False, assume_scheme="https", max_length=200)

    class Meta:
        model = ProgramSettings
        fields = [
            "service_states",
            "universal_asq",
            "acute_deadline_minutes",
            "non_acute_deadline_minutes",
            "escalate_after_minutes",
            "notification_emails",
            "video_visit_url",
            "telemedicine_basis",
            "telemedicine_basis_expires",
            "record_retention_years",
        ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        policy = base_knowledge().policy
        default = ", ".join(sorted(policy.service_states))
        f = self.fields
        f["service_states"].help_text = (
            "USPS codes of the states where the program treats people, separated by commas "
            f"(e.g. FL, NJ, NY). Leave empty for the knowledge release's default ({default})."
        )
        f["universal_asq"].help_text = (
            "Ask the suicide-risk screening questions (ASQ) of everyone. Stricter only: it can "
            "be switched on here, never below the knowledge release's setting."
        )
        if policy.universal_asq:
            f["universal_asq"].disabled = True
            f["universal_asq"].initial = True
            f["universal_asq"].help_text = "Switched on by the knowledge release (stricter only)."
        f[
            "acute_deadline_minutes"
        ].help_text = (
            "Response deadline for acute-risk alerts; no longer than the non-acute deadline."
        )
        f["non_acute_deadline_minutes"].help_text = (
            f"Response deadline for non-acute alerts; at most {MAX_DEADLINE_MINUTES} minutes "
            "(a week)."
        )
        f["escalate_after_minutes"].help_text = (
            "An unacknowledged alert goes to the next person on the on-call roster after this; "
            "no longer than the acute deadline."
        )
        f["notification_emails"].help_text = "Team addresses for alerts, one per line."
        f["telemedicine_basis"].help_text = (
            "The legal basis for prescribing a controlled substance by telemedicine without a "
            "prior in-person evaluation (FACTS §G1). Empty: none, so approval requires a "
            "recorded in-person evaluation."
        )
        f["record_retention_years"].help_text = (
            "Delete a patient record (screen, contact details, evaluation, visits, course, "
            "alerts) once its last activity is this many years old; the worker checks daily, "
            "and the command crossline manage purge_records --dry-run lists what is due. Set "
            "it from the "
            "medical-records law of every state you treat in (a minor's record often longer). "
            "Empty: patient records are never deleted."
        )
        f["telemedicine_basis_expires"].help_text = (
            "When that basis lapses (the DEA flexibilities end 2026-12-31 unless extended). "
            "Staff are warned from 90 days before."
        )


@admin.register(ProgramSettings, site=admin_site)
class ProgramSettingsAdmin(OperatorModelAdmin):
    form = ProgramSettingsForm
    list_display = ["__str__", "service_states_display", "universal_asq", "updated_at"]
    readonly_fields = ["updated_at", "updated_by"]
    fieldsets = [
        ("Service area and screening", {"fields": ["service_states", "universal_asq"]}),
        (
            "Safety alerts",
            {
                "fields": [
                    "acute_deadline_minutes",
                    "non_acute_deadline_minutes",
                    "escalate_after_minutes",
                    "notification_emails",
                ]
            },
        ),
        ("Visits", {"fields": ["video_visit_url"]}),
        (
            "Telemedicine prescribing",
            {"fields": ["telemedicine_basis", "telemedicine_basis_expires"]},
        ),
        ("Patient records", {"fields": ["record_retention_years"]}),
        ("Last change", {"fields": ["updated_at", "updated_by"]}),
    ]

    @admin.display(description="service states")
    def service_states_display(self, obj: ProgramSettings) -> str:
        if obj.service_states is None:
            return "release default: " + ", ".join(sorted(base_knowledge().policy.service_states))
        return ", ".join(obj.service_states)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return super().has_add_permission(request) and not ProgramSettings.objects.exists()

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        obj.updated_by = request.user
        super().save_model(request, obj, form, change)

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        """One row: the list goes straight to it (created with the defaults if missing)."""
        settings = ProgramSettings.current()
        return HttpResponseRedirect(
            reverse("admin:program_programsettings_change", args=[settings.pk])
        )


@admin.register(OnCallEntry, site=admin_site)
class OnCallEntryAdmin(OperatorModelAdmin):
    list_display = ["position", "user", "active"]
    list_editable = ["active"]
    list_display_links = ["position", "user"]
    ordering = ["position"]

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        """An entry's own user stays a choice on its change form, even once they are no
        longer an active clinician: the entry can then still be switched off."""
        form = super().get_form(request, obj, change, **kwargs)
        if obj is not None and "user" in form.base_fields:
            offered = Q(pk__in=active_clinicians().values("pk")) | Q(pk=obj.user_id)
            users = type(obj.user).objects.filter(offered).order_by("username")
            form.base_fields["user"].queryset = users  # type: ignore[attr-defined]
        return form

    def formfield_for_foreignkey(
        self, db_field: ForeignKey[Any, Any], request: HttpRequest, **kwargs: Any
    ) -> Any:
        if db_field.name == "user":
            kwargs["queryset"] = active_clinicians()
            kwargs["help_text"] = "Only active users with a clinical role (intake or physician)."
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class ConsentTextForm(forms.ModelForm):  # type: ignore[type-arg]
    publish = forms.BooleanField(
        required=False,
        label="Publish this version now",
        help_text=(
            "A published version can never be changed or deleted: a contact request records "
            "the version the person agreed to. To change the wording later, add a new version."
        ),
    )

    class Meta:
        model = ConsentText
        fields = ["kind", "version", "text_en", "text_es"]


@admin.register(ConsentText, site=admin_site)
class ConsentTextAdmin(OperatorModelAdmin):
    form = ConsentTextForm
    list_display = ["kind", "version", "status", "published_at", "created_at"]
    list_filter = ["kind"]
    actions = ["new_version_from"]

    @admin.display(description="status")
    def status(self, obj: ConsentText) -> str:
        if obj.published_at is None:
            return "draft"
        from crossline.program.consent import current_published

        current = current_published(obj.kind)
        return "published (current)" if current and current.pk == obj.pk else "published"

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or obj.published_at is None)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        allowed = super().has_delete_permission(request, obj)
        return allowed and (obj is None or obj.published_at is None)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is not None and obj.published_at is not None:
            return ["kind", "version", "text_en", "text_es", "published_at", "created_at"]
        return ["published_at"] if obj is not None else []

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        """`?copy_of=<id>`: a new version starting from an existing wording."""
        initial = super().get_changeform_initial_data(request)
        source_id = request.GET.get("copy_of", "")
        # ASCII digits that fit a primary key: "¹" is a digit to str.isdigit() and not to int(),
        # and a 25-digit number overflows the column (both were server errors).
        is_id = source_id.isascii() and source_id.isdigit() and len(source_id) <= MAX_ID_DIGITS
        source = ConsentText.objects.filter(pk=int(source_id)).first() if is_id else None
        if source is not None:
            initial.update(kind=source.kind, text_en=source.text_en, text_es=source.text_es)
        return dict(initial)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if not change:
            obj.created_by = request.user
        if form.cleaned_data.get("publish"):
            obj.published_at = timezone.now()
        super().save_model(request, obj, form, change)

    @admin.action(description="Start a new version from the selected wording")
    def new_version_from(self, request: HttpRequest, queryset: QuerySet[Any]) -> Any:
        if queryset.count() != 1:
            self.message_user(request, "Select exactly one version.", messages.WARNING)
            return None
        url = reverse("admin:program_consenttext_add")
        return HttpResponseRedirect(f"{url}?copy_of={queryset.get().pk}")
