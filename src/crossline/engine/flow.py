"""The adaptive eligibility flow (PRODUCT.md, "What the eligibility flow asks").

Order, safety first: PHQ-9 items 1, 2 and 9; the ASQ at once when item 9 > 0; the rest of the
PHQ-9 only while the depression screen is uncertain; the burnout item; the ASQ when its rule says
so (burnout item 5, positive depression screen), with the acuity question whenever the suicide
screen is positive; the GAD-2; the scope questions only for a burnout pattern; state and age;
and, for a depression-likely adult in the service area, the medical checklist, medications and
treatment history.

`next_step(known)` looks only at answers the flow itself has asked, so replaying it over any
answer set gives `items_asked`: the answers a person taking the flow would have given.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from crossline.engine.instruments import ASQ_ITEMS, ASQ_POSITIVE, PHQ9_ITEMS, depression_screen
from crossline.engine.knowledge import Knowledge

SECONDS_PER_QUESTION = 5.0
SECONDS_PER_CHECKLIST_LINE = 1.5
SECONDS_TO_TYPE_MEDICATIONS = 10.0

PHQ_FIRST = ("phq9.1", "phq9.2", "phq9.9")
PHQ_REST = tuple(i for i in PHQ9_ITEMS if i not in PHQ_FIRST)
GAD2 = ("gad7.1", "gad7.2")
SCOPE = ("scope.where", "scope.time_off")
PROFILE = ("profile.state", "profile.age")
HISTORY = "history.antidepressant_trials"


@dataclass(frozen=True, slots=True)
class Step:
    """One screen: a single question, the medical checklist, or the medication list."""

    kind: str  # question | checklist | medications
    ids: tuple[str, ...]

    @property
    def seconds(self) -> float:
        if self.kind == "checklist":
            return SECONDS_PER_CHECKLIST_LINE * len(self.ids)
        if self.kind == "medications":
            return SECONDS_TO_TYPE_MEDICATIONS
        return SECONDS_PER_QUESTION


@dataclass(frozen=True, slots=True)
class Walk:
    """A replay of the flow over some answers."""

    asked: tuple[str, ...]  # answer ids, in the order asked
    next: Step | None  # the first step without an answer; None when the flow is done
    steps_answered: int
    seconds: float  # estimated time for the answered steps


def _question(item_id: str) -> Step:
    return Step("question", (item_id,))


_QUESTIONS = {
    i: _question(i)
    for i in (*PHQ9_ITEMS, *ASQ_ITEMS, "asq.5", *GAD2, *SCOPE, *PROFILE, "burnout.single", HISTORY)
}
_MEDICATIONS = Step("medications", ("medications",))


def _checklist(knowledge: Knowledge) -> Step:
    return Step("checklist", tuple(f"medical.{c}" for c in knowledge.conditions))


def _asq_steps(known: Mapping[str, Any]) -> Step | None:
    """ASQ items 1–4, then acuity. Acuity is asked whenever the ASQ is (stricter than NIMH and
    than PRODUCT.md's minimum): an acuity answer always decides safety, so a flow that could
    skip it could reach `candidate` where the full answers say `safety_first`."""
    for item in (*ASQ_ITEMS, "asq.5"):
        if item not in known:
            return _QUESTIONS[item]
    return None


def _asq_due(known: Mapping[str, Any], knowledge: Knowledge, screen: str) -> bool:
    policy = knowledge.policy
    return (
        policy.universal_asq
        or known.get("phq9.9", 0) > 0
        or known.get("burnout.single") == policy.burnout_asq_trigger
        or screen == "positive"
    )


def next_step(knowledge: Knowledge, known: Mapping[str, Any]) -> Step | None:
    """The next step given the answers the flow has asked so far; None when done."""
    if known.get("asq.5") in ASQ_POSITIVE:  # acute risk ends the assessment on crisis help
        return None
    for item in PHQ_FIRST:
        if item not in known:
            return _QUESTIONS[item]
    policy = knowledge.policy
    if known["phq9.9"] > 0 or policy.universal_asq:  # safety first: straight to the ASQ
        step = _asq_steps(known)
        if step:
            return step
    screen = depression_screen(known, policy)
    if screen == "undetermined":
        for item in PHQ_REST:
            if item not in known:
                return _QUESTIONS[item]
    if "burnout.single" not in known:
        return _QUESTIONS["burnout.single"]
    if _asq_due(known, knowledge, screen):
        step = _asq_steps(known)
        if step:
            return step
    for item in GAD2:
        if item not in known:
            return _QUESTIONS[item]
    if screen == "negative" and known["burnout.single"] >= policy.burnout_present:
        for item in SCOPE:
            if item not in known:
                return _QUESTIONS[item]
    for item in PROFILE:
        if item not in known:
            return _QUESTIONS[item]
    if (
        screen == "positive"
        and known["profile.age"] >= policy.min_age
        and known["profile.state"] in policy.service_states
    ):
        return _candidate_steps(knowledge, known)
    return None


def _candidate_steps(knowledge: Knowledge, known: Mapping[str, Any]) -> Step | None:
    checklist = _checklist(knowledge)
    if not all(i in known for i in checklist.ids):
        return checklist
    if "medications" not in known:
        return _MEDICATIONS
    if HISTORY not in known:
        return _QUESTIONS[HISTORY]
    return None


def walk(knowledge: Knowledge, answers: Mapping[str, Any]) -> Walk:
    """Replay the flow: ask, take the answer if given, stop before the first unanswered step."""
    known: dict[str, Any] = {}
    asked: list[str] = []
    seconds = 0.0
    steps = 0
    while True:
        step = next_step(knowledge, known)
        if step is None or any(i not in answers for i in step.ids):
            return Walk(tuple(asked), step, steps, seconds)
        for i in step.ids:
            known[i] = answers[i]
        asked.extend(step.ids)
        seconds += step.seconds
        steps += 1


def remaining_at_most(knowledge: Knowledge, answers: Mapping[str, Any]) -> tuple[int, float]:
    """An honest upper bound on the steps (and seconds) still to come for these answers."""
    w = walk(knowledge, answers)
    if w.next is None:
        return 0, 0.0

    known = {i: answers[i] for i in w.asked}
    steps, seconds = 0, 0.0
    for step in _possible_steps(knowledge, known):
        steps += 1
        seconds += step.seconds
    return steps, seconds


def _possible_steps(knowledge: Knowledge, known: Mapping[str, Any]) -> list[Step]:
    """Every step that some continuation could still ask (each at most once)."""
    policy = knowledge.policy
    screen = depression_screen(known, policy) if all(i in known for i in PHQ_FIRST) else None
    out = [_QUESTIONS[i] for i in PHQ_FIRST if i not in known]
    if screen in (None, "undetermined"):
        out += [_QUESTIONS[i] for i in PHQ_REST if i not in known]
    burnout = known.get("burnout.single")
    if "burnout.single" not in known:
        out.append(_QUESTIONS["burnout.single"])
    item9 = known.get("phq9.9")
    if (
        policy.universal_asq
        or item9 is None
        or item9 > 0
        or burnout is None
        or burnout == policy.burnout_asq_trigger
        or screen != "negative"
    ):
        out += [_QUESTIONS[i] for i in (*ASQ_ITEMS, "asq.5") if i not in known]
    out += [_QUESTIONS[i] for i in GAD2 if i not in known]
    if screen != "positive" and (burnout is None or burnout >= policy.burnout_present):
        out += [_QUESTIONS[i] for i in SCOPE if i not in known]
    out += [_QUESTIONS[i] for i in PROFILE if i not in known]
    age, state = known.get("profile.age"), known.get("profile.state")
    if (
        screen != "negative"
        and (age is None or age >= policy.min_age)
        and (state is None or state in policy.service_states)
    ):
        checklist = _checklist(knowledge)
        if not all(i in known for i in checklist.ids):
            out.append(checklist)
        if "medications" not in known:
            out.append(_MEDICATIONS)
        if HISTORY not in known:
            out.append(_QUESTIONS[HISTORY])
    return out
