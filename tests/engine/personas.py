"""The people the engine's specifications are written about.

Each persona is a complete, valid answer set (the assessment contract's ids and values), built so
that one reading of it is obvious: a depressed adult in Florida who may be a candidate, a burned-out
person without depression, a teenager, someone outside the service area, someone at acute risk.
Pass `overrides` to change or add answers; use `without` to take answers away.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

Answers = dict[str, Any]

# The 19 `medical.<condition>` ids of the contract (PRODUCT.md, "Exclusions" and "Review flags").
EXCLUSIONS = (
    "aneurysm_avm",
    "brain_bleed",
    "ketamine_allergy",
    "bp_uncontrolled",
    "hypertensive_encephalopathy",
    "psychosis",
    "ketamine_misuse",
    "pregnant",
    "breastfeeding",
    "intracranial_pressure",
    "liver_severe",
)
REVIEW_CONDITIONS = (
    "heart",
    "stroke",
    "bipolar",
    "substance_use",
    "liver",
    "bladder",
    "glaucoma",
    "hyperthyroid",
)
CONDITIONS = EXCLUSIONS + REVIEW_CONDITIONS
CHECKLIST_IDS = tuple(f"medical.{c}" for c in CONDITIONS)
PHQ9_IDS = tuple(f"phq9.{i}" for i in range(1, 10))
GAD7_IDS = tuple(f"gad7.{i}" for i in range(1, 8))
ASQ_SCREEN_IDS = ("asq.1", "asq.2", "asq.3", "asq.4")


def complete_checklist(**overrides: str) -> Answers:
    """Every medical condition "no" unless overridden: `complete_checklist(pregnant="yes")`."""
    unknown = set(overrides) - set(CONDITIONS)
    if unknown:
        raise ValueError(f"not a contract condition: {sorted(unknown)}")
    return {f"medical.{c}": overrides.get(c, "no") for c in CONDITIONS}


def phq9(*values: int) -> Answers:
    """PHQ-9 items 1..n in order: `phq9(2, 2, 1)` answers items 1, 2 and 3."""
    return {f"phq9.{i}": v for i, v in enumerate(values, start=1)}


def gad7(*values: int) -> Answers:
    return {f"gad7.{i}": v for i, v in enumerate(values, start=1)}


def asq_all_no() -> Answers:
    """The whole ASQ answered "no", acuity included (the flow asks acuity with the ASQ)."""
    return {i: "no" for i in (*ASQ_SCREEN_IDS, "asq.5")}


def without(answers: Mapping[str, Any], *ids: str) -> Answers:
    return {k: v for k, v in answers.items() if k not in ids}


def _merge(base: Answers, overrides: Mapping[str, Any] | None) -> Answers:
    return {**base, **(overrides or {})}


def depressed_adult_in_florida(overrides: Mapping[str, Any] | None = None) -> Answers:
    """34, in Florida, PHQ-9 12 (moderate), burned out too, no risk, no exclusions: a candidate."""
    return _merge(
        {
            "profile.state": "FL",
            "profile.age": 34,
            **phq9(2, 2, 2, 2, 1, 1, 1, 1, 0),
            "burnout.single": 4,
            **asq_all_no(),
            **gad7(1, 1),
            **complete_checklist(),
            "medications": ["sertraline 50 mg daily"],
            "history.antidepressant_trials": 1,
        },
        overrides,
    )


def candidate_ready(overrides: Mapping[str, Any] | None = None) -> Answers:
    """The least a candidate needs: core ids, a positive screen, the checklist, the medicines."""
    return _merge(
        {
            "profile.state": "NJ",
            "profile.age": 40,
            **phq9(3, 3, 3, 1, 0, 0, 0, 0, 0),
            **complete_checklist(),
            "medications": [],
        },
        overrides,
    )


def burned_out_not_depressed(overrides: Mapping[str, Any] | None = None) -> Answers:
    """Worn out by work, PHQ-2 of 1 (below the gate), strain stays at work and lifts on time off."""
    return _merge(
        {
            "profile.state": "FL",
            "profile.age": 41,
            "phq9.1": 1,
            "phq9.2": 0,
            "phq9.9": 0,
            "burnout.single": 4,
            **gad7(1, 1),
            "scope.where": "work",
            "scope.time_off": "lifts",
        },
        overrides,
    )


def mild_depression_without_burnout(overrides: Mapping[str, Any] | None = None) -> Answers:
    """A complete PHQ-9 of 7 (mild) and no burnout: some signs, below the level for treatment."""
    return _merge(
        {
            "profile.state": "NJ",
            "profile.age": 52,
            **phq9(1, 1, 1, 1, 1, 1, 1, 0, 0),
            "burnout.single": 2,
            **gad7(0, 1),
        },
        overrides,
    )


def few_symptoms(overrides: Mapping[str, Any] | None = None) -> Answers:
    return _merge(
        {
            "profile.state": "FL",
            "profile.age": 29,
            "phq9.1": 0,
            "phq9.2": 1,
            "phq9.9": 0,
            "burnout.single": 1,
            **gad7(0, 0),
        },
        overrides,
    )


def teen(overrides: Mapping[str, Any] | None = None) -> Answers:
    """A 16-year-old in Florida with the same answers as the depressed adult."""
    return depressed_adult_in_florida({"profile.age": 16, **(overrides or {})})


def out_of_area(overrides: Mapping[str, Any] | None = None) -> Answers:
    """The depressed adult, but in Texas (not a default service state)."""
    return depressed_adult_in_florida({"profile.state": "TX", **(overrides or {})})


def acute_risk(overrides: Mapping[str, Any] | None = None) -> Answers:
    """Item 9 above 0, ASQ positive and thoughts of suicide right now."""
    return depressed_adult_in_florida(
        {
            "phq9.9": 2,
            "asq.1": "yes",
            "asq.3": "yes",
            "asq.5": "yes",
            **(overrides or {}),
        }
    )


def non_acute_risk(overrides: Mapping[str, Any] | None = None) -> Answers:
    """Item 9 of 1 and a past attempt, but no thoughts of suicide right now."""
    return depressed_adult_in_florida(
        {"phq9.9": 1, "asq.4": "yes", "asq.5": "no", **(overrides or {})}
    )


PERSONAS = {
    f.__name__: f
    for f in (
        depressed_adult_in_florida,
        candidate_ready,
        burned_out_not_depressed,
        mild_depression_without_burnout,
        few_symptoms,
        teen,
        out_of_area,
        acute_risk,
        non_acute_risk,
    )
}
