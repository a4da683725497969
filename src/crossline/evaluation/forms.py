"""The evaluation form: what the clinician records at the telehealth visit.

No field asks for or shows a dose: crossline never computes or suggests one (the course plan
is a later step). Every field may be left empty in a draft; completeness is the approval
rules' job (`rules.unmet_requirements`), not the form's. The form checks that what *is* entered
is valid — ranges, dates not in the future, a note with every flag resolution — and names the
field when it is not.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django import forms

from crossline import periods
from crossline.evaluation.rules import ApprovalFacts, Resolution, Trial

TEXT = 4000  # longest free-text answer, in characters
MAX_TRIAL_ROWS = 20
YES_NO = [("yes", "Yes"), ("no", "No")]
OUTCOMES = [
    ("no_response", "No response"),
    ("partial", "Partial response"),
    ("response", "Response"),
    ("side_effects", "Stopped for side effects"),
]
# Plausible clinical ranges (typing errors, not clinical thresholds): the same ranges the screen
# accepts for a self-reported reading (PRODUCT.md assessment contract), and a pulse range.
BP_SYSTOLIC = (50, 300)
BP_DIASTOLIC = (30, 200)
PULSE = (20, 250)
WEEKS = (0, 520)


def _text(label: str, rows: int = 3, **kwargs: Any) -> forms.CharField:
    widget = forms.Textarea(attrs={"rows": rows, "cols": 60})
    return forms.CharField(label=label, required=False, max_length=TEXT, widget=widget, **kwargs)


def _choice(label: str, choices: list[tuple[str, str]], radio: bool = True) -> forms.ChoiceField:
    widget = forms.RadioSelect if radio else forms.Select
    blank = [] if radio else [("", "—")]
    return forms.ChoiceField(label=label, choices=blank + choices, required=False, widget=widget)


def _int(label: str, bounds: tuple[int, int]) -> forms.IntegerField:
    low, high = bounds
    return forms.IntegerField(label=label, required=False, min_value=low, max_value=high)


def _date(label: str) -> forms.DateField:
    return periods.DayField(
        label=label, required=False, widget=forms.DateInput(attrs={"type": "date"})
    )


def flag_field(rule: str) -> str:
    """The form-field prefix of a review item (rule ids hold dots; HTML ids should not)."""
    return "flag-" + rule.replace(".", "-")


class AddendumForm(forms.Form):
    text = forms.CharField(
        label="Addendum",
        max_length=TEXT,
        widget=forms.Textarea(attrs={"rows": 4, "cols": 60}),
        help_text="What you correct or add, and why. It is kept with your name and the time; "
        "it does not change the decision or a letter already issued.",
        error_messages={"required": "Write the addendum (it cannot be empty)."},
    )


class EvaluationForm(forms.Form):
    diagnosis = _choice(
        "Major depressive disorder per clinical interview",
        [("yes", "Yes"), ("no", "No"), ("uncertain", "Uncertain")],
    )
    diagnosis_note = _text("Diagnosis note")
    medications = _text(
        "Medicines the person takes (one per line, as they take them)",
        rows=6,
        help_text="Starts from the screen's answer. Save the draft to re-run the interaction check "
        "on the edited list.",
    )
    bp_systolic = _int("Blood pressure, systolic (mmHg)", BP_SYSTOLIC)
    bp_diastolic = _int("Blood pressure, diastolic (mmHg)", BP_DIASTOLIC)
    pulse = _int("Pulse (beats per minute)", PULSE)
    risk_level = _choice(
        "Suicide risk level", [("low", "Low"), ("moderate", "Moderate"), ("high", "High")]
    )
    risk_justification = _text("Justification of the risk level")
    safety_plan = _text("Safety plan")
    pdmp_date = _date("PDMP checked on")
    pdmp_result = _choice("PDMP result", [("no_concerns", "No concerns"), ("concerns", "Concerns")])
    pdmp_note = _text("PDMP note", rows=2)
    in_person_date = _date("In-person evaluation on")
    in_person_clinician = forms.CharField(
        label="In-person evaluation by (clinician)", required=False, max_length=200
    )
    decision = _choice(
        "Decision",
        [("approve", "Approve for a course"), ("decline", "Decline"), ("refer", "Refer elsewhere")],
    )
    decline_reason = _text("Reason for declining (shown to the patient as written)")
    refer_where = _text("Refer to (shown to the patient as written)")

    def __init__(
        self,
        data: Mapping[str, Any] | None = None,
        *,
        flags: Mapping[str, str],
        trial_rows: int,
        screened_positive: bool,
        deciding: bool = False,
        today: dt.date,
        **kwargs: Any,
    ) -> None:
        super().__init__(data, **kwargs)
        self.flags = dict(flags)
        self.trial_rows = max(1, min(trial_rows, MAX_TRIAL_ROWS))
        self.screened_positive = screened_positive
        self.deciding = deciding
        self.today = today
        for rule in self.flags:
            name = flag_field(rule)
            self.fields[f"{name}-status"] = _choice(
                f"{rule}: confirmed or cleared",
                [("confirmed", "Confirmed"), ("cleared", "Cleared")],
            )
            self.fields[f"{name}-note"] = _text(f"{rule}: note", rows=2)
        for n in range(1, self.trial_rows + 1):
            self.fields[f"trial-{n}-drug"] = forms.CharField(
                label=f"Trial {n}: antidepressant", required=False, max_length=200
            )
            self.fields[f"trial-{n}-adequate"] = _choice(f"Trial {n}: adequate dose", YES_NO, False)
            self.fields[f"trial-{n}-weeks"] = _int(f"Trial {n}: weeks", WEEKS)
            self.fields[f"trial-{n}-outcome"] = _choice(f"Trial {n}: outcome", OUTCOMES, False)

    # --- validation -----------------------------------------------------------------------

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        self._pairs(data)
        self._not_future(data, "pdmp_date", "in_person_date")
        if data.get("pdmp_result") == "concerns" and not data.get("pdmp_note", "").strip():
            self.add_error("pdmp_note", "Describe the concerns the PDMP check found.")
        bp = data.get("bp_systolic"), data.get("bp_diastolic")
        if None not in bp and bp[0] <= bp[1]:  # type: ignore[operator]
            self.add_error("bp_systolic", "Systolic must be higher than diastolic.")
        for rule in self.flags:
            name = flag_field(rule)
            if data.get(f"{name}-status") and not data.get(f"{name}-note", "").strip():
                self.add_error(
                    f"{name}-note", f"Add a note saying why {rule} is confirmed or cleared."
                )
        for n in range(1, self.trial_rows + 1):
            self._trial_row(data, n)
        if self.deciding:
            self._decision(data)
        return data

    def _pairs(self, data: dict[str, Any]) -> None:
        """Values that only mean something together: both or neither."""
        for first, second, what in (
            ("bp_systolic", "bp_diastolic", "blood pressure needs both numbers"),
            ("pdmp_date", "pdmp_result", "the PDMP check needs a date and a result"),
            (
                "in_person_date",
                "in_person_clinician",
                "the in-person evaluation needs a date and the clinician",
            ),
        ):
            has_first, has_second = (
                data.get(first) not in (None, ""),
                data.get(second) not in (None, ""),
            )
            if has_first and not has_second:
                self.add_error(second, f"Enter this too: {what}.")
            elif has_second and not has_first:
                self.add_error(first, f"Enter this too: {what}.")

    def _not_future(self, data: dict[str, Any], *names: str) -> None:
        for name in names:
            value = data.get(name)
            if isinstance(value, dt.date) and value > self.today:
                self.add_error(name, "This date is in the future.")

    def _trial_row(self, data: dict[str, Any], n: int) -> None:
        keys = [f"trial-{n}-{part}" for part in ("drug", "adequate", "weeks", "outcome")]
        values = [data.get(k) for k in keys]
        if all(v in (None, "") for v in values):
            return
        for key, value in zip(keys, values, strict=True):
            if value in (None, "") and key in self.cleaned_data:  # not already in error
                self.add_error(key, f"Trial {n}: fill in every part of the row (or clear it).")

    def _decision(self, data: dict[str, Any]) -> None:
        kind = data.get("decision")
        if not kind:
            self.add_error("decision", "Choose a decision.")
        elif kind == "decline" and not data.get("decline_reason", "").strip():
            self.add_error("decline_reason", "Give the reason for declining.")
        elif kind == "refer" and not data.get("refer_where", "").strip():
            self.add_error("refer_where", "Say where the person is referred.")

    # --- what is stored ---------------------------------------------------------------------

    def trials(self) -> list[Trial]:
        out = []
        for n in range(1, self.trial_rows + 1):
            drug = self.cleaned_data.get(f"trial-{n}-drug", "").strip()
            if drug:
                out.append(
                    Trial(
                        drug=drug,
                        adequate_dose=self.cleaned_data[f"trial-{n}-adequate"] == "yes",
                        weeks=int(self.cleaned_data[f"trial-{n}-weeks"]),
                        outcome=self.cleaned_data[f"trial-{n}-outcome"],
                    )
                )
        return out

    def medication_list(self) -> list[str]:
        return medication_lines(self.cleaned_data.get("medications", ""))

    def content(self) -> dict[str, Any]:
        d = self.cleaned_data

        def date(name: str) -> str | None:
            value = d.get(name)
            return value.isoformat() if value else None

        return {
            "diagnosis": {"answer": d["diagnosis"], "note": d["diagnosis_note"]},
            "flags": {
                rule: {
                    "status": d[f"{flag_field(rule)}-status"],
                    "note": d[f"{flag_field(rule)}-note"],
                }
                for rule in self.flags
            },
            "medications": self.medication_list(),
            "vitals": {
                "bp_systolic": d["bp_systolic"],
                "bp_diastolic": d["bp_diastolic"],
                "pulse": d["pulse"],
            },
            "trials": [
                {
                    "drug": t.drug,
                    "adequate_dose": t.adequate_dose,
                    "weeks": t.weeks,
                    "outcome": t.outcome,
                }
                for t in self.trials()
            ],
            "risk": {
                "level": d["risk_level"],
                "justification": d["risk_justification"],
                "safety_plan": d["safety_plan"],
            },
            "pdmp": {"date": date("pdmp_date"), "result": d["pdmp_result"], "note": d["pdmp_note"]},
            "in_person": {"date": date("in_person_date"), "clinician": d["in_person_clinician"]},
            "decision": {
                "kind": d["decision"] if self.deciding else "",
                "reason": d["decline_reason"]
                if self.deciding and d["decision"] == "decline"
                else "",
                "where": d["refer_where"] if self.deciding and d["decision"] == "refer" else "",
            },
        }


def medication_lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def initial_from(content: Mapping[str, Any]) -> dict[str, Any]:
    """Form initial values from stored content (the inverse of `EvaluationForm.content`)."""
    if not content:
        return {}
    vitals, risk = content["vitals"], content["risk"]
    pdmp, in_person, decision = content["pdmp"], content["in_person"], content["decision"]
    initial: dict[str, Any] = {
        "diagnosis": content["diagnosis"]["answer"],
        "diagnosis_note": content["diagnosis"]["note"],
        "medications": "\n".join(content["medications"]),
        **vitals,
        "risk_level": risk["level"],
        "risk_justification": risk["justification"],
        "safety_plan": risk["safety_plan"],
        "pdmp_date": pdmp["date"],
        "pdmp_result": pdmp["result"],
        "pdmp_note": pdmp["note"],
        "in_person_date": in_person["date"],
        "in_person_clinician": in_person["clinician"],
        "decision": decision["kind"],
        "decline_reason": decision["reason"],
        "refer_where": decision["where"],
    }
    for rule, r in content["flags"].items():
        initial[f"{flag_field(rule)}-status"] = r["status"]
        initial[f"{flag_field(rule)}-note"] = r["note"]
    for n, t in enumerate(content["trials"], start=1):
        initial[f"trial-{n}-drug"] = t["drug"]
        initial[f"trial-{n}-adequate"] = "yes" if t["adequate_dose"] else "no"
        initial[f"trial-{n}-weeks"] = t["weeks"]
        initial[f"trial-{n}-outcome"] = t["outcome"]
    return initial


def approval_facts(
    content: Mapping[str, Any],
    *,
    flags: Mapping[str, str],
    safety_level: str,
    avoid: list[str],
    basis_in_force: bool,
    age: Any,
    min_age: int,
    state: str,
    service_states: tuple[str, ...],
) -> ApprovalFacts:
    """The approval rules' input from stored-shape content (`EvaluationForm.content()`)."""
    resolutions = content.get("flags", {})
    return ApprovalFacts(
        safety_level=safety_level,
        diagnosis=content["diagnosis"]["answer"],
        risk_level=content["risk"]["level"],
        risk_justification=content["risk"]["justification"],
        safety_plan=content["risk"]["safety_plan"],
        flags={rule: Resolution(**resolutions.get(rule, {})) for rule in flags},
        avoid=tuple(avoid),
        telemedicine_basis_in_force=basis_in_force,
        in_person_recorded=bool(content["in_person"]["date"] and content["in_person"]["clinician"]),
        pdmp_recorded=bool(content["pdmp"]["date"] and content["pdmp"]["result"]),
        under_age=isinstance(age, int) and age < min_age,
        age_unknown=not isinstance(age, int),
        state=state,
        service_states=service_states,
    )
