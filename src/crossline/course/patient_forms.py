"""The patient's course forms: treatment consent, the session check-ins, the weekly questionnaire.

Fields are named by the engine's answer ids, so an engine error (`FieldError(field, …)`) lands on
the field it names. Validated instruments (PHQ-9, GAD-7, ASQ) are shown with their wording and
options from the knowledge files, never reworded. Django's own checks run first (they speak the
person's language); the engine validates again and decides.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from crossline.course.questions import COURSE_QUESTIONS
from crossline.course.services import MAX_DOSES_TAKEN
from crossline.engine import checkin as rules
from crossline.engine import weekly as weekly_rules
from crossline.engine.errors import InvalidInput
from crossline.engine.instruments import ASQ_ITEMS
from crossline.engine.knowledge import Knowledge

ASQ = (*ASQ_ITEMS, "asq.5")


def yes_no() -> list[tuple[str, Any]]:
    return [("yes", _("Yes")), ("no", _("No"))]


def radios(choices: list[tuple[str, Any]], label: Any, required: bool = True) -> forms.ChoiceField:
    return forms.ChoiceField(
        choices=choices, label=label, widget=forms.RadioSelect, required=required
    )


def instrument_field(k: Knowledge, item_id: str, lang: str) -> forms.ChoiceField:
    """A PHQ-9, GAD-7 or ASQ item exactly as the knowledge file words it."""
    item = k.items[item_id]
    return radios([(str(o.value), o.text[lang]) for o in item.options], item.text[lang])


def number(lo: int, hi: int, label: Any, help_text: Any = "") -> forms.IntegerField:
    return forms.IntegerField(
        label=label,
        help_text=help_text,
        min_value=lo,
        max_value=hi,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )


class EngineForm(forms.Form):
    """A form whose answers the engine checks again: its errors come back onto the fields."""

    def answers(self) -> dict[str, Any]:
        raise NotImplementedError

    def add_engine_errors(self, exc: InvalidInput) -> None:
        """The engine's refusals on the fields they name. The form's own checks, in the
        person's language, catch what the engine would; should the engine refuse more, its
        messages (English, for the API and the staff) are not shown to the person: the field
        is marked in their language instead."""
        for e in exc.errors:
            field = e.field.split("[")[0]
            if field in self.fields:
                self.add_error(field, _("This answer was not accepted. Please check it."))
            else:
                self.add_error(None, _("Some answers were not accepted. Please check them."))

    def hide_asq_errors(self) -> None:
        """Second step: the ASQ questions appear for the first time, without errors."""
        for item in ASQ:
            self.errors.pop(item, None)


class ConsentForm(forms.Form):
    signed_name = forms.CharField(
        label=_("Type your full name to sign"), max_length=200, strip=True
    )


def _ask_asq(form: forms.Form, data: Any) -> bool:
    try:
        return data is not None and int(data.get("phq9.9", "0")) > 0
    except ValueError:
        return False


class PreForm(EngineForm):
    """Before the session: home-cuff vitals, the safety answers, item 9 (and the ASQ if > 0)."""

    def __init__(self, data: Any, *, k: Knowledge, lang: str, fasting: tuple[int, int]) -> None:
        super().__init__(data)
        sys_lo, sys_hi = k.items["medical.bp_systolic"].int_range or (0, 0)
        dia_lo, dia_hi = k.items["medical.bp_diastolic"].int_range or (0, 0)
        hours, minutes = fasting
        f = self.fields
        f[rules.SYSTOLIC] = number(sys_lo, sys_hi, _("Blood pressure: the top number (systolic)"))
        f[rules.DIASTOLIC] = number(
            dia_lo, dia_hi, _("Blood pressure: the bottom number (diastolic)")
        )
        f[rules.PULSE] = number(*rules.PULSE_RANGE, _("Pulse (beats per minute)"))
        f["pre.monitor_present"] = radios(
            yes_no(), _("Is your monitor, a sober adult, with you now and staying with you?")
        )
        f["pre.fasted"] = radios(
            yes_no(),
            _(
                "Have you gone without food for the last %(hours)s hours and without drinks "
                "for the last %(minutes)s minutes?"
            )
            % {"hours": hours, "minutes": minutes},
        )
        f["pre.alcohol_today"] = radios(yes_no(), _("Have you had any alcohol today?"))
        f["pre.sedatives_today"] = radios(
            yes_no(),
            _("Have you taken a sedative today (a sleeping pill, a benzodiazepine, an opioid)?"),
        )
        f["pre.stimulants_today"] = radios(
            yes_no(), _("Have you taken a stimulant today (for example an ADHD medicine)?")
        )
        f["pre.will_drive"] = radios(
            yes_no(), _("Will you drive, cycle or use machinery before tomorrow?")
        )
        f[rules.NEW_MEDICATIONS] = forms.CharField(
            label=_("Any new medicines or supplements since your last session?"),
            help_text=_("One per line. Leave empty if there are none."),
            required=False,
            widget=forms.Textarea(attrs={"rows": 3}),
        )
        f["phq9.9"] = instrument_field(k, "phq9.9", lang)
        f["phq9.9"].help_text = k.instruments["phq9"].stem[lang]  # the item as validated
        if _ask_asq(self, data):
            for item in ASQ:
                f[item] = instrument_field(k, item, lang)
        f[rules.NOTE] = forms.CharField(
            label=_("Anything new you want your clinician to know? (optional)"),
            max_length=rules.MAX_NOTE,
            required=False,
            widget=forms.Textarea(attrs={"rows": 3}),
        )

    @property
    def asks_asq(self) -> bool:
        return "asq.1" in self.fields

    def answers(self) -> dict[str, Any]:
        d = self.cleaned_data
        out: dict[str, Any] = {}
        for key, value in d.items():
            if key == rules.NEW_MEDICATIONS:
                out[key] = [line.strip() for line in str(value).splitlines() if line.strip()]
            elif key == "phq9.9":
                out[key] = int(value)
            elif key == rules.NOTE:
                if str(value).strip():
                    out[key] = str(value).strip()
            else:
                out[key] = value
        return out


def sedation_choices() -> list[tuple[str, Any]]:
    """Simplified MOAA/S (FACTS §A6.1), in plain words for the monitor; 5 = alert."""
    return [
        ("5", _("5 — Awake and alert: answers at once when spoken to normally")),
        ("4", _("4 — Drowsy: answers slowly when spoken to normally")),
        ("3", _("3 — Answers only when the name is called loudly or again and again")),
        ("2", _("2 — Answers only when gently shaken")),
        ("1", _("1 — Answers only to a firm squeeze of the shoulder")),
        ("0", _("0 — Does not answer even to a firm squeeze of the shoulder")),
    ]


def symptom_choices() -> list[tuple[str, Any]]:
    labels = {
        "chest_pain": _("Chest pain"),
        "shortness_of_breath": _("Shortness of breath"),
        "severe_headache": _("A sudden severe headache"),
        "vision_change": _("A change in vision"),
        "seizure": _("A seizure"),
        "confusion": _("Confusion"),
        "one_sided_weakness": _("Weakness on one side of the body"),
    }
    return [(s, labels[s]) for s in rules.EMERGENCY_SYMPTOMS]


class PostForm(EngineForm):
    """At about 40 minutes: blood pressure, the monitor's sedation rating, how it went."""

    def __init__(self, data: Any, *, k: Knowledge) -> None:
        super().__init__(data)
        sys_lo, sys_hi = k.items["medical.bp_systolic"].int_range or (0, 0)
        dia_lo, dia_hi = k.items["medical.bp_diastolic"].int_range or (0, 0)
        f = self.fields
        f[rules.SYSTOLIC] = number(sys_lo, sys_hi, _("Blood pressure now: the top number"))
        f[rules.DIASTOLIC] = number(dia_lo, dia_hi, _("Blood pressure now: the bottom number"))
        f["post.sedation"] = radios(
            sedation_choices(), _("Your monitor answers: how alert is the person now?")
        )
        f["post.dissociation"] = radios(
            [
                ("none", _("None")),
                ("mild", _("Mild")),
                ("moderate", _("Moderate")),
                ("severe", _("Severe")),
            ],
            _("Feeling detached from yourself or your surroundings during the session"),
        )
        f["post.breathing_problem"] = radios(yes_no(), _("Any problem breathing?"))
        f["post.nausea"] = radios(yes_no(), _("Any nausea or vomiting?"))
        f["post.emergency_symptoms"] = forms.MultipleChoiceField(
            choices=symptom_choices(),
            label=_("Any of these now? Tick all that apply; leave empty if none."),
            widget=forms.CheckboxSelectMultiple,
            required=False,
        )
        f["post.minutes_to_baseline"] = number(
            *rules.MINUTES_RANGE,
            _("About how many minutes until you felt back to normal?"),
            _("Your best estimate so far, in minutes."),
        )
        f["doses_taken"] = number(
            0, MAX_DOSES_TAKEN, _("How many doses did you take this session?")
        )

    def answers(self) -> dict[str, Any]:
        d = dict(self.cleaned_data)
        d.pop("doses_taken", None)
        d["post.sedation"] = int(d["post.sedation"])
        d["post.emergency_symptoms"] = list(d["post.emergency_symptoms"])
        return d


class WeeklyForm(EngineForm):
    """PHQ-9 and GAD-7 in full, the ASQ when item 9 > 0, bladder and recovery when asked."""

    def __init__(
        self, data: Any, *, k: Knowledge, lang: str, bladder: bool, recovery: bool
    ) -> None:
        super().__init__(data)
        f = self.fields
        for item in (*weekly_rules.PHQ9, *weekly_rules.GAD7):
            f[item] = instrument_field(k, item, lang)
        if _ask_asq(self, data):
            for item in ASQ:
                f[item] = instrument_field(k, item, lang)
        for item, asked in ((weekly_rules.BLADDER, bladder), (weekly_rules.RECOVERY, recovery)):
            if asked:
                question, choices = COURSE_QUESTIONS[item]
                f[item] = radios(list(choices), question)

    @property
    def asks_asq(self) -> bool:
        return "asq.1" in self.fields

    def answers(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in self.cleaned_data.items():
            if key.startswith(("phq9.", "gad7.")):
                out[key] = int(value)
            else:
                out[key] = value
        return out
