"""The adaptive eligibility flow (PRODUCT.md, "What the eligibility flow asks" and `items_asked`).

`walk(knowledge, answers)` replays the flow: ask, take the answer if given, stop before the first
unanswered step. So `walk(...).asked` is what a person with these answers would have been asked.
"""

from __future__ import annotations

from typing import Any

from crossline.engine import Knowledge, next_step, remaining_at_most, walk
from tests.engine.conftest import Decide
from tests.engine.personas import (
    ASQ_SCREEN_IDS,
    CHECKLIST_IDS,
    GAD7_IDS,
    PHQ9_IDS,
    acute_risk,
    burned_out_not_depressed,
    depressed_adult_in_florida,
    few_symptoms,
    mild_depression_without_burnout,
    non_acute_risk,
    out_of_area,
    teen,
    without,
)

PHQ_REST = ("phq9.3", "phq9.4", "phq9.5", "phq9.6", "phq9.7", "phq9.8")
CANDIDATE_STEPS = {*CHECKLIST_IDS, "medications", "history.antidepressant_trials"}


def asked(knowledge: Knowledge, answers: dict[str, Any]) -> list[str]:
    return list(walk(knowledge, answers).asked)


def next_ids(knowledge: Knowledge, known: dict[str, Any]) -> tuple[str, ...] | None:
    step = next_step(knowledge, known)
    return None if step is None else step.ids


def test_the_flow_opens_with_phq9_items_1_2_and_9(knowledge: Knowledge) -> None:
    assert next_ids(knowledge, {}) == ("phq9.1",)
    assert next_ids(knowledge, {"phq9.1": 0}) == ("phq9.2",)
    assert next_ids(knowledge, {"phq9.1": 0, "phq9.2": 0}) == ("phq9.9",)
    assert asked(knowledge, depressed_adult_in_florida())[:3] == ["phq9.1", "phq9.2", "phq9.9"]


def test_item_9_above_0_goes_straight_to_the_asq_and_then_acuity(knowledge: Knowledge) -> None:
    answers = non_acute_risk({"phq9.1": 0, "phq9.2": 0})
    assert asked(knowledge, answers)[:8] == [
        "phq9.1",
        "phq9.2",
        "phq9.9",
        "asq.1",
        "asq.2",
        "asq.3",
        "asq.4",
        "asq.5",
    ]


def test_acuity_is_asked_after_item_9_above_0_even_when_every_asq_answer_is_no(
    knowledge: Knowledge,
) -> None:
    known = {"phq9.1": 1, "phq9.2": 1, "phq9.9": 1, "asq.1": "no", "asq.2": "no"}
    known |= {"asq.3": "no", "asq.4": "no"}
    assert next_ids(knowledge, known) == ("asq.5",)


def test_a_risk_disclosed_on_the_asq_keeps_the_asq_asked_when_item_9_is_lowered_to_0(
    knowledge: Knowledge, decide: Decide
) -> None:
    # A person answered item 9 above 0, then the ASQ (a past attempt, not now), then went back
    # and changed item 9 to 0: what they disclosed still counts (FACTS §F2).
    answers = few_symptoms({"asq.1": "no", "asq.2": "no", "asq.3": "no", "asq.4": "yes"})
    answers |= {"asq.5": "no"}
    steps = asked(knowledge, answers)
    assert steps[3] == "burnout.single"  # in the flow's order: where the ASQ would come next
    assert steps[4:9] == ["asq.1", "asq.2", "asq.3", "asq.4", "asq.5"]
    decision = decide(answers)
    assert decision["safety"]["level"] == "non_acute"
    assert {i: answers[i] for i in decision["items_asked"]} == answers


def test_a_partly_answered_asq_with_a_yes_asks_the_rest_of_it_and_acuity(
    knowledge: Knowledge,
) -> None:
    assert next_ids(knowledge, {"phq9.1": 0, "phq9.2": 0, "phq9.9": 0, "asq.1": "yes"}) == (
        "burnout.single",
    )
    known = {"phq9.1": 0, "phq9.2": 0, "phq9.9": 0, "asq.1": "yes", "burnout.single": 2}
    assert next_ids(knowledge, known) == ("asq.2",)
    known |= {"asq.2": "no", "asq.3": "no", "asq.4": "no"}
    assert next_ids(knowledge, known) == ("asq.5",)
    assert next_ids(knowledge, known | {"asq.5": "refused"}) is None  # acute: the flow ends


def test_an_acute_answer_told_late_keeps_every_answer_given_before_it(
    knowledge: Knowledge, decide: Decide
) -> None:
    # Item 9 of 0, a positive screen brings the ASQ after the burnout item; acuity "yes" ends
    # the flow there, with the PHQ-9 and the burnout answers still in the decision.
    answers = {f"phq9.{i}": 2 for i in range(1, 9)} | {"phq9.9": 0, "burnout.single": 3}
    answers |= {"asq.1": "yes", "asq.2": "no", "asq.3": "no", "asq.4": "no", "asq.5": "yes"}
    decision = decide(answers)
    assert decision["safety"]["level"] == "acute"
    assert {"phq9.3", "burnout.single", "asq.5"} <= set(decision["items_asked"])


def test_asq_answers_of_no_alone_do_not_bring_the_asq_back_when_item_9_is_0(
    knowledge: Knowledge,
) -> None:
    answers = few_symptoms({i: "no" for i in ASQ_SCREEN_IDS})
    assert not {*ASQ_SCREEN_IDS} & set(asked(knowledge, answers))


def test_a_phq2_below_the_gate_skips_the_rest_of_the_phq9(knowledge: Knowledge) -> None:
    answers = few_symptoms({f"phq9.{i}": 3 for i in range(3, 9)})
    steps = asked(knowledge, answers)
    assert not set(PHQ_REST) & set(steps)
    assert steps[3] == "burnout.single"


def test_the_rest_of_the_phq9_stops_once_the_screen_is_positive(knowledge: Knowledge) -> None:
    # 2 + 2 + 0, then 2, 2, 1, 1: the answered items reach 10 at item 6.
    steps = asked(knowledge, depressed_adult_in_florida())
    assert steps[3:7] == ["phq9.3", "phq9.4", "phq9.5", "phq9.6"]
    assert "phq9.7" not in steps and "phq9.8" not in steps


def test_the_rest_of_the_phq9_stops_once_the_screen_cannot_be_positive(
    knowledge: Knowledge,
) -> None:
    # PHQ-2 of 2 meets the gate; after items 3–6 at 0, 2 + 3 × 2 < 10 — negative for certain.
    answers = mild_depression_without_burnout(
        {"phq9.1": 1, "phq9.2": 1, **{i: 0 for i in PHQ_REST}}
    )
    steps = asked(knowledge, answers)
    assert [s for s in steps if s.startswith("phq9.")] == [
        "phq9.1",
        "phq9.2",
        "phq9.9",
        "phq9.3",
        "phq9.4",
        "phq9.5",
        "phq9.6",
    ]


def test_the_rest_of_the_phq9_is_asked_while_the_screen_is_uncertain(knowledge: Knowledge) -> None:
    assert next_ids(knowledge, {"phq9.1": 1, "phq9.2": 1, "phq9.9": 0}) == ("phq9.3",)


def test_the_asq_with_its_acuity_question_is_asked_of_a_positive_depression_screen(
    knowledge: Knowledge,
) -> None:
    # Acuity is asked whenever the ASQ is, even when items 1-4 are all "no" (decision 0002):
    # an acuity answer always decides safety, so the flow must never skip it.
    steps = asked(knowledge, depressed_adult_in_florida({"asq.5": "no"}))
    assert set(ASQ_SCREEN_IDS) <= set(steps)
    assert "asq.5" in steps


def test_a_yes_on_the_asq_brings_the_acuity_question(knowledge: Knowledge) -> None:
    steps = asked(knowledge, depressed_adult_in_florida({"asq.2": "yes", "asq.5": "no"}))
    assert steps[steps.index("asq.4") + 1] == "asq.5"


def test_the_asq_is_asked_when_burnout_is_at_the_worst_level(knowledge: Knowledge) -> None:
    answers = burned_out_not_depressed({"burnout.single": 5, **{i: "no" for i in ASQ_SCREEN_IDS}})
    steps = asked(knowledge, answers)
    assert steps[steps.index("burnout.single") + 1] == "asq.1"


def test_the_asq_is_not_asked_of_a_burnout_pattern_without_risk_signs(
    knowledge: Knowledge,
) -> None:
    answers = burned_out_not_depressed({i: "no" for i in ASQ_SCREEN_IDS})
    assert not set(ASQ_SCREEN_IDS) & set(asked(knowledge, answers))


def test_universal_asq_asks_the_asq_of_everyone_right_after_the_opening_items(
    knowledge: Knowledge,
) -> None:
    universal = knowledge.with_policy(universal_asq=True)
    known = {"phq9.1": 0, "phq9.2": 0, "phq9.9": 0}
    assert next_ids(knowledge, known) == ("burnout.single",)
    assert next_ids(universal, known) == ("asq.1",)
    answers = few_symptoms({i: "no" for i in ASQ_SCREEN_IDS})
    assert set(ASQ_SCREEN_IDS) <= set(asked(universal, answers))


def test_the_gad2_is_asked_but_not_the_rest_of_the_gad7(knowledge: Knowledge) -> None:
    answers = depressed_adult_in_florida({i: 1 for i in GAD7_IDS})
    steps = asked(knowledge, answers)
    assert "gad7.1" in steps and "gad7.2" in steps
    assert not set(GAD7_IDS[2:]) & set(steps)


def test_the_phq9_difficulty_item_is_never_asked_at_intake(knowledge: Knowledge) -> None:
    answers = depressed_adult_in_florida({"phq9.difficulty": 2})
    assert "phq9.difficulty" not in asked(knowledge, answers)


def test_scope_is_asked_only_when_burnout_is_present_and_the_screen_negative(
    knowledge: Knowledge,
) -> None:
    scope = {"scope.where": "work", "scope.time_off": "lifts"}
    assert {"scope.where", "scope.time_off"} <= set(asked(knowledge, burned_out_not_depressed()))
    for answers in (
        depressed_adult_in_florida(scope),  # burned out, but the screen is positive
        few_symptoms(scope),  # screen negative, but no burnout
        mild_depression_without_burnout(scope),
    ):
        assert not {"scope.where", "scope.time_off"} & set(asked(knowledge, answers))


def test_state_and_age_are_asked_of_everyone(knowledge: Knowledge) -> None:
    for answers in (few_symptoms(), burned_out_not_depressed(), depressed_adult_in_florida()):
        assert {"profile.state", "profile.age"} <= set(asked(knowledge, answers))


def test_a_depression_likely_adult_in_the_area_is_asked_checklist_medicines_and_history(
    knowledge: Knowledge,
) -> None:
    steps = asked(knowledge, depressed_adult_in_florida())
    assert steps[-21:] == [*CHECKLIST_IDS, "medications", "history.antidepressant_trials"]
    assert walk(knowledge, depressed_adult_in_florida()).next is None


def test_the_checklist_is_one_step_and_the_medicines_another(knowledge: Knowledge) -> None:
    answers = without(depressed_adult_in_florida(), *CHECKLIST_IDS)
    step = walk(knowledge, answers).next
    assert step is not None
    assert (step.kind, step.ids) == ("checklist", CHECKLIST_IDS)
    step = walk(knowledge, without(depressed_adult_in_florida(), "medications")).next
    assert step is not None
    assert (step.kind, step.ids) == ("medications", ("medications",))


def test_nobody_else_is_asked_the_checklist_medicines_or_history(knowledge: Knowledge) -> None:
    extra = depressed_adult_in_florida()
    candidate_answers = {k: v for k, v in extra.items() if k in CANDIDATE_STEPS}
    for answers in (
        teen(),
        out_of_area(),
        burned_out_not_depressed(candidate_answers),
        few_symptoms(candidate_answers),
    ):
        assert not CANDIDATE_STEPS & set(asked(knowledge, answers))
        assert walk(knowledge, answers).next is None


def test_a_program_service_state_changes_who_is_asked_the_checklist(knowledge: Knowledge) -> None:
    texas = knowledge.with_policy(service_states=["FL", "NJ", "TX"])
    assert set(asked(texas, out_of_area())) >= CANDIDATE_STEPS


def test_items_asked_stops_before_the_first_unanswered_step(knowledge: Knowledge) -> None:
    answers = without(depressed_adult_in_florida(), "burnout.single")
    w = walk(knowledge, answers)
    assert list(w.asked) == ["phq9.1", "phq9.2", "phq9.9", *PHQ_REST[:4]]
    assert w.next is not None and w.next.ids == ("burnout.single",)


def test_items_asked_stops_at_a_partly_answered_checklist(knowledge: Knowledge) -> None:
    answers = without(depressed_adult_in_florida(), "medical.glaucoma")
    steps = asked(knowledge, answers)
    assert steps[-1] == "profile.age"
    assert not set(CHECKLIST_IDS) & set(steps)


def test_the_decision_reports_the_replay_as_items_asked(
    knowledge: Knowledge, decide: Decide
) -> None:
    for answers in (depressed_adult_in_florida(), acute_risk(), burned_out_not_depressed()):
        assert decide(answers)["items_asked"] == asked(knowledge, answers)


def test_the_safety_questions_come_before_the_burnout_item(knowledge: Knowledge) -> None:
    steps = asked(knowledge, acute_risk({"asq.5": "no"}))
    assert steps.index("asq.5") < steps.index("burnout.single")


def test_acute_risk_ends_the_flow_on_crisis_help(knowledge: Knowledge) -> None:
    # Acuity yes or refused: nothing more is asked (PRODUCT.md: acute risk ends the assessment).
    for acuity in ("yes", "refused"):
        steps = asked(knowledge, acute_risk({"asq.5": acuity}))
        assert steps[-1] == "asq.5"
        assert walk(knowledge, acute_risk({"asq.5": acuity})).next is None


def test_remaining_is_zero_when_the_flow_is_done(knowledge: Knowledge) -> None:
    for answers in (depressed_adult_in_florida(), burned_out_not_depressed(), teen()):
        assert walk(knowledge, answers).next is None
        assert remaining_at_most(knowledge, answers) == (0, 0.0)


def test_remaining_is_positive_before_the_flow_is_done(knowledge: Knowledge) -> None:
    steps, seconds = remaining_at_most(knowledge, {})
    assert steps > 0 and seconds > 0


def test_remaining_is_an_upper_bound_at_every_point_of_a_walk(knowledge: Knowledge) -> None:
    for person in (depressed_adult_in_florida(), acute_risk(), burned_out_not_depressed()):
        full = walk(knowledge, person)
        known: dict[str, Any] = {}
        for i, item in enumerate(full.asked):
            steps, _ = remaining_at_most(knowledge, known)
            left = full.steps_answered - walk(knowledge, known).steps_answered
            assert 0 <= left <= steps, (item, i)
            known[item] = person[item]


def test_the_time_estimate_counts_a_checklist_line_and_typing_medicines(
    knowledge: Knowledge,
) -> None:
    w = walk(knowledge, depressed_adult_in_florida())
    questions = len(w.asked) - len(CHECKLIST_IDS) - 1
    assert w.seconds == 5.0 * questions + 1.5 * len(CHECKLIST_IDS) + 10.0


def test_phq9_item_ids_cover_the_instrument(knowledge: Knowledge) -> None:
    assert set(PHQ9_IDS) == set(knowledge.scales["phq9"].items)
