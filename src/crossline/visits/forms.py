"""The staff proposal form and the patient's answer form. Each error names its field."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.utils.translation import gettext_lazy as _

from crossline import periods
from crossline.visits.zones import ZONES, LocalTimeError, local_instant, zone_label

DEFAULT_MINUTES = 45
MESSAGE_MAX = 500  # the patient's note: a short preference, not a conversation


class ProposalForm(forms.Form):
    """Staff pages are English only: no translation here."""

    date = periods.DayField(widget=forms.DateInput(attrs={"type": "date"}))
    time = forms.TimeField(widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
    time_zone = forms.ChoiceField(label="Time zone (the patient's)")
    duration_minutes = forms.IntegerField(
        label="Length (minutes)", min_value=15, max_value=180, initial=DEFAULT_MINUTES
    )

    def __init__(self, *args: Any, now: datetime, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.now = now
        zone = self.fields["time_zone"]
        assert isinstance(zone, forms.ChoiceField)
        zone.choices = [(z, zone_label(z)) for z in ZONES]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        day, at, zone = data.get("date"), data.get("time"), data.get("time_zone")
        if day is None or at is None or zone is None:
            return data  # the missing or invalid field already carries its error
        try:
            starts = local_instant(day, at, zone)
        except LocalTimeError as error:
            self.add_error("time", str(error))
            return data
        if starts <= self.now:
            today = self.now.astimezone(ZoneInfo(zone)).date()
            field = "time" if day == today else "date"
            self.add_error(field, "This time is in the past. Choose a time that is still ahead.")
        elif starts > self.now + timedelta(days=366):
            self.add_error("date", "Choose a date within the next year.")
        data["starts_at"] = starts
        return data


class OutcomeForm(forms.Form):
    outcome = forms.ChoiceField(choices=[("attended", "Attended"), ("no_show", "No-show")])


class AnswerForm(forms.Form):
    """The patient confirms the proposed time or asks for another (with an optional note)."""

    answer = forms.ChoiceField(choices=[("confirm", "confirm"), ("reschedule", "reschedule")])
    # The proposal the page showed (`shown_value`): an answer to an older one — the clinic
    # proposed another time while the page was open — is not stored, and the page says so.
    shown = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)
    message = forms.CharField(
        label=_("Times that suit you better (optional)"),
        help_text=_(
            "For example: weekday evenings after 6 pm. Please do not write about your health here."
        ),
        max_length=MESSAGE_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def clean_message(self) -> str:
        return str(self.cleaned_data["message"]).strip()


def shown_value(visit: Any) -> str:
    """What the page's forms send back as `shown`: the visit and its proposal's sequence."""
    return f"{visit.public_id}:{visit.sequence}"
