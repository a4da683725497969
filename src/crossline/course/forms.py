"""Staff forms of the treatment course: the physician's plan and the course page's actions.

The plan records the prescription AS WRITTEN by the physician; nothing here computes, suggests or
prefills a dose. `units_per_session` is the physician's own count, used only to count doses.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import forms
from django.utils import timezone

from crossline import periods
from crossline.course.models import RiskAssessment
from crossline.course.services import (
    MAX_UNITS_PER_SESSION,
    PLAN_TEXTS,
    SESSIONS_PER_WEEK,
    local_today,
    session_time_problem,
    within_a_year,
)
from crossline.engine import course as rules
from crossline.visits.zones import ZONES, LocalTimeError, local_instant, zone_label

# The physician's choice, none preselected (services.SESSIONS_PER_WEEK, which plan_course checks).
PER_WEEK_LABELS = {1: "Once a week", 2: "Twice a week", 3: "Three times a week"}
PER_WEEK = [(n, PER_WEEK_LABELS[n]) for n in SESSIONS_PER_WEEK]


def _zone_choices() -> list[tuple[str, str]]:
    return [(z, zone_label(z)) for z in ZONES]


def _plan_text(key: str) -> dict[str, Any]:
    """The bounds of the plan's text `key` (`services.PLAN_TEXTS`, which plan_course checks)."""
    text = PLAN_TEXTS[key]
    return {"max_length": text.longest, "required": text.required}


class PlanForm(forms.Form):
    start_date = periods.DayField(
        label="Start date", widget=forms.DateInput(attrs={"type": "date"})
    )
    sessions_planned = forms.IntegerField(label="Number of sessions", min_value=1)
    sessions_per_week = forms.TypedChoiceField(
        label="Sessions per week",
        choices=[("", "Choose…"), *PER_WEEK],
        coerce=int,
        empty_value=None,
    )
    time_zone = forms.ChoiceField(label="Time zone of the sessions", choices=_zone_choices)
    prescription_text = forms.CharField(
        label="Prescription as written",
        strip=False,  # kept as typed: the spacing of a pasted prescription is how it reads
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Exactly as you wrote it. crossline never computes or suggests a dose.",
        **_plan_text("prescription_text"),
    )
    medication = forms.CharField(label="Medication", **_plan_text("medication"))
    route = forms.CharField(label="Form and route", **_plan_text("form"))
    strength = forms.CharField(label="Strength as written", **_plan_text("strength"))
    units_per_session = forms.IntegerField(
        label="Units per session (as written)",
        min_value=1,
        max_value=MAX_UNITS_PER_SESSION,
        help_text="As written on the prescription; used only to count doses taken and dispensed.",
    )
    monitor_name = forms.CharField(label="Monitor (sober adult) name", **_plan_text("monitor_name"))
    notes = forms.CharField(
        label="Notes", widget=forms.Textarea(attrs={"rows": 3}), **_plan_text("notes")
    )

    def __init__(self, *args: Any, cap: int, now: datetime | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.now = now or timezone.now()
        field = self.fields["sessions_planned"]
        assert isinstance(field, forms.IntegerField)
        field.max_value = cap
        field.validators.append(_at_most(cap))
        field.help_text = f"From 1 to the program cap of {cap} before re-evaluation."

    def clean(self) -> dict[str, Any]:
        """The start is a day from today to a year from now, where the sessions take place
        (`services.within_a_year`, which plan_course checks too: `services.check_plan`)."""
        data = super().clean() or {}
        start, zone = data.get("start_date"), data.get("time_zone")
        if start is not None and zone:
            problem = within_a_year(start, local_today(self.now, zone))
            if problem:
                self.add_error("start_date", problem)
        return data

    def clean_prescription_text(self) -> str:
        text: str = self.cleaned_data["prescription_text"]
        if not text.strip():
            raise forms.ValidationError(self.fields["prescription_text"].error_messages["required"])
        return text

    def plan(self) -> dict[str, Any]:
        d = self.cleaned_data
        return {
            "medication": d["medication"].strip(),
            "form": d["route"].strip(),
            "strength": d["strength"].strip(),
            "units_per_session": d["units_per_session"],
            "prescription_text": d["prescription_text"],  # as typed, never re-formatted
            "monitor_name": d["monitor_name"].strip(),
            "notes": d["notes"].strip(),
        }


def _at_most(cap: int) -> Any:
    from django.core.validators import MaxValueValidator

    return MaxValueValidator(cap)


class ScheduleForm(forms.Form):
    day = periods.DayField(label="Session date", widget=forms.DateInput(attrs={"type": "date"}))
    time = forms.TimeField(label="Session time", widget=forms.TimeInput(attrs={"type": "time"}))
    override_reason = forms.CharField(
        label="Reason to schedule without the previous after-session check-in",
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, zone: str, now: datetime | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.zone = zone  # the course's time zone: the day and time are read in it
        self.now = now or timezone.now()

    def clean(self) -> dict[str, Any]:
        """A moment that exists in the course's zone, still ahead, and within a year — the
        rules schedule_session holds every caller to (`services.check_session_time`), from the
        same functions: `local_instant` and `services.session_time_problem`."""
        data = super().clean() or {}
        day, at = data.get("day"), data.get("time")
        if day is None or at is None:
            return data  # the missing or invalid field already carries its error
        try:
            when = local_instant(day, at, self.zone)
        except LocalTimeError as error:  # skipped or repeated when the clocks change
            self.add_error("time", str(error))
            return data
        if problem := session_time_problem(when, self.zone, self.now):
            self.add_error("day", problem)
        else:
            data["when"] = when
        return data

    def when(self) -> datetime:
        return self.cleaned_data["when"]  # type: ignore[no-any-return]


class ClearForm(forms.Form):
    outcome = forms.ChoiceField(
        label="Decision",
        choices=[("proceed", "Clear: the session may go ahead"), ("cancel", "Cancel the session")],
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        label="Note (what was checked and decided)",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class RiskForm(forms.Form):
    risk = forms.ChoiceField(
        label="Assessed risk", choices=RiskAssessment.Risk.choices, widget=forms.RadioSelect
    )
    note = forms.CharField(
        label="Assessment note", max_length=4000, widget=forms.Textarea(attrs={"rows": 3})
    )
    # How many answers showing suicide risk the page showed (`services.safety_answers`): an
    # assessment documented against an older picture is refused.
    seen = forms.IntegerField(
        label="Answers seen",
        min_value=0,
        widget=forms.HiddenInput,
        error_messages={"required": "the page was out of date: read it, then document again"},
    )


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label="Decision",
        choices=[(d, d.capitalize()) for d in rules.DECISIONS],
        widget=forms.RadioSelect,
    )
    sessions_added = forms.IntegerField(
        label="Sessions in the next block (continue or change)", min_value=1, required=False
    )
    note = forms.CharField(
        label="Reasons for the decision", max_length=4000, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args: Any, cap: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["sessions_added"]
        assert isinstance(field, forms.IntegerField)
        field.max_value = cap
        field.validators.append(_at_most(cap))
        field.widget.attrs["max"] = cap
        field.help_text = f"At most the program cap of {cap}."

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("decision") in ("continue", "change") and not data.get("sessions_added"):
            self.add_error("sessions_added", "Say how many sessions the next block has.")
        return data
