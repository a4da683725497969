"""The medication check: exact names after normalisation, never fuzzy (Lamisil is not Lamictal).

Golden matcher cases live in data/medication_cases.toml; the decision-level behaviour of each
kind of medicine is specified below (PRODUCT.md, "Exclusions", "Review flags").
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from crossline.engine import Knowledge
from crossline.engine.medications import match
from tests.engine.conftest import Decide
from tests.engine.personas import burned_out_not_depressed, depressed_adult_in_florida

CASES = tomllib.loads((Path(__file__).parent / "data" / "medication_cases.toml").read_text())[
    "cases"
]


def class_of(knowledge: Knowledge, entry: str) -> str | None:
    return match(entry, knowledge.medication_index, knowledge.medication_max_words).class_id


def taking(*medications: str) -> dict[str, Any]:
    return depressed_adult_in_florida({"medications": list(medications)})


def reasons_by_rule(d: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["rule"]: r for r in d["reasons"]}


def flags_by_rule(d: dict[str, Any]) -> dict[str, str]:
    return {f["rule"]: f["message"] for f in d["flags"]}


@pytest.mark.parametrize("case", CASES, ids=[c["input"] for c in CASES])
def test_medication_case(case: dict[str, str], knowledge: Knowledge) -> None:
    expected = None if case["class"] == "unrecognised" else case["class"]
    assert class_of(knowledge, case["input"]) == expected


def test_every_class_in_the_cases_exists_in_the_knowledge(knowledge: Knowledge) -> None:
    named = {c["class"] for c in CASES} - {"unrecognised", "none"}
    assert named <= set(knowledge.medication_classes)


def test_every_name_in_the_knowledge_matches_its_own_class(knowledge: Knowledge) -> None:
    wrong = [
        (name, cid, class_of(knowledge, name))
        for cid, cls in knowledge.medication_classes.items()
        for name in cls.names
        if class_of(knowledge, name) != cid
    ]
    assert wrong == []


def test_every_name_matches_with_a_dose_and_in_capitals(knowledge: Knowledge) -> None:
    wrong = [
        name
        for cid, cls in knowledge.medication_classes.items()
        for name in cls.names
        if class_of(knowledge, f"{name.upper()} 10 mg twice daily") != cid
    ]
    assert wrong == []


def test_lamisil_never_matches_lamictal(knowledge: Knowledge) -> None:
    assert class_of(knowledge, "Lamictal 100 mg") == "lamotrigine"
    for entry in ("Lamisil", "lamisil 250 mg", "LAMISIL", "Lamisil cream"):
        assert class_of(knowledge, entry) is None


def test_a_misspelt_name_is_unrecognised_not_guessed(knowledge: Knowledge) -> None:
    assert class_of(knowledge, "Xanax") == "benzodiazepine"
    assert class_of(knowledge, "Xanex") is None
    assert class_of(knowledge, "Xana") is None


def test_words_after_a_name_must_all_be_dose_words(knowledge: Knowledge) -> None:
    assert class_of(knowledge, "Adderall XR 20 mg every morning") == "stimulant"
    assert class_of(knowledge, "Adderall for focus") is None


# --- in the decision --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("entry", "rule"),
    [
        ("Nardil 15 mg", "medication.maoi"),
        ("Emsam patch 6 mg", "medication.maoi"),
        ("theophylline 300 mg", "medication.theophylline"),
        ("Aminophylline", "medication.theophylline"),
    ],
)
def test_an_avoid_medicine_makes_a_depressed_adult_not_a_candidate(
    entry: str, rule: str, decide: Decide
) -> None:
    d = decide(taking("sertraline 50 mg", entry))
    assert d["eligibility"] == "not_candidate"
    assert reasons_by_rule(d)[rule]["effect"] == "exclude"
    assert reasons_by_rule(d)[rule]["answers"] == {"medications": [entry]}
    assert rule in flags_by_rule(d)


@pytest.mark.parametrize(
    ("entry", "rule"),
    [
        ("Xanax 0.5 mg twice daily", "medication.benzodiazepine"),
        ("oxycodone 5 mg", "medication.opioid"),
        ("Adderall XR 20 mg", "medication.stimulant"),
        ("Lamictal 100 mg", "medication.lamotrigine"),
        ("memantine", "medication.nmda_antagonist"),
    ],
)
def test_a_caution_or_monitor_medicine_is_a_review_flag_for_a_candidate(
    entry: str, rule: str, decide: Decide
) -> None:
    d = decide(taking(entry))
    assert d["eligibility"] == "candidate"
    assert reasons_by_rule(d)[rule]["effect"] == "review"
    assert entry in flags_by_rule(d)[rule]


def test_medicines_of_one_class_are_reported_together(decide: Decide) -> None:
    d = decide(taking("Xanax 0.5 mg", "Klonopin 1 mg"))
    reason = reasons_by_rule(d)["medication.benzodiazepine"]
    assert reason["answers"] == {"medications": ["Xanax 0.5 mg", "Klonopin 1 mg"]}
    assert [f["rule"] for f in d["flags"]].count("medication.benzodiazepine") == 1


def test_a_medicine_with_no_interaction_of_note_is_a_note_and_raises_no_flag(
    decide: Decide,
) -> None:
    d = decide(taking("Zoloft 50 mg daily", "bupropion XL 150 mg"))
    assert d["eligibility"] == "candidate"
    assert reasons_by_rule(d)["medication.no_interaction"]["effect"] == "note"
    assert "medication.no_interaction" not in flags_by_rule(d)
    assert "medication.unrecognised" not in reasons_by_rule(d)


def test_an_unrecognised_medicine_is_flagged_with_the_name_as_typed(decide: Decide) -> None:
    d = decide(taking("Frobozzamine 10 mg"))
    assert d["eligibility"] == "candidate"
    assert reasons_by_rule(d)["medication.unrecognised"]["effect"] == "review"
    assert "Frobozzamine 10 mg" in flags_by_rule(d)["medication.unrecognised"]


def test_each_unrecognised_medicine_gets_its_own_flag(decide: Decide) -> None:
    d = decide(taking("Lamisil", "Nemenda"))
    messages = [f["message"] for f in d["flags"] if f["rule"] == "medication.unrecognised"]
    assert len(messages) == 2
    assert any("Lamisil" in m for m in messages) and any("Nemenda" in m for m in messages)
    assert "medication.lamotrigine" not in reasons_by_rule(d)


def test_an_empty_medication_list_means_none(decide: Decide) -> None:
    d = decide(taking())
    assert d["eligibility"] == "candidate"
    assert not [r for r in d["reasons"] if r["rule"].startswith("medication.")]


def test_an_entry_saying_none_means_no_medicines(decide: Decide) -> None:
    for entry in ("none", "None", "n/a", "ninguno"):
        d = decide(taking(entry))
        assert d["eligibility"] == "candidate"
        assert not [r for r in d["reasons"] if r["rule"].startswith("medication.")]


def test_an_avoid_medicine_never_makes_a_burnout_only_result_a_candidate(decide: Decide) -> None:
    d = decide(burned_out_not_depressed({"medications": ["Nardil"]}))
    assert d["eligibility"] == "not_indicated"


def test_the_medicine_flag_is_in_spanish_for_a_spanish_decision(decide: Decide) -> None:
    d = decide(taking("Xanax 0.5 mg"), "es")
    assert flags_by_rule(d)["medication.benzodiazepine"].startswith("Benzodiacepina")
    d = decide(taking("Frobozzamine"), "es")
    assert flags_by_rule(d)["medication.unrecognised"] == (
        "Medicamento no reconocido “Frobozzamine”: revisar."
    )


def test_tylenol_number_3_is_an_opioid_though_plain_tylenol_is_not(knowledge: Knowledge) -> None:
    assert class_of(knowledge, "Tylenol #3") == "opioid"
    assert class_of(knowledge, "Tylenol with Codeine #3") == "opioid"
    assert class_of(knowledge, "Tylenol 500 mg") == "no_interaction"


def test_an_entry_naming_two_medicines_is_unrecognised_not_half_matched(
    knowledge: Knowledge,
) -> None:
    assert class_of(knowledge, "sertraline and phenelzine") is None
    assert class_of(knowledge, "Zoloft, Xanax") is None
