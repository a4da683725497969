"""What approval for a course requires, and the treatment-history count. Pure: no Django.

The requirements are PRODUCT.md "Evaluation and course rules" (facts from FACTS.md):

- a documented suicide risk assessment — level, justification and safety plan — when the
  screen's safety level was not "none", and never approval at a high risk level (FACTS §F2);
- every review flag confirmed or cleared, each with a note;
- no "avoid" interaction on the reconciled medication list (FACTS §C);
- a legal basis for telemedicine prescribing in force, or a recorded in-person evaluation
  (Ryan Haight Act; the DEA flexibilities end 2026-12-31 unless extended — FACTS §G1);
- major depression confirmed by the clinical interview;

and, as program policy, a PDMP check recorded (FACTS §G3: "run a PMP check for every patient
anyway"), the adult-only hard floor (FACTS §G4) and the service area (policy.service_area: the
program treats people who will be in its service states for visits and sessions). A decline or
a referral needs none of them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

RISK_LEVELS = ("low", "moderate", "high")
RESOLUTIONS = ("confirmed", "cleared")
# A failed trial: no response, or a partial (< 50 %) one (the ATRQ adequacy criterion, FACTS
# §D1). A trial stopped for side effects is an intolerance, not a failure of an adequate trial.
FAILED_OUTCOMES = frozenset({"no_response", "partial"})


@dataclass(frozen=True, slots=True)
class Unmet:
    """One requirement approval lacks: a stable code, the form field to fix, a clear message."""

    code: str
    field: str
    message: str


@dataclass(frozen=True, slots=True)
class Resolution:
    status: str = ""  # confirmed | cleared | "" (not yet)
    note: str = ""

    @property
    def done(self) -> bool:
        return self.status in RESOLUTIONS and bool(self.note.strip())


@dataclass(frozen=True, slots=True)
class ApprovalFacts:
    """Everything the approval rules read, already parsed from the form and the screen."""

    safety_level: str  # the screen's stored level: none | non_acute | acute
    diagnosis: str = ""  # yes | no | uncertain | ""
    risk_level: str = ""
    risk_justification: str = ""
    safety_plan: str = ""
    flags: Mapping[str, Resolution] = field(default_factory=dict)  # review item → resolution
    avoid: Sequence[str] = ()  # reconciled entries in an "avoid" class
    telemedicine_basis_in_force: bool = False
    in_person_recorded: bool = False  # an in-person evaluation: date and clinician
    pdmp_recorded: bool = False  # date and result
    # The hard floor reads the screen's age answer, not its eligibility: an acute screen is
    # `safety_first` whatever the age, and one without an age may still open a case.
    under_age: bool = False  # the screen's age answer is under the floor
    state: str = ""  # the person's state for visits and sessions (the screen's answer)
    service_states: tuple[str, ...] = ()  # the program's service states now
    age_unknown: bool = False  # the screen has no age answer


MESSAGES = {
    "under_age": "The screen records an age under 18: the program treats adults only "
    "(a hard floor, FACTS §G4).",
    "age_unknown": "The screen records no age: the program treats adults only (a hard floor, "
    "FACTS §G4), so approval needs a screen that records the person's age.",
    "diagnosis": "Major depression is not confirmed: the diagnosis per clinical interview "
    "must be “yes”.",
    "flag": "Review flag {rule} is not confirmed or cleared with a note.",
    "interaction_avoid": "An “avoid” interaction is on the reconciled medication list: "
    "{names} (FACTS §C).",
    "risk_assessment": "The screen was positive for suicide risk: document the risk "
    "assessment ({missing} missing; FACTS §F2).",
    "risk_high": "The documented suicide risk is high: approval for a home course is refused "
    "(program policy; FACTS §F2).",
    "legal_basis": "No legal basis for telemedicine prescribing is in force: record an "
    "in-person evaluation, date and clinician (FACTS §G1).",
    "pdmp": "The PDMP check is not recorded: date and result (program policy, FACTS §G3).",
    "service_area": "The person's state for visits and sessions ({state}) is not one of the "
    "program's service states ({served}): the program treats only people who will be in them "
    "(program policy: policy.service_area).",
}


def unmet_requirements(f: ApprovalFacts) -> list[Unmet]:
    """Every requirement approval lacks, in the order of the form; empty means it may approve."""
    out: list[Unmet] = []
    if f.under_age:
        out.append(Unmet("under_age", "decision", MESSAGES["under_age"]))
    elif f.age_unknown:
        out.append(Unmet("age_unknown", "decision", MESSAGES["age_unknown"]))
    if f.state not in f.service_states:
        served = ", ".join(f.service_states) or "none"
        message = MESSAGES["service_area"].format(state=f.state or "not given", served=served)
        out.append(Unmet("service_area", "decision", message))
    if f.diagnosis != "yes":
        out.append(Unmet("diagnosis", "diagnosis", MESSAGES["diagnosis"]))
    out += [
        Unmet(f"flag:{rule}", rule, MESSAGES["flag"].format(rule=rule))
        for rule, resolution in f.flags.items()
        if not resolution.done
    ]
    if f.avoid:
        names = ", ".join(f.avoid)
        out.append(
            Unmet(
                "interaction_avoid",
                "medications",
                MESSAGES["interaction_avoid"].format(names=names),
            )
        )
    out += _risk(f)
    if not (f.telemedicine_basis_in_force or f.in_person_recorded):
        out.append(Unmet("legal_basis", "in_person_date", MESSAGES["legal_basis"]))
    if not f.pdmp_recorded:
        out.append(Unmet("pdmp", "pdmp_date", MESSAGES["pdmp"]))
    return out


_RISK_FIELDS = (
    ("risk level", "risk_level"),
    ("justification", "risk_justification"),
    ("safety plan", "safety_plan"),
)


def _risk(f: ApprovalFacts) -> list[Unmet]:
    """Documentation is required after a positive screen; a documented high level always refuses
    (a clinician may find high risk at the visit even when the screen was negative)."""
    out = []
    if f.safety_level != "none":
        present = {
            "risk_level": f.risk_level in RISK_LEVELS,
            "risk_justification": bool(f.risk_justification.strip()),
            "safety_plan": bool(f.safety_plan.strip()),
        }
        missing = [(label, name) for label, name in _RISK_FIELDS if not present[name]]
        if missing:
            text = MESSAGES["risk_assessment"].format(missing=", ".join(m[0] for m in missing))
            out.append(Unmet("risk_assessment", missing[0][1], text))
    if f.risk_level == "high":
        out.append(Unmet("risk_high", "risk_level", MESSAGES["risk_high"]))
    return out


@dataclass(frozen=True, slots=True)
class Trial:
    drug: str
    adequate_dose: bool
    weeks: int
    outcome: str  # no_response | partial | response | side_effects


def adequate_failed_trials(trials: Iterable[Trial], min_weeks: int) -> int:
    """Trials at an adequate dose for at least `min_weeks` that failed (policy.adequate_trial)."""
    return sum(
        1
        for t in trials
        if t.adequate_dose and t.weeks >= min_weeks and t.outcome in FAILED_OUTCOMES
    )
