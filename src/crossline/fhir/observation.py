"""A decision's complete total scores as FHIR Observations.

Only instruments whose total has a LOINC code in the knowledge base (PHQ-9 44261-6, GAD-7
70274-6; FACTS §A1, §A3) become Observations, and only when the score is complete: a missing
answer leaves the total unknown, never 0, and an unknown total is not an Observation. The value
is a UCUM `{score}` quantity, as in the US Core and MII examples ([S17]).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from crossline.engine.instruments import REPORTED_SCALES, SCORE_NAMES
from crossline.engine.knowledge import Knowledge
from crossline.fhir.codes import LOINC, OBSERVATION_CATEGORY, UCUM

SURVEY = {"coding": [{"system": OBSERVATION_CATEGORY, "code": "survey", "display": "Survey"}]}


def scores(
    k: Knowledge,
    decision: Mapping[str, Any],
    effective: str,
    derived_from: str | None = None,
) -> list[dict[str, Any]]:
    """One Observation per complete, LOINC-coded total in `decision["scores"]`, effective at
    `effective` (an ISO date-time) and, when given, derived from the response `derived_from`
    (a reference such as "urn:uuid:…" or "QuestionnaireResponse/…")."""
    out = []
    for scale in REPORTED_SCALES:
        instrument = k.instruments.get(scale)
        score = decision["scores"].get(SCORE_NAMES.get(scale, scale)) or {}
        if instrument is None or not instrument.loinc_total or not score.get("complete"):
            continue
        observation: dict[str, Any] = {
            "resourceType": "Observation",
            "status": "final",
            "category": [SURVEY],
            "code": {"coding": [{"system": LOINC, "code": instrument.loinc_total}]},
            "effectiveDateTime": effective,
            "valueQuantity": {
                "value": score["total"],
                "unit": "{score}",
                "system": UCUM,
                "code": "{score}",
            },
        }
        if derived_from is not None:
            observation["derivedFrom"] = [{"reference": derived_from}]
        out.append(observation)
    return out
