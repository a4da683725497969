"""Staff forms of the dispensing and recovery-plan pages (each bad field named). Both record
what has happened — a supply dispensed, a plan agreed — so their days are never after today in
the course's time zone (`today`, from the view)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms

from crossline import periods
from crossline.course.dispensing import MAX_SUPPLY_DOSES
from crossline.course.recovery import LABELS, MAX_LENGTH

YES_NO = [("yes", "Yes"), ("no", "No")]
FUTURE = "This date is in the future: choose today or an earlier day."


class _Recorded(forms.Form):
    """A form of what has happened: the days in `past_days` may not be after `today`."""

    past_days: tuple[str, ...] = ()

    def __init__(self, *args: Any, today: date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today
        for name in self.past_days:
            self.fields[name].widget.attrs["max"] = today.isoformat()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for name in self.past_days:
            day = data.get(name)
            if isinstance(day, date) and day > self.today:
                self.add_error(name, FUTURE)
        return data


class SupplyForm(_Recorded):
    past_days = ("dispensed_on",)  # the PDMP check is on or before it
    dispensed_on = periods.DayField(label="Dispensed on", widget=forms.DateInput({"type": "date"}))
    quantity = forms.CharField(
        label="Quantity as written", max_length=200, help_text="As on the prescription."
    )
    doses = forms.IntegerField(
        label="Doses",
        min_value=1,
        max_value=MAX_SUPPLY_DOSES,
        help_text="In the plan's units, as written.",
    )
    pharmacy = forms.CharField(label="Pharmacy", max_length=200)
    delivery_signed = forms.ChoiceField(
        label="Delivered with signature", choices=YES_NO, widget=forms.RadioSelect
    )
    pdmp_checked_on = periods.DayField(
        label="PDMP checked on",
        widget=forms.DateInput({"type": "date"}),
        help_text="Required: a PDMP check on or before the dispensing date.",
    )
    pdmp_note = forms.CharField(
        label="PDMP note", max_length=1000, required=False, widget=forms.Textarea({"rows": 2})
    )
    doses_reported_left = forms.IntegerField(
        label="Doses the patient reports left from earlier supplies",
        min_value=0,
        max_value=MAX_SUPPLY_DOSES,
        required=False,
    )
    # How many supplies the page listed (`dispensing.record_supply(seen=…)`): the same form
    # sent twice is refused rather than recorded as a second supply.
    seen = forms.IntegerField(
        min_value=0,
        widget=forms.HiddenInput,
        error_messages={"required": "the page was out of date: read it, then record again"},
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        pdmp, dispensed = data.get("pdmp_checked_on"), data.get("dispensed_on")
        if pdmp and dispensed and pdmp > dispensed:
            self.add_error(
                "pdmp_checked_on", "The PDMP check must be on or before the dispensing date."
            )
        return data


def _text(key: str) -> forms.CharField:
    return forms.CharField(
        label=LABELS[key], required=False, max_length=MAX_LENGTH, widget=forms.Textarea({"rows": 3})
    )


class RecoveryForm(_Recorded):
    past_days = ("agreed_on",)
    therapy = _text("therapy")
    rest = _text("rest")
    boundaries = _text("boundaries")
    support = _text("support")
    agreed_on = periods.DayField(label="Agreed on", widget=forms.DateInput({"type": "date"}))
    # The plan's version when this page was opened (recovery.version_of): "" for a new plan.
    version = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not any(str(data.get(k) or "").strip() for k in LABELS):
            self.add_error("therapy", "Write at least one part of the plan.")
        return data
