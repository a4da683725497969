"""The engine's fast paths give exactly what the plain code they replaced gave.

They exist for bench/engine_throughput.py. Each reference below is the code a fast path
replaced, kept here verbatim: the flow as a generator of steps (with the one rule added since),
glued-unit splitting with a group template, the full NFKD fold, and scores and validation
without precomputed tables.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import FrozenInstanceError, dataclass, fields
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crossline.engine import Decision, InvalidInput, Knowledge, evaluate, parse_answers, walk
from crossline.engine._frozen import slot_setters
from crossline.engine.contract import _check
from crossline.engine.errors import FieldError
from crossline.engine.flow import (
    _MEDICATIONS,
    _QUESTIONS,
    GAD2,
    HISTORY,
    PHQ_FIRST,
    PHQ_REST,
    PROFILE,
    SCOPE,
    Step,
    Walk,
    _checklist,
)
from crossline.engine.instruments import (
    ASQ_ITEMS,
    ASQ_POSITIVE,
    REPORTED_SCALES,
    Score,
    depression_screen,
    score,
)
from crossline.engine.knowledge import US_STATES
from crossline.engine.medications import _GLUED_UNIT, _fold, tokens
from crossline.engine.rules import Finding, _finding
from tests.engine.test_properties import ANSWERS, KNOWLEDGE, POLICIES, with_policy

SETTINGS = settings(max_examples=300, deadline=None)


# --- the flow: the generator it was written as before ------------------------------------------


def _reference_asq(known: Mapping[str, Any]) -> Iterator[Step]:
    for item in (*ASQ_ITEMS, "asq.5"):
        if item not in known:
            yield _QUESTIONS[item]


def _reference_steps(
    knowledge: Knowledge, known: Mapping[str, Any], answers: Mapping[str, Any]
) -> Iterator[Step]:
    policy = knowledge.policy
    for item in PHQ_FIRST:
        yield _QUESTIONS[item]
    if known["phq9.9"] > 0 or policy.universal_asq:
        yield from _reference_asq(known)
        if known["asq.5"] in ASQ_POSITIVE:
            return
    screen = depression_screen(known, policy)
    for item in PHQ_REST:
        if screen != "undetermined":
            break
        yield _QUESTIONS[item]
        screen = depression_screen(known, policy)
    yield _QUESTIONS["burnout.single"]
    burnout = known["burnout.single"]
    # The one rule added since the generator was replaced: a risk told on the ASQ (in the
    # whole answer set, asked or not) brings the ASQ.
    disclosed = any(answers.get(i) in ASQ_POSITIVE for i in (*ASQ_ITEMS, "asq.5"))
    if burnout == policy.burnout_asq_trigger or screen == "positive" or disclosed:
        yield from _reference_asq(known)
        if known.get("asq.5") in ASQ_POSITIVE:
            return
    yield from (_QUESTIONS[i] for i in GAD2)
    if screen == "negative" and burnout >= policy.burnout_present:
        yield from (_QUESTIONS[i] for i in SCOPE)
    yield from (_QUESTIONS[i] for i in PROFILE)
    if (
        screen == "positive"
        and known["profile.age"] >= policy.min_age
        and known["profile.state"] in policy.service_states
    ):
        yield _checklist(knowledge)
        yield _MEDICATIONS
        yield _QUESTIONS[HISTORY]


def reference_walk(knowledge: Knowledge, answers: Mapping[str, Any]) -> Walk:
    known: dict[str, Any] = {}
    asked: list[str] = []
    seconds = 0.0
    steps = 0
    for step in _reference_steps(knowledge, known, answers):
        ids = step.ids
        if len(ids) == 1:
            item = ids[0]
            if item not in answers:
                return Walk(tuple(asked), step, steps, seconds)
            known[item] = answers[item]
            asked.append(item)
        else:
            if any(i not in answers for i in ids):
                return Walk(tuple(asked), step, steps, seconds)
            for i in ids:
                known[i] = answers[i]
            asked.extend(ids)
        seconds += step.seconds
        steps += 1
    return Walk(tuple(asked), None, steps, seconds)


@SETTINGS
@given(ANSWERS, POLICIES)
def test_walk_is_the_generator_flow_it_replaced(
    answers: dict[str, Any], policy: dict[str, Any]
) -> None:
    k = with_policy(policy)
    assert walk(k, answers) == reference_walk(k, answers)


@SETTINGS
@given(ANSWERS, POLICIES, st.data())
def test_walk_matches_at_every_point_of_the_flow(
    answers: dict[str, Any], policy: dict[str, Any], data: st.DataObject
) -> None:
    k = with_policy(policy)
    asked = reference_walk(k, answers).asked
    cut = data.draw(st.integers(0, len(asked)))
    known = {i: answers[i] for i in asked[:cut]}
    assert walk(k, known) == reference_walk(k, known)
    assert evaluate(k, known).items_asked == reference_walk(k, known).asked


# --- scores: the table built with the knowledge -------------------------------------------------


def test_every_precomputed_score_is_the_score_it_stands_for(knowledge: Knowledge) -> None:
    for scale in knowledge.scales.values():
        assert len(scale.scores) == scale.max_total + 1
        for total, s in enumerate(scale.scores):
            assert s == Score(total, scale.band(total), True)


@SETTINGS
@given(ANSWERS)
def test_scores_are_computed_as_before(answers: dict[str, Any]) -> None:
    for name in REPORTED_SCALES:
        scale = KNOWLEDGE.scales[name]
        values = [answers.get(i) for i in scale.items]
        if any(v is None for v in values):
            expected = Score(None, None, False)
        else:
            expected = Score(sum(values), scale.band(sum(values)), True)
        assert score(scale, answers) == expected


def test_a_total_outside_the_table_is_still_scored() -> None:
    scale = KNOWLEDGE.scales["phq2"]
    items = dict.fromkeys(scale.items, 7)  # not valid answers, but score() must not index wrongly
    assert score(scale, items) == Score(14, scale.band(14), True)
    items = dict.fromkeys(scale.items, -1)
    assert score(scale, items) == Score(-2, scale.band(-2), True)


# --- validation: the fast path accepts exactly what the full check accepts ----------------------

ODD_VALUES: list[Any] = [
    None,
    True,
    False,
    0,
    1,
    2,
    3,
    4,
    -1,
    17,
    18,
    120,
    121,
    300,
    2.0,
    "0",
    "1",
    "yes",
    "no",
    "unsure",
    "refused",
    "maybe",
    "FL",
    " nj ",
    "ZZ",
    "",
    [],
    ["sertraline"],
    {},
    10**20,
]


def _reference_parse(
    knowledge: Knowledge, raw: dict[str, Any]
) -> dict[str, Any] | list[FieldError]:
    errors: list[FieldError] = []
    out: dict[str, Any] = {}
    for key, value in raw.items():
        item = knowledge.items.get(key)
        if item is None:
            errors.append(FieldError(str(key), "unknown item id"))
            continue
        checked = _check(item, value, errors)
        if checked is not None:
            out[key] = checked
    return errors or out


def test_validation_accepts_and_rejects_every_value_as_the_full_check(knowledge: Knowledge) -> None:
    for item in knowledge.items.values():
        values = [*ODD_VALUES, *item.values]
        if item.int_range is not None:
            lo, hi = item.int_range
            values += [lo - 1, lo, hi, hi + 1]
        for value in values:
            raw = {item.id: value}
            try:
                got: dict[str, Any] | list[FieldError] = parse_answers(knowledge, raw)
            except InvalidInput as exc:
                got = list(exc.errors)
            assert got == _reference_parse(knowledge, raw), (item.id, value)


def test_every_state_spelling_validates_as_the_full_check(knowledge: Knowledge) -> None:
    states = [i for i in knowledge.items.values() if i.input == "us_state"]
    assert states
    for item in states:
        assert knowledge.accepted_strings[item.id] == US_STATES
        for code in sorted(US_STATES):
            for value in (code, code.lower(), f" {code} ", code.title(), f"{code}X"):
                raw = {item.id: value}
                try:
                    got: dict[str, Any] | list[FieldError] = parse_answers(knowledge, raw)
                except InvalidInput as exc:
                    got = list(exc.errors)
                assert got == _reference_parse(knowledge, raw), value


# --- medication names: the same tokens ----------------------------------------------------------

_REFERENCE_GLUED = re.compile(r"(\d)([a-z%])")


def _reference_fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    ascii_only = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    lowered = ascii_only.lower().replace("’", "").replace("'", "").replace("#", "")
    kept = re.sub(r"[^a-z0-9\-./% ]+", " ", lowered)
    return re.sub(r"(?<!\d)\.|\.(?!\d)", "", kept)


MEDICINE_TEXT = st.text(
    alphabet=st.sampled_from("0123456789 abcmgxrXR%./-'#’éñÜ\u0301"), max_size=30
)


@settings(max_examples=1000, deadline=None)
@given(MEDICINE_TEXT)
def test_medicine_entries_fold_and_split_as_before(text: str) -> None:
    folded = _reference_fold(text)
    assert _fold(text) == folded
    assert _GLUED_UNIT.sub(" ", folded) == _REFERENCE_GLUED.sub(r"\1 \2", folded)
    assert tokens(text) == _REFERENCE_GLUED.sub(r"\1 \2", folded).split()


# --- frozen values built through their slots ----------------------------------------------------


def test_findings_and_decisions_built_through_slots_equal_their_constructors(
    knowledge: Knowledge,
) -> None:
    f = _finding("screen.depression_positive", "route", {"phq9.1": 3}, ("kroenke2001",), {})
    assert f == Finding("screen.depression_positive", "route", {"phq9.1": 3}, ("kroenke2001",))
    assert repr(f) == repr(
        Finding("screen.depression_positive", "route", {"phq9.1": 3}, ("kroenke2001",))
    )
    d = evaluate(knowledge, {"phq9.1": 3, "phq9.2": 3, "phq9.9": 0}, "es")
    rebuilt = Decision(**{field.name: getattr(d, field.name) for field in fields(Decision)})
    assert d == rebuilt and repr(d) == repr(rebuilt)
    for frozen, name in ((f, "rule"), (d, "eligibility")):
        with pytest.raises(FrozenInstanceError):
            setattr(frozen, name, "changed")


def test_slot_setters_refuse_classes_they_would_build_wrongly() -> None:
    @dataclass(frozen=True, slots=True)
    class Derived:
        a: int
        b: int = 0

        def __post_init__(self) -> None:
            object.__setattr__(self, "b", self.a * 2)

    with pytest.raises(TypeError):
        slot_setters(Derived)
    assert len(slot_setters(Finding)) == len(fields(Finding))
