"""The approval rules, the adequate-failed-trial count and the interaction re-check: pure functions,
specified without Django or a database (PRODUCT.md "Evaluation and course rules")."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crossline.evaluation import interactions
from crossline.evaluation.rules import (
    ApprovalFacts,
    Resolution,
    Trial,
    adequate_failed_trials,
    unmet_requirements,
)
from crossline.knowledge import load

K = load()

# Everything in order: a positive screen with a documented low risk, one flag cleared, the legal
# basis in force, the PDMP checked, depression confirmed.
COMPLETE = ApprovalFacts(
    safety_level="non_acute",
    diagnosis="yes",
    risk_level="low",
    risk_justification="Passive thoughts last month, no plan or intent; strong supports.",
    safety_plan="Stanley-Brown plan reviewed; 988 saved; partner aware.",
    flags={"safety.non_acute": Resolution("confirmed", "Assessed at the visit.")},
    avoid=(),
    telemedicine_basis_in_force=True,
    in_person_recorded=False,
    pdmp_recorded=True,
    under_age=False,
    state="FL",
    service_states=("FL", "NJ"),
)


def codes(facts: ApprovalFacts) -> list[str]:
    return [u.code for u in unmet_requirements(facts)]


def test_a_complete_evaluation_may_be_approved() -> None:
    assert unmet_requirements(COMPLETE) == []


# Each rule alone: one change to the complete evaluation, exactly one requirement unmet.
ALONE = {
    "diagnosis_no": (replace(COMPLETE, diagnosis="no"), "diagnosis"),
    "diagnosis_uncertain": (replace(COMPLETE, diagnosis="uncertain"), "diagnosis"),
    "diagnosis_blank": (replace(COMPLETE, diagnosis=""), "diagnosis"),
    "flag_unresolved": (
        replace(COMPLETE, flags={"safety.non_acute": Resolution()}),
        "flag:safety.non_acute",
    ),
    "flag_without_note": (
        replace(COMPLETE, flags={"safety.non_acute": Resolution("cleared", "  ")}),
        "flag:safety.non_acute",
    ),
    "flag_with_unknown_status": (
        replace(COMPLETE, flags={"safety.non_acute": Resolution("maybe", "note")}),
        "flag:safety.non_acute",
    ),
    "avoid_interaction": (replace(COMPLETE, avoid=("Nardil (MAOI)",)), "interaction_avoid"),
    "risk_level_missing": (replace(COMPLETE, risk_level=""), "risk_assessment"),
    "risk_justification_missing": (replace(COMPLETE, risk_justification=" "), "risk_assessment"),
    "safety_plan_missing": (replace(COMPLETE, safety_plan=""), "risk_assessment"),
    "risk_high": (replace(COMPLETE, risk_level="high"), "risk_high"),
    "no_legal_basis": (replace(COMPLETE, telemedicine_basis_in_force=False), "legal_basis"),
    "no_pdmp": (replace(COMPLETE, pdmp_recorded=False), "pdmp"),
    "under_age": (replace(COMPLETE, under_age=True), "under_age"),
    "age_unknown": (replace(COMPLETE, age_unknown=True), "age_unknown"),
    "outside_the_service_area": (replace(COMPLETE, state="TX"), "service_area"),
    "a_state_no_longer_served": (replace(COMPLETE, service_states=("NJ",)), "service_area"),
}


@pytest.mark.parametrize(("facts", "code"), ALONE.values(), ids=ALONE.keys())
def test_each_requirement_alone_blocks_approval(facts: ApprovalFacts, code: str) -> None:
    assert codes(facts) == [code]


def test_a_recorded_in_person_evaluation_stands_in_for_the_telemedicine_basis() -> None:
    facts = replace(COMPLETE, telemedicine_basis_in_force=False, in_person_recorded=True)
    assert unmet_requirements(facts) == []


@pytest.mark.parametrize("level", ["low", "moderate"])
def test_low_and_moderate_documented_risk_allow_approval(level: str) -> None:
    assert unmet_requirements(replace(COMPLETE, risk_level=level)) == []


def test_no_risk_assessment_is_needed_when_the_screen_was_negative() -> None:
    facts = replace(COMPLETE, safety_level="none", risk_level="", safety_plan="", flags={})
    assert unmet_requirements(facts) == []


def test_a_documented_high_risk_refuses_approval_even_after_a_negative_screen() -> None:
    # The clinician may find high risk at the visit although the screen was negative.
    facts = replace(COMPLETE, safety_level="none", flags={}, risk_level="high")
    assert codes(facts) == ["risk_high"]


def test_high_risk_with_missing_documentation_reports_both() -> None:
    facts = replace(COMPLETE, risk_level="high", safety_plan="")
    assert codes(facts) == ["risk_assessment", "risk_high"]


def test_the_service_area_message_names_the_state_and_the_states_served() -> None:
    (unmet,) = unmet_requirements(replace(COMPLETE, state="TX"))
    assert "(TX) is not one of the program's service states (FL, NJ)" in unmet.message
    assert "policy.service_area" in unmet.message


def test_the_risk_message_names_every_missing_part() -> None:
    facts = replace(COMPLETE, risk_level="", risk_justification="", safety_plan="")
    (unmet,) = unmet_requirements(facts)
    assert unmet.field == "risk_level"
    assert "risk level, justification, safety plan missing" in unmet.message


def test_every_unresolved_flag_is_named() -> None:
    flags = {
        "safety.non_acute": Resolution(),
        "medication.benzodiazepine": Resolution("confirmed", "Takes 0.5 mg at night."),
        "review.age_18_24": Resolution("cleared", ""),
    }
    unmet = unmet_requirements(replace(COMPLETE, flags=flags))
    assert [u.code for u in unmet] == ["flag:safety.non_acute", "flag:review.age_18_24"]
    assert [u.field for u in unmet] == ["safety.non_acute", "review.age_18_24"]


def test_all_rules_together_are_all_reported_in_form_order() -> None:
    facts = ApprovalFacts(
        safety_level="acute",
        flags={"safety.acute": Resolution()},
        avoid=("theophylline",),
        under_age=True,
        state="TX",
        service_states=("FL", "NJ"),
    )
    assert codes(facts) == [
        "under_age",
        "service_area",
        "diagnosis",
        "flag:safety.acute",
        "interaction_avoid",
        "risk_assessment",
        "legal_basis",
        "pdmp",
    ]


BREAKERS = {
    "diagnosis": lambda f: replace(f, diagnosis="uncertain"),
    "flag:safety.non_acute": lambda f: replace(f, flags={"safety.non_acute": Resolution()}),
    "interaction_avoid": lambda f: replace(f, avoid=("Parnate",)),
    "risk_high": lambda f: replace(f, risk_level="high"),
    "legal_basis": lambda f: replace(f, telemedicine_basis_in_force=False),
    "pdmp": lambda f: replace(f, pdmp_recorded=False),
    "under_age": lambda f: replace(f, under_age=True),
    "service_area": lambda f: replace(f, state="GA"),
}


@given(st.sets(st.sampled_from(sorted(BREAKERS))))
def test_any_combination_of_breaches_reports_exactly_those_breaches(broken: set[str]) -> None:
    facts = COMPLETE
    for code in broken:
        facts = BREAKERS[code](facts)
    assert set(codes(facts)) == broken


@given(
    safety=st.sampled_from(["none", "non_acute", "acute"]),
    diagnosis=st.sampled_from(["", "yes", "no", "uncertain"]),
    risk=st.sampled_from(["", "low", "moderate", "high"]),
    justification=st.text(max_size=3),
    plan=st.text(max_size=3),
    resolutions=st.lists(
        st.tuples(st.sampled_from(["", "confirmed", "cleared"]), st.text(max_size=3)), max_size=3
    ),
    avoid=st.lists(st.text(min_size=1, max_size=5), max_size=2),
    basis=st.booleans(),
    in_person=st.booleans(),
    pdmp=st.booleans(),
    under_age=st.booleans(),
)
def test_approval_is_possible_exactly_when_every_rule_holds(
    safety: str,
    diagnosis: str,
    risk: str,
    justification: str,
    plan: str,
    resolutions: list[tuple[str, str]],
    avoid: list[str],
    basis: bool,
    in_person: bool,
    pdmp: bool,
    under_age: bool,
) -> None:
    flags = {f"flag.{i}": Resolution(s, n) for i, (s, n) in enumerate(resolutions)}
    facts = ApprovalFacts(
        safety_level=safety,
        diagnosis=diagnosis,
        risk_level=risk,
        risk_justification=justification,
        safety_plan=plan,
        flags=flags,
        avoid=tuple(avoid),
        telemedicine_basis_in_force=basis,
        in_person_recorded=in_person,
        pdmp_recorded=pdmp,
        under_age=under_age,
    )
    documented = risk != "" and bool(justification.strip()) and bool(plan.strip())
    risk_ok = (safety == "none" or documented) and risk != "high"
    expected = (
        diagnosis == "yes"
        and all(r.status in ("confirmed", "cleared") and r.note.strip() for r in flags.values())
        and not avoid
        and risk_ok
        and (basis or in_person)
        and pdmp
        and not under_age
    )
    assert (unmet_requirements(facts) == []) == expected


# --- treatment history ------------------------------------------------------------------------

WEEKS = int(K.docs["policy.toml"]["evaluation"]["adequate_trial_weeks"])


def test_the_adequate_trial_duration_is_a_cited_policy_value() -> None:
    cites = K.docs["policy.toml"]["evaluation"]["citations"]["adequate_trial_weeks"]
    assert WEEKS == 6
    assert all(c in K.citations for c in cites)
    assert K.citations["policy.adequate_trial"].type == "policy"


def test_adequate_failed_trials_need_adequate_dose_duration_and_no_or_partial_response() -> None:
    trials = [
        Trial("sertraline", True, WEEKS, "no_response"),  # counts
        Trial("escitalopram", True, 12, "partial"),  # counts
        Trial("bupropion", True, WEEKS - 1, "no_response"),  # too short
        Trial("venlafaxine", False, 10, "no_response"),  # dose not adequate
        Trial("mirtazapine", True, 8, "response"),  # worked
        Trial("duloxetine", True, 8, "side_effects"),  # intolerance, not failure
    ]
    assert adequate_failed_trials(trials, WEEKS) == 2
    assert adequate_failed_trials([], WEEKS) == 0


@given(st.lists(st.tuples(st.booleans(), st.integers(0, 30), st.sampled_from(
    ["no_response", "partial", "response", "side_effects"]))))  # fmt: skip
def test_the_count_never_exceeds_the_trials_and_ignores_order(
    rows: list[tuple[bool, int, str]],
) -> None:
    trials = [Trial(f"drug {i}", a, w, o) for i, (a, w, o) in enumerate(rows)]
    count = adequate_failed_trials(trials, WEEKS)
    assert 0 <= count <= len(trials)
    assert adequate_failed_trials(list(reversed(trials)), WEEKS) == count


# --- the interaction re-check --------------------------------------------------------------


def test_an_maoi_added_at_reconciliation_is_an_avoid_interaction() -> None:
    checked = interactions.check(K, ["sertraline 50 mg daily", "Nardil 15 mg"])
    assert [(i.entry, i.class_id, i.severity) for i in checked] == [
        ("sertraline 50 mg daily", "no_interaction", "none"),
        ("Nardil 15 mg", "maoi", "avoid"),
    ]
    assert [i.entry for i in interactions.avoided(checked)] == ["Nardil 15 mg"]
    assert "S43" in checked[1].citations


def test_a_benzodiazepine_added_at_reconciliation_is_a_review_item() -> None:
    checked = interactions.check(K, ["Xanax 0.5 mg at night"])
    assert checked[0].severity == "caution" and checked[0].rule == "medication.benzodiazepine"
    items = interactions.review_items(K, checked)
    assert list(items) == ["medication.benzodiazepine"]
    assert "Xanax 0.5 mg at night" in items["medication.benzodiazepine"]
    assert not interactions.avoided(checked)


def test_names_are_matched_exactly_never_fuzzily() -> None:
    (lamisil,) = interactions.check(K, ["Lamisil 250 mg"])
    assert lamisil.class_id is None and lamisil.severity == "unrecognised"
    assert interactions.review_items(K, [lamisil]) == {
        "medication.unrecognised": "Medicine not recognised by its exact name — review "
        "(Lamisil 250 mg)."
    }
    (lamictal,) = interactions.check(K, ["Lamictal"])
    assert lamictal.class_id == "lamotrigine" and lamictal.severity == "monitor"
