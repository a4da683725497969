"""The weekly questionnaire of a course: PHQ-9 and GAD-7, the ASQ when PHQ-9 item 9 is above 0,
bladder symptoms monthly, and the one-line recovery-plan check. Pure: no I/O, no clock.

Every item of both instruments is required — a total is never computed from a partial answer set,
and a missing answer is never scored as 0 (FACTS §A1, §A3). The result names what the clinician
must see (`reasons`, each citing its sources) and the safety level (PRODUCT.md step 6: any
positive answer shows crisis resources at once and suspends the course until a clinician
documents a risk assessment).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from crossline.engine.checkin import reason_entry
from crossline.engine.errors import FieldError, InvalidInput
from crossline.engine.instruments import ASQ_ITEMS, safety_level
from crossline.engine.knowledge import Knowledge

PHQ9 = tuple(f"phq9.{i}" for i in range(1, 10))
GAD7 = tuple(f"gad7.{i}" for i in range(1, 8))
BLADDER = "course.bladder"  # new or worse bladder or urinary symptoms: yes / no
RECOVERY = "course.recovery"  # kept to the recovery plan this week: yes / partly / no
RECOVERY_ANSWERS = ("yes", "partly", "no")
YES_NO = ("yes", "no")

# Each rule id and the alert it raises: the safety level itself, or routine. Summaries and
# citations live in checkin.toml [alerts] (`crossline knowledge check` verifies every id is there).
SAFETY_RULE = "weekly.safety_positive"  # a positive PHQ-9 item 9 or ASQ answer
# New or worse bladder symptoms: a routine alert, and the course pauses until the physician
# decides (`engine.course.pause_after_report`: FACTS §B4, "stop if new LUTS").
BLADDER_RULE = "weekly.bladder_symptoms"
RULES: Mapping[str, str] = {
    SAFETY_RULE: "safety",
    BLADDER_RULE: "routine",
    "weekly.worsening": "routine",
    "weekly.non_response": "routine",
}


def citations(k: Knowledge, rule: str) -> tuple[str, ...]:
    return tuple(reason_entry(k, rule)["citations"])


def reasons_with_citations(k: Knowledge, rules: Iterable[str]) -> list[dict[str, Any]]:
    return [{"rule": r, "citations": list(citations(k, r))} for r in rules]


@dataclass(frozen=True, slots=True)
class WeeklyResult:
    phq9: int
    gad7: int
    safety_level: str
    reasons: tuple[str, ...]  # rule ids of RULES that apply to these answers alone
    answers: Mapping[str, Any]

    def to_dict(self, k: Knowledge) -> dict[str, Any]:
        return {
            "scores": {"phq9": self.phq9, "gad7": self.gad7},
            "safety": {"level": self.safety_level},
            "reasons": reasons_with_citations(k, self.reasons),
        }


def required_ids(answers: Mapping[str, Any], *, bladder: bool, recovery: bool) -> list[str]:
    """The ids this questionnaire needs, given what is answered so far: the whole ASQ, with its
    acuity question, when item 9 is above 0 (that alone makes the screen positive, PRODUCT.md)."""
    ids = [*PHQ9, *GAD7]
    item9 = answers.get("phq9.9")
    if isinstance(item9, int) and item9 > 0:
        ids += [*ASQ_ITEMS, "asq.5"]
    if bladder:
        ids.append(BLADDER)
    if recovery:
        ids.append(RECOVERY)
    return ids


def evaluate_weekly(
    k: Knowledge, answers: object, *, bladder: bool, recovery: bool
) -> WeeklyResult:
    """Validate (raises InvalidInput naming every bad field) and score one questionnaire."""
    if not isinstance(answers, dict):
        raise InvalidInput([FieldError("answers", "must be an object keyed by answer id")])
    wanted = required_ids(answers, bladder=bladder, recovery=recovery)
    errors = [
        FieldError(str(key), "is not asked in this questionnaire")
        for key in answers
        if key not in wanted
    ]
    valid: dict[str, Any] = {}
    for key in wanted:
        value = answers.get(key)
        problem = _problem(k, key, value)
        if problem:
            errors.append(FieldError(key, problem))
        else:
            valid[key] = value
    if errors:
        raise InvalidInput(errors)
    reasons = []
    level = safety_level(valid)
    if level != "none":
        reasons.append(SAFETY_RULE)
    if valid.get(BLADDER) == "yes":
        reasons.append(BLADDER_RULE)
    return WeeklyResult(
        phq9=sum(valid[i] for i in PHQ9),
        gad7=sum(valid[i] for i in GAD7),
        safety_level=level,
        reasons=tuple(reasons),
        answers=valid,
    )


def _problem(k: Knowledge, key: str, value: object) -> str | None:
    if value is None:
        return "is required"
    if key == BLADDER:
        return None if value in YES_NO else "must be yes or no"
    if key == RECOVERY:
        return None if value in RECOVERY_ANSWERS else "must be yes, partly or no"
    item = k.items[key]
    if item.valid_range:
        low, high = item.valid_range
        if type(value) is not int or not low <= value <= high:
            return f"must be a whole number from {low} to {high}"
        return None
    allowed = item.valid_strings or ()
    return None if value in allowed else "must be one of: " + ", ".join(sorted(allowed))
