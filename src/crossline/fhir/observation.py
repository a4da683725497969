"""Total scores as FHIR Observations: a screen's complete totals, and a course's weekly ones.

Only scales whose total has a LOINC code in the knowledge base (PHQ-9 44261-6, PHQ-2 55758-7,
GAD-7 70274-6; FACTS §A1–§A3; the GAD-2 and the burnout item have none) become Observations,
and only complete totals: a missing answer leaves the total unknown, never 0, and an unknown
total is not an Observation. The value is a UCUM `{score}` quantity, as in the US Core and MII
examples ([S17]).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from crossline.engine.instruments import REPORTED_SCALES, SCORE_NAMES
from crossline.engine.knowledge import Knowledge
from crossline.fhir.codes import (
    LOINC,
    OBSERVATION_CATEGORY,
    UCUM,
    answers_system,
    questions_system,
)

SURVEY = {"coding": [{"system": OBSERVATION_CATEGORY, "code": "survey", "display": "Survey"}]}


def scores(
    k: Knowledge,
    decision: Mapping[str, Any],
    effective: str,
    derived_from: str | None = None,
    subject: str | None = None,
) -> list[dict[str, Any]]:
    """One Observation per complete, LOINC-coded total in a decision's `scores`, effective at
    `effective` (an ISO date-time), derived from the response `derived_from` and about
    `subject` when given (references such as "urn:uuid:…")."""
    out = []
    for scale in REPORTED_SCALES:
        score = decision["scores"].get(SCORE_NAMES.get(scale, scale)) or {}
        if coded(k, scale) and score.get("complete"):
            out.append(total(k, scale, score["total"], effective, derived_from, subject))
    return out


def coded(k: Knowledge, scale_id: str) -> bool:
    """Whether the scale's total (an instrument's or a subscale's, as the PHQ-2) has a LOINC
    code, and so can be an Observation."""
    scale = k.scales.get(scale_id)
    return scale is not None and scale.loinc_total is not None


def total(
    k: Knowledge,
    instrument_id: str,
    value: int,
    effective: str,
    derived_from: str | None = None,
    subject: str | None = None,
) -> dict[str, Any]:
    """The Observation of one complete total of a LOINC-coded scale (`coded`)."""
    code = k.scales[instrument_id].loinc_total
    if code is None:
        raise ValueError(f"{instrument_id}: no LOINC code for its total")
    observation: dict[str, Any] = {
        "resourceType": "Observation",
        "status": "final",
        "category": [SURVEY],
        "code": {"coding": [{"system": LOINC, "code": code}]},
        "effectiveDateTime": effective,
        "valueQuantity": {"value": value, "unit": "{score}", "system": UCUM, "code": "{score}"},
    }
    if subject is not None:
        observation["subject"] = {"reference": subject}
    if derived_from is not None:
        observation["derivedFrom"] = [{"reference": derived_from}]
    return observation


def answer(
    base: str,
    question: tuple[str, str],
    value: tuple[str, str],
    effective: str,
    subject: str | None = None,
) -> dict[str, Any]:
    """The Observation of one answer to a question no Questionnaire covers (a course's own
    weekly questions): `question` and `value` as (crossline's code, its text)."""
    observation: dict[str, Any] = {
        "resourceType": "Observation",
        "status": "final",
        "category": [SURVEY],
        "code": {
            "coding": [{"system": questions_system(base), "code": question[0]}],
            "text": question[1],
        },
        "effectiveDateTime": effective,
        "valueCodeableConcept": {
            "coding": [{"system": answers_system(base), "code": value[0]}],
            "text": value[1],
        },
    }
    if subject is not None:
        observation["subject"] = {"reference": subject}
    return observation
