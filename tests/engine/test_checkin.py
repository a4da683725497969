"""Session check-ins (issue 5 item 9): every hold, every alert and emergency, the edges, the
validation, and properties over any answer set.

Thresholds are read from the packaged policy (they change only through a reviewed release); the
edges the issue fixes (140/90, sedation 2/3, 180/120, 120 minutes) are written out too, so a
release that moves them fails here and is seen.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crossline.engine import InvalidInput, Knowledge, assess
from crossline.engine.checkin import (
    ASQ_ALL,
    EMERGENCY_SYMPTOMS,
    PRE_REQUIRED,
    RULES,
    checkin,
    checkin_policy,
    evaluate_checkin,
)
from crossline.knowledge import load, load_from
from tests.engine.test_knowledge_check import copy_knowledge, edit

KNOWLEDGE = load()
SETTINGS = settings(max_examples=200, deadline=None)

# A pre-session check-in with nothing wrong: the session may go ahead.
SAFE_PRE: dict[str, Any] = {
    "vitals.systolic": 128,
    "vitals.diastolic": 82,
    "vitals.pulse": 72,
    "pre.monitor_present": "yes",
    "pre.fasted": "yes",
    "pre.alcohol_today": "no",
    "pre.sedatives_today": "no",
    "pre.stimulants_today": "no",
    "pre.will_drive": "no",
    "pre.new_medications": [],
    "phq9.9": 0,
}
# An after-session check-in with nothing wrong.
CALM_POST: dict[str, Any] = {
    "vitals.systolic": 138,
    "vitals.diastolic": 86,
    "post.sedation": 5,
    "post.dissociation": "mild",
    "post.breathing_problem": "no",
    "post.emergency_symptoms": [],
    "post.minutes_to_baseline": 70,
}
NEGATIVE_ASQ = {"asq.1": "no", "asq.2": "no", "asq.3": "no", "asq.4": "no", "asq.5": "no"}


def pre(**changes: Any) -> dict[str, Any]:
    return _with(SAFE_PRE, changes)


def post(**changes: Any) -> dict[str, Any]:
    return _with(CALM_POST, changes)


def _with(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in changes.items():
        answer_id = key.replace("__", ".")
        if value is None:
            out.pop(answer_id, None)
        else:
            out[answer_id] = value
    return out


def decide(kind: str, answers: dict[str, Any], knowledge: Knowledge = KNOWLEDGE) -> dict[str, Any]:
    return evaluate_checkin(knowledge, kind, answers).to_dict()


def rules_of(decision: dict[str, Any]) -> set[str]:
    return {r["rule"] for r in decision["reasons"]}


# --- the baseline sets ------------------------------------------------------------------------


def test_a_safe_pre_session_check_in_proceeds_with_no_reasons() -> None:
    decision = decide("pre", SAFE_PRE)
    assert decision == {
        "action": "proceed",
        "reasons": [],
        "safety": {"level": "none", "crisis_resources": False, "resources": []},
    }


def test_a_calm_after_session_check_in_is_ok() -> None:
    decision = decide("post", CALM_POST)
    assert decision["action"] == "ok"
    assert decision["reasons"] == []


# --- every hold (table-driven) ----------------------------------------------------------------

HOLDS = [
    ("bp 141/80", pre(vitals__systolic=141), "checkin.pre.bp_high"),
    ("bp 120/91", pre(vitals__diastolic=91), "checkin.pre.bp_high"),
    ("bp 179/119", pre(vitals__systolic=179, vitals__diastolic=119), "checkin.pre.bp_high"),
    ("bp 190/110", pre(vitals__systolic=190, vitals__diastolic=110), "checkin.pre.bp_crisis"),
    ("bp 150/120", pre(vitals__systolic=150, vitals__diastolic=120), "checkin.pre.bp_crisis"),
    ("pulse 101", pre(vitals__pulse=101), "checkin.pre.pulse_high"),
    ("no monitor", pre(pre__monitor_present="no"), "checkin.pre.no_monitor"),
    ("not fasted", pre(pre__fasted="no"), "checkin.pre.not_fasted"),
    ("alcohol", pre(pre__alcohol_today="yes"), "checkin.pre.alcohol_today"),
    ("sedatives", pre(pre__sedatives_today="yes"), "checkin.pre.sedatives_today"),
    ("stimulants", pre(pre__stimulants_today="yes"), "checkin.pre.stimulants_today"),
    ("will drive", pre(pre__will_drive="yes"), "checkin.pre.will_drive"),
    ("new MAOI", pre(pre__new_medications=["Nardil 15 mg"]), "checkin.pre.medication_avoid"),
    (
        "new theophylline",
        pre(pre__new_medications=["sertraline 50 mg", "theophylline"]),
        "checkin.pre.medication_avoid",
    ),
    ("item 9 = 1", pre(phq9__9=1) | NEGATIVE_ASQ, "checkin.pre.safety_positive"),
    ("item 9 = 3", pre(phq9__9=3) | NEGATIVE_ASQ, "checkin.pre.safety_positive"),
    ("missing pulse", pre(vitals__pulse=None), "checkin.pre.missing"),
    ("missing medicines", pre(pre__new_medications=None), "checkin.pre.missing"),
    ("missing item 9", pre(phq9__9=None), "checkin.pre.missing"),
]


@pytest.mark.parametrize(("case", "answers", "rule"), HOLDS, ids=[h[0] for h in HOLDS])
def test_each_unsafe_answer_holds_the_session_and_says_which_rule(
    case: str, answers: dict[str, Any], rule: str
) -> None:
    decision = decide("pre", answers)

    assert decision["action"] == "hold", case
    assert rule in rules_of(decision)
    reason = next(r for r in decision["reasons"] if r["rule"] == rule)
    assert reason["citations"], "every reason cites its source"
    assert all(c in KNOWLEDGE.citations for c in reason["citations"])


def test_a_missing_answer_is_named_in_the_reason_never_counted_as_safe() -> None:
    decision = decide("pre", pre(vitals__pulse=None, pre__fasted=None))
    reason = next(r for r in decision["reasons"] if r["rule"] == "checkin.pre.missing")
    assert reason["answers"] == {"vitals.pulse": None, "pre.fasted": None}


def test_item_9_above_0_needs_the_asq_and_a_missing_asq_answer_is_missing() -> None:
    decision = decide("pre", pre(phq9__9=1))
    missing = next(r for r in decision["reasons"] if r["rule"] == "checkin.pre.missing")
    assert set(missing["answers"]) == set(ASQ_ALL)
    assert decision["safety"]["level"] == "acute", "unknown acuity is treated as acute"


# --- the edges --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("systolic", "diastolic", "pulse", "action"),
    [
        (140, 90, 100, "proceed"),  # at the limits: "above 140/90", "above 100"
        (141, 90, 100, "hold"),
        (140, 91, 100, "hold"),
        (140, 90, 101, "hold"),
    ],
)
def test_the_pre_session_limits_are_above_140_90_and_pulse_above_100(
    systolic: int, diastolic: int, pulse: int, action: str
) -> None:
    answers = pre(vitals__systolic=systolic, vitals__diastolic=diastolic, vitals__pulse=pulse)
    assert decide("pre", answers)["action"] == action


def test_a_reading_in_the_crisis_range_before_a_session_is_one_reason_not_two() -> None:
    """At 180/120 or more (FACTS §B6) the hold says the crisis range — the urgent alert and the
    911 guidance follow from it — not also "above the program limit"."""
    rules = rules_of(decide("pre", pre(vitals__systolic=185, vitals__diastolic=100)))
    assert "checkin.pre.bp_crisis" in rules and "checkin.pre.bp_high" not in rules


def test_the_thresholds_are_the_policy_values_in_the_knowledge_files() -> None:
    p = checkin_policy(KNOWLEDGE)
    assert (p.pre_systolic_above, p.pre_diastolic_above, p.pre_pulse_above) == (140, 90, 100)
    assert (p.crisis_systolic_at_least, p.crisis_diastolic_at_least) == (180, 120)
    assert (p.post_sedation_emergency_at_most, p.post_sedation_alert_at_most) == (2, 3)
    assert p.post_minutes_to_baseline_above == 120


# --- every emergency and alert (table-driven) --------------------------------------------------

E, A = "emergency", "alert"
POST_CASES = [
    ("sedation 0", post(post__sedation=0), E, "checkin.post.sedation_deep"),
    ("sedation 2", post(post__sedation=2), E, "checkin.post.sedation_deep"),
    ("sedation 3", post(post__sedation=3), A, "checkin.post.sedation_moderate"),
    ("breathing", post(post__breathing_problem="yes"), E, "checkin.post.breathing_problem"),
    *[
        (s, post(post__emergency_symptoms=[s]), E, "checkin.post.emergency_symptom")
        for s in EMERGENCY_SYMPTOMS
    ],
    ("dissociation", post(post__dissociation="severe"), A, "checkin.post.dissociation_severe"),
    ("bp 180/100", post(vitals__systolic=180, vitals__diastolic=100), A, "checkin.post.bp_crisis"),
    ("bp 150/120", post(vitals__systolic=150, vitals__diastolic=120), A, "checkin.post.bp_crisis"),
    ("121 minutes", post(post__minutes_to_baseline=121), A, "checkin.post.slow_recovery"),
    ("missing sedation", post(post__sedation=None), A, "checkin.post.missing"),
    ("missing minutes", post(post__minutes_to_baseline=None), A, "checkin.post.missing"),
]


@pytest.mark.parametrize(
    ("case", "answers", "action", "rule"), POST_CASES, ids=[c[0] for c in POST_CASES]
)
def test_each_red_answer_after_a_session_alerts_or_calls_911(
    case: str, answers: dict[str, Any], action: str, rule: str
) -> None:
    decision = decide("post", answers)
    assert decision["action"] == action, case
    assert rule in rules_of(decision)


@pytest.mark.parametrize(
    ("changes", "action"),
    [
        ({"post__sedation": 4}, "ok"),
        ({"post__sedation": 3}, "alert"),
        ({"post__sedation": 2}, "emergency"),
        ({"vitals__systolic": 179, "vitals__diastolic": 119}, "ok"),
        ({"vitals__systolic": 180, "vitals__diastolic": 119}, "alert"),
        ({"vitals__systolic": 179, "vitals__diastolic": 120}, "alert"),
        ({"post__minutes_to_baseline": 120}, "ok"),
        ({"post__minutes_to_baseline": 121}, "alert"),
        ({"post__dissociation": "moderate"}, "ok"),
        ({"post__dissociation": "none"}, "ok"),
    ],
)
def test_the_after_session_edges(changes: dict[str, Any], action: str) -> None:
    assert decide("post", post(**changes))["action"] == action


def test_an_emergency_wins_over_an_alert_and_every_reason_is_reported() -> None:
    answers = post(post__sedation=1, post__minutes_to_baseline=200, vitals__systolic=190)
    decision = decide("post", answers)
    assert decision["action"] == "emergency"
    assert rules_of(decision) == {
        "checkin.post.sedation_deep",
        "checkin.post.slow_recovery",
        "checkin.post.bp_crisis",
    }


def test_after_a_session_the_safety_block_is_present_and_empty() -> None:
    assert decide("post", CALM_POST)["safety"] == {
        "level": "none",
        "crisis_resources": False,
        "resources": [],
    }


# --- medicines --------------------------------------------------------------------------------


def test_a_new_caution_medicine_is_reported_but_does_not_hold() -> None:
    decision = decide("pre", pre(pre__new_medications=["Xanax 0.5 mg"]))
    assert decision["action"] == "proceed"
    assert rules_of(decision) == {"checkin.pre.medication_caution"}
    reason = decision["reasons"][0]
    assert reason["answers"] == {"pre.new_medications": ["Xanax 0.5 mg"]}
    assert set(KNOWLEDGE.medication_classes[KNOWLEDGE.medication_index["xanax"]].citations) <= set(
        reason["citations"]
    )


def test_an_unrecognised_new_medicine_is_reported_and_never_matched_fuzzily() -> None:
    decision = decide("pre", pre(pre__new_medications=["Lamisil", "Frobozzamine"]))
    assert decision["action"] == "proceed"
    assert [r["rule"] for r in decision["reasons"]] == ["checkin.pre.medication_unrecognised"]
    assert decision["reasons"][0]["answers"] == {
        "pre.new_medications": ["Lamisil", "Frobozzamine"]
    }, "Lamisil is not Lamictal: exact names only"


def test_a_medicine_with_no_interaction_of_note_gives_no_reason() -> None:
    assert decide("pre", pre(pre__new_medications=["sertraline 50 mg"]))["reasons"] == []


def test_the_policy_can_make_a_caution_medicine_hold(tmp_path: Path) -> None:
    directory = copy_knowledge(tmp_path)
    edit(
        directory / "policy.toml",
        "hold_on_caution_medication = false",
        "hold_on_caution_medication = true",
    )
    stricter = load_from(directory)
    answers = pre(pre__new_medications=["Xanax 0.5 mg"])
    assert decide("pre", answers, stricter)["action"] == "hold"


# --- safety -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "level"),
    [
        ({"phq9.9": 1, **NEGATIVE_ASQ}, "non_acute"),
        ({"phq9.9": 2, **NEGATIVE_ASQ, "asq.2": "yes"}, "non_acute"),
        ({"phq9.9": 1, **NEGATIVE_ASQ, "asq.5": "yes"}, "acute"),
        ({"phq9.9": 1, **NEGATIVE_ASQ, "asq.5": "refused"}, "acute"),
    ],
)
def test_a_positive_safety_answer_holds_and_mirrors_the_assessment_safety_block(
    extra: dict[str, Any], level: str
) -> None:
    answers = {**SAFE_PRE, **extra}
    decision = decide("pre", answers)
    assert decision["action"] == "hold"
    assert decision["safety"]["level"] == level
    assert decision["safety"] == _assessment_safety(answers)
    assert decision["safety"]["crisis_resources"] is True
    ids = [r["id"] for r in decision["safety"]["resources"]]
    assert ids == [r["id"] for r in _assessment_safety(answers)["resources"]]
    assert "911" in ids and "988_call" in ids
    reason = next(r for r in decision["reasons"] if r["rule"] == "checkin.pre.safety_positive")
    assert reason["answers"]["phq9.9"] == answers["phq9.9"]


def _assessment_safety(answers: dict[str, Any]) -> dict[str, Any]:
    """The assessment decision's safety block for the same safety answers."""
    safety_ids = ("phq9.9", *ASQ_ALL)
    body = {"answers": {i: answers[i] for i in safety_ids if i in answers}}
    return dict(assess(KNOWLEDGE, body).to_dict()["safety"])


def test_crisis_resources_come_in_the_request_language() -> None:
    body = {"kind": "pre", "answers": {**SAFE_PRE, "phq9.9": 1, **NEGATIVE_ASQ}, "language": "es"}
    resources = checkin(KNOWLEDGE, body).to_dict()["safety"]["resources"]
    assert resources[0]["label"] == KNOWLEDGE.resources[0].label["es"]


# --- validation -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "answers", "field"),
    [
        ("pre", pre(vitals__systolic="141"), "vitals.systolic"),
        ("pre", pre(vitals__systolic=141.0), "vitals.systolic"),
        ("pre", pre(vitals__systolic=True), "vitals.systolic"),
        ("pre", pre(vitals__systolic=301), "vitals.systolic"),
        ("pre", pre(vitals__diastolic=29), "vitals.diastolic"),
        ("pre", pre(vitals__pulse=251), "vitals.pulse"),
        ("pre", pre(pre__fasted="maybe"), "pre.fasted"),
        ("pre", pre(pre__new_medications="Xanax"), "pre.new_medications"),
        ("pre", pre(pre__new_medications=[""]), "pre.new_medications[0]"),
        ("pre", pre(phq9__9=4), "phq9.9"),
        ("pre", pre(**{"asq.1": "no"}), "asq.1"),  # item 9 is 0: the ASQ is not asked
        ("pre", pre(**{"post.sedation": 5}), "post.sedation"),
        ("pre", pre(**{"pre.mood": "ok"}), "pre.mood"),
        ("post", post(post__sedation=6), "post.sedation"),
        ("post", post(post__dissociation="extreme"), "post.dissociation"),
        ("post", post(post__emergency_symptoms=["hiccups"]), "post.emergency_symptoms[0]"),
        ("post", post(post__emergency_symptoms="seizure"), "post.emergency_symptoms"),
        ("post", post(post__emergency_symptoms=["seizure", "seizure"]), "post.emergency_symptoms"),
        ("post", post(post__minutes_to_baseline=-1), "post.minutes_to_baseline"),
        ("post", post(**{"pre.fasted": "yes"}), "pre.fasted"),
    ],
)
def test_invalid_answers_are_refused_naming_the_field(
    kind: str, answers: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidInput) as exc:
        evaluate_checkin(KNOWLEDGE, kind, answers)
    assert field in [e.field for e in exc.value.errors]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ([], "$"),
        ({"answers": {}}, "kind"),
        ({"kind": "during", "answers": {}}, "kind"),
        ({"kind": "pre"}, "answers"),
        ({"kind": "pre", "answers": []}, "answers"),
        ({"kind": "pre", "answers": {}, "language": "fr"}, "language"),
        ({"kind": "pre", "answers": {}, "extra": 1}, "extra"),
    ],
)
def test_an_invalid_request_body_is_refused_naming_the_field(body: Any, field: str) -> None:
    with pytest.raises(InvalidInput) as exc:
        checkin(KNOWLEDGE, body)
    assert field in [e.field for e in exc.value.errors]


def test_a_free_text_note_is_accepted_and_never_required_or_evaluated() -> None:
    assert decide("pre", pre(**{"pre.note": "a new rash on my arm"}))["action"] == "proceed"
    assert decide("pre", SAFE_PRE)["action"] == "proceed"


# --- the registry -----------------------------------------------------------------------------


def test_every_rule_is_in_the_checkin_knowledge_table_with_citations() -> None:
    table = KNOWLEDGE.docs["checkin.toml"]["rules"]
    assert set(table) == set(RULES)
    for rule in RULES:
        assert rule.startswith(("checkin.pre.", "checkin.post."))
        assert table[rule]["citations"]


# --- properties -------------------------------------------------------------------------------

PRE_VALUES: dict[str, Any] = {
    "vitals.systolic": st.integers(50, 300),
    "vitals.diastolic": st.integers(30, 200),
    "vitals.pulse": st.integers(20, 250),
    **{i: st.sampled_from(["yes", "no"]) for i in PRE_REQUIRED if i.startswith("pre.")},
    "pre.new_medications": st.lists(
        st.sampled_from(["sertraline 50 mg", "Xanax 0.5 mg", "Nardil 15 mg", "Frobozzamine"]),
        max_size=3,
    ),
    "phq9.9": st.integers(0, 3),
}
ASQ_VALUES = st.sampled_from(["no", "no", "yes", "refused"])


@st.composite
def pre_answers(draw: st.DrawFn) -> dict[str, Any]:
    """Any valid pre-session answer set: each id present or not, the ASQ only after item 9 > 0."""
    answers = {i: draw(v) for i, v in PRE_VALUES.items() if draw(st.booleans())}
    if answers.get("phq9.9", 0) > 0:
        answers |= {i: draw(ASQ_VALUES) for i in ASQ_ALL if draw(st.booleans())}
    return answers


@SETTINGS
@given(pre_answers())
def test_any_missing_pre_session_answer_holds(answers: dict[str, Any]) -> None:
    if all(i in answers for i in PRE_REQUIRED):
        answers = {k: v for k, v in answers.items() if k != "pre.fasted"}
    assert decide("pre", answers)["action"] == "hold"


@SETTINGS
@given(pre_answers(), st.integers(1, 3), st.sampled_from([*ASQ_ALL, None]), ASQ_VALUES)
def test_any_positive_safety_answer_holds_and_gives_crisis_resources(
    answers: dict[str, Any], item9: int, asq: str | None, value: str
) -> None:
    answers = {**answers, "phq9.9": item9}
    if asq is not None:
        answers[asq] = value
    decision = decide("pre", answers)
    assert decision["action"] == "hold"
    assert decision["safety"]["crisis_resources"] is True
    assert decision["safety"]["resources"]
    assert "checkin.pre.safety_positive" in rules_of(decision)


@SETTINGS
@given(pre_answers(), st.data())
def test_removing_a_hold_reason_never_turns_proceed_into_hold(
    answers: dict[str, Any], data: st.DataObject
) -> None:
    """Making one answer safer (a reading at the limit, a yes/no to its safe value, a medicine
    dropped) can only keep or lift a hold — never create one."""
    complete = {**SAFE_PRE, **answers}
    before = decide("pre", complete)["action"]
    safer = dict(complete)
    key = data.draw(st.sampled_from(sorted(k for k in complete if not k.startswith("asq."))))
    safe_value = {**SAFE_PRE, "vitals.systolic": 140, "vitals.diastolic": 90, "vitals.pulse": 100}
    if key == "phq9.9":
        safer = {k: v for k, v in safer.items() if not k.startswith("asq.")}
    safer[key] = safe_value[key]
    after = decide("pre", safer)["action"]
    assert not (before == "proceed" and after == "hold")


@SETTINGS
@given(pre_answers())
def test_a_pre_decision_holds_exactly_when_a_holding_rule_applied(answers: dict[str, Any]) -> None:
    decision = evaluate_checkin(KNOWLEDGE, "pre", answers)
    holding = [r for r in decision.reasons if r.effect == "hold"]
    assert (decision.action == "hold") == bool(holding)
    assert decision.to_dict()["action"] in ("proceed", "hold")


def test_nausea_is_recorded_after_the_session_but_raises_nothing() -> None:
    from crossline.engine.checkin import evaluate_checkin

    answers = {**post(), "post.nausea": "yes"}
    decision = evaluate_checkin(KNOWLEDGE, "post", answers)
    assert decision.action == "ok" and decision.reasons == ()
    with pytest.raises(InvalidInput) as caught:
        evaluate_checkin(KNOWLEDGE, "post", {**post(), "post.nausea": "a little"})
    assert [e.field for e in caught.value.errors] == ["post.nausea"]
