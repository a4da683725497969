"""The adaptive eligibility flow (PRODUCT.md, "What the eligibility flow asks").

Order, safety first: PHQ-9 items 1, 2 and 9; the ASQ at once when item 9 > 0; the rest of the
PHQ-9 only while the depression screen is uncertain; the burnout item; the ASQ when its rule says
so (burnout item 5, positive depression screen), always with its acuity question (decision
0002); acute risk (acuity yes or refused) ends the flow; the GAD-2; the scope questions only for
a burnout pattern; state and age; and, for a depression-likely adult in the service area, the
medical checklist, medications and treatment history.

`_replay` is the flow, written once: it asks each step in order, takes the answer when the
answer set has it, stops at the first step it does not, and reads only answers the flow itself
has asked — save one safety exception: an ASQ answer of yes or refused always brings the ASQ.
`walk()` runs it over any answer set to give `items_asked` (the answers a person taking the
flow would have given) and the next step. `evaluate` runs it for every decision, so
it is straight-line code rather than a generator of steps: no per-step objects, and the
depression screen is carried forward as items are asked instead of being recomputed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from crossline.engine.instruments import (
    ASQ_ITEMS,
    ASQ_POSITIVE,
    PHQ9_ITEMS,
    depression_screen,
    screen_of,
)
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
    seconds: float = 0.0  # the burden model's estimate for this screen

    def __post_init__(self) -> None:
        if self.kind == "checklist":
            seconds = SECONDS_PER_CHECKLIST_LINE * len(self.ids)
        elif self.kind == "medications":
            seconds = SECONDS_TO_TYPE_MEDICATIONS
        else:
            seconds = SECONDS_PER_QUESTION
        object.__setattr__(self, "seconds", seconds)


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
    return Step("checklist", knowledge.medical_ids)


ASQ_ALL = (*ASQ_ITEMS, "asq.5")  # items 1-4, then acuity


def _replay(
    knowledge: Knowledge, answers: Mapping[str, Any], asked: list[str]
) -> tuple[Step | None, int]:
    """The flow, once, in order. Asking a step = if `answers` lacks it, stop and return it;
    else append its ids to `asked`. Every condition reads only answers already asked.

    Returns the next step (None when the flow is done) and how many of the two multi-answer
    steps were answered: 0, 1 (the medical checklist) or 2 (the checklist and the medicines).

    The ASQ is items 1–4, then acuity. Acuity is asked whenever the ASQ is (stricter than NIMH
    and than PRODUCT.md's minimum): an acuity answer always decides safety, so a flow that could
    skip it could reach `candidate` where the full answers say `safety_first`.
    """
    policy = knowledge.policy
    ask = asked.append
    for item in PHQ_FIRST:
        if item not in answers:
            return _QUESTIONS[item], 0
        ask(item)
    # The depression screen's parts over the PHQ-9 items asked so far (see `screen_of`).
    q1, q2 = answers["phq9.1"], answers["phq9.2"]
    total, unanswered = 0, len(PHQ9_ITEMS)
    for value in (q1, q2, answers["phq9.9"]):
        if value is not None:
            total += value
            unanswered -= 1
    asq_asked = False
    if answers["phq9.9"] > 0 or policy.universal_asq:  # safety first: straight to the ASQ
        for item in ASQ_ALL:
            if item not in answers:
                return _QUESTIONS[item], 0
            ask(item)
        asq_asked = True
        if answers["asq.5"] in ASQ_POSITIVE:  # acute risk ends the assessment on crisis help
            return None, 0
    screen = screen_of(total, unanswered, q1, q2, policy)
    for item in PHQ_REST:
        if screen != "undetermined":
            break
        if item not in answers:
            return _QUESTIONS[item], 0
        ask(item)
        value = answers[item]
        if value is not None:
            total += value
            unanswered -= 1
        screen = screen_of(total, unanswered, q1, q2, policy)
    if "burnout.single" not in answers:
        return _QUESTIONS["burnout.single"], 0
    ask("burnout.single")
    burnout = answers["burnout.single"]
    # A risk already told on the ASQ brings it too (the one condition that reads answers not yet
    # asked): a person who answered it and then lowered item 9 to 0 keeps what they told in
    # the decision (FACTS §F2: never let a negative item 9 override other red flags). Here, not
    # at item 9: moved there, an acuity "yes" given here would end the flow before the
    # answers that came first.
    if burnout == policy.burnout_asq_trigger or screen == "positive" or _asq_disclosed(answers):
        if not asq_asked:
            for item in ASQ_ALL:
                if item not in answers:
                    return _QUESTIONS[item], 0
                ask(item)
        if answers["asq.5"] in ASQ_POSITIVE:
            return None, 0
    for item in GAD2:
        if item not in answers:
            return _QUESTIONS[item], 0
        ask(item)
    if screen == "negative" and burnout >= policy.burnout_present:
        for item in SCOPE:
            if item not in answers:
                return _QUESTIONS[item], 0
            ask(item)
    for item in PROFILE:
        if item not in answers:
            return _QUESTIONS[item], 0
        ask(item)
    if (
        screen == "positive"
        and answers["profile.age"] >= policy.min_age
        and answers["profile.state"] in policy.service_states
    ):
        checklist = knowledge.medical_ids
        for item in checklist:
            if item not in answers:
                return _checklist(knowledge), 0
        asked.extend(checklist)
        if "medications" not in answers:
            return _MEDICATIONS, 1
        ask("medications")
        if HISTORY not in answers:
            return _QUESTIONS[HISTORY], 2
        ask(HISTORY)
        return None, 2
    return None, 0


def _asq_disclosed(answers: Mapping[str, Any]) -> bool:
    """An ASQ answer (items 1–4 or acuity) of yes or refused is among the answers."""
    get = answers.get
    return any(get(item) in ASQ_POSITIVE for item in ASQ_ALL)


def items_asked(knowledge: Knowledge, answers: Mapping[str, Any]) -> tuple[str, ...]:
    """`walk(knowledge, answers).asked`, without building the rest of the `Walk`."""
    asked: list[str] = []
    _replay(knowledge, answers, asked)
    return tuple(asked)


def next_step(knowledge: Knowledge, known: Mapping[str, Any]) -> Step | None:
    """The next step given the answers the flow has asked so far; None when done."""
    return walk(knowledge, known).next


def walk(knowledge: Knowledge, answers: Mapping[str, Any]) -> Walk:
    """Replay the flow: ask, take the answer if given, stop before the first unanswered step."""
    asked: list[str] = []
    step, multi = _replay(knowledge, answers, asked)
    # Every step but the checklist contributes one id to `asked`; the checklist contributes
    # one per line. (All the per-step seconds are multiples of 0.5, so the sum is exact in
    # any order.)
    questions = len(asked)
    seconds = 0.0
    if multi:
        checklist = _checklist(knowledge)
        questions -= len(checklist.ids)
        seconds += checklist.seconds
        if multi == 2:
            questions -= 1
            seconds += _MEDICATIONS.seconds
    seconds += SECONDS_PER_QUESTION * questions
    return Walk(tuple(asked), step, questions + multi, seconds)


def remaining_at_most(knowledge: Knowledge, answers: Mapping[str, Any]) -> tuple[int, float]:
    """An honest upper bound on the steps (and seconds) still to come for these answers."""
    w = walk(knowledge, answers)
    if w.next is None:
        return 0, 0.0
    known = {i: answers[i] for i in w.asked}
    steps, seconds = 0, 0.0
    for step in _possible_steps(knowledge, known, _asq_disclosed(answers)):
        steps += 1
        seconds += step.seconds
    return steps, seconds


def _possible_steps(
    knowledge: Knowledge, known: Mapping[str, Any], disclosed: bool = False
) -> list[Step]:
    """Every step that some continuation could still ask (each at most once); `disclosed`: a
    risk already told on the ASQ, which brings it whatever the rest says."""
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
        disclosed
        or policy.universal_asq
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
