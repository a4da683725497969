"""Golden clinical cases (data/golden_cases.toml) and the shape of every decision.

The cases are the clinical specification as data: a reviewer can read and extend them without
reading Python. The tests below them pin what every decision carries (PRODUCT.md, "The decision").
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from crossline.engine import Knowledge
from tests.engine.conftest import Decide
from tests.engine.personas import (
    PERSONAS,
    acute_risk,
    burned_out_not_depressed,
    depressed_adult_in_florida,
    non_acute_risk,
    teen,
    without,
)

CASES = tomllib.loads((Path(__file__).parent / "data" / "golden_cases.toml").read_text())["cases"]
NULL = "null"


def _none(value: Any) -> Any:
    return None if value == NULL else value


def answers_of(case: dict[str, Any]) -> dict[str, Any]:
    base = PERSONAS[case["persona"]]() if "persona" in case else {}
    return without({**base, **case.get("answers", {})}, *case.get("remove", []))


def knowledge_of(case: dict[str, Any], knowledge: Knowledge) -> Knowledge:
    return knowledge.with_policy(**case["policy"]) if "policy" in case else knowledge


def test_golden_case_names_are_unique() -> None:
    names = [c["name"] for c in CASES]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_golden_case(case: dict[str, Any], knowledge: Knowledge, decide: Decide) -> None:
    d = decide(answers_of(case), case.get("language", "en"), knowledge_of(case, knowledge))
    expect = case["expect"]
    rules = [r["rule"] for r in d["reasons"]]
    flags = [f["rule"] for f in d["flags"]]
    effects = {r["rule"]: r["effect"] for r in d["reasons"]}

    for key in ("eligibility", "triage", "outcome"):
        if key in expect:
            assert d[key] == expect[key], key
    if "burnout" in expect:
        assert d["burnout"] == _none(expect["burnout"])
    if "safety" in expect:
        assert d["safety"]["level"] == expect["safety"]
    if "crisis_resources" in expect:
        assert d["safety"]["crisis_resources"] is expect["crisis_resources"]
    if "missing" in expect:
        assert sorted(d["missing"]) == sorted(expect["missing"])
    assert set(expect.get("missing_includes", [])) <= set(d["missing"])
    assert set(expect.get("rules", [])) <= set(rules), rules
    assert not set(expect.get("no_rules", [])) & set(rules), rules
    assert set(expect.get("flags", [])) <= set(flags), flags
    assert not set(expect.get("no_flags", [])) & set(flags), flags
    for rule, effect in expect.get("effects", {}).items():
        assert effects[rule] == effect, rule
    for name, score in expect.get("scores", {}).items():
        assert d["scores"][name] == {k: _none(v) for k, v in score.items()}, name


# --- every decision carries the whole contract ----------------------------------------------

DECISION_FIELDS = {
    "eligibility",
    "triage",
    "burnout",
    "safety",
    "scores",
    "reasons",
    "sources",
    "flags",
    "missing",
    "items_asked",
    "engine_version",
    "knowledge_version",
    "policy_version",
}
SCORE_NAMES = {"phq2", "phq9", "gad2", "gad7", "burnout_single"}
EFFECTS = {"route", "exclude", "review", "safety", "note"}


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_every_decision_has_every_contract_field(
    case: dict[str, Any], knowledge: Knowledge, decide: Decide
) -> None:
    d = decide(answers_of(case), case.get("language", "en"), knowledge_of(case, knowledge))
    assert set(d) >= DECISION_FIELDS
    assert set(d["safety"]) >= {"level", "crisis_resources", "resources"}
    assert set(d["scores"]) == SCORE_NAMES
    for score in d["scores"].values():
        assert set(score) == {"total", "band", "complete"}
    assert isinstance(d["missing"], list)
    assert isinstance(d["items_asked"], list)
    for reason in d["reasons"]:
        assert set(reason) == {"rule", "effect", "answers", "citations"}
        assert reason["effect"] in EFFECTS
        assert isinstance(reason["answers"], dict)
        assert reason["citations"], f"{reason['rule']} cites nothing"
        assert set(reason["citations"]) <= set(d["sources"]), reason["rule"]
    for flag in d["flags"]:
        assert set(flag) == {"rule", "message"}
        assert flag["message"].strip()


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_crisis_resources_are_shown_exactly_when_there_is_a_risk(
    case: dict[str, Any], knowledge: Knowledge, decide: Decide
) -> None:
    d = decide(answers_of(case), case.get("language", "en"), knowledge_of(case, knowledge))
    at_risk = d["safety"]["level"] != "none"
    assert d["safety"]["crisis_resources"] is at_risk
    assert bool(d["safety"]["resources"]) is at_risk


def test_every_source_is_cited_by_some_reason(decide: Decide) -> None:
    d = decide(acute_risk({"medical.pregnant": "yes", "profile.age": 19}))
    cited = {c for r in d["reasons"] for c in r["citations"]}
    assert set(d["sources"]) == cited
    assert all(isinstance(text, str) and text for text in d["sources"].values())


def test_program_policy_sources_are_shown_as_program_policy_not_evidence(decide: Decide) -> None:
    d = decide(depressed_adult_in_florida({"history.antidepressant_trials": 2}))
    assert d["sources"]["policy.treatment_resistance_flag"].startswith("Program policy")
    assert not d["sources"]["S1"].startswith("Program policy")


# --- crisis resources ------------------------------------------------------------------------

CRISIS_IDS = {"988_call", "988_text", "988_chat", "988_spanish", "veterans", "911"}


def test_acute_risk_shows_the_988_resources_veterans_and_911(decide: Decide) -> None:
    resources = decide(acute_risk())["safety"]["resources"]
    assert {r["id"] for r in resources} >= CRISIS_IDS
    by_id = {r["id"]: r for r in resources}
    assert by_id["988_call"]["contact"] == "tel:988"
    assert by_id["988_text"]["contact"] == "sms:988"
    assert by_id["911"]["contact"] == "tel:911"
    assert all(set(r) == {"id", "label", "contact"} for r in resources)


def test_non_acute_risk_shows_crisis_resources_too(decide: Decide) -> None:
    safety = decide(non_acute_risk())["safety"]
    assert safety["level"] == "non_acute"
    assert {r["id"] for r in safety["resources"]} >= CRISIS_IDS


def test_no_risk_shows_no_crisis_resources(decide: Decide) -> None:
    safety = decide(depressed_adult_in_florida({"asq.5": "no"}))["safety"]
    assert safety == {"level": "none", "crisis_resources": False, "resources": []}


def test_crisis_resources_are_labelled_in_english_for_an_english_decision(decide: Decide) -> None:
    by_id = {r["id"]: r for r in decide(acute_risk(), "en")["safety"]["resources"]}
    assert by_id["911"]["label"] == "In immediate danger: call 911"
    assert by_id["988_spanish"]["label"].startswith("En español: call 988 and press 2")
    assert by_id["988_chat"]["contact"] == "https://988lifeline.org/"


def test_crisis_resources_are_labelled_in_spanish_for_a_spanish_decision(decide: Decide) -> None:
    by_id = {r["id"]: r for r in decide(acute_risk(), "es")["safety"]["resources"]}
    assert by_id["911"]["label"] == "Si está en peligro inmediato: llame al 911"
    # Every Spanish route is the Spanish one (SPANISH.md §E.2): press 2, text AYUDA.
    assert by_id["988_text"]["label"] == "Envíe AYUDA al 988 por mensaje de texto (en español)"
    assert by_id["988_call"]["label"].startswith("Llame al 988 y oprima 2 para hablar en español")
    assert "988 Línea de Prevención del Suicidio y Crisis" in by_id["988_call"]["label"]
    assert by_id["988_spanish"]["label"] == (
        "En español: llame al 988 y oprima 2, o envíe AYUDA al 988"
    )
    assert by_id["veterans"]["label"].startswith("Veteranos: marque 988 y oprima 1")
    assert by_id["988_chat"]["contact"] == "https://988lifeline.org/es/inicio/"


def test_no_crisis_resource_mentions_the_discontinued_press_3(decide: Decide) -> None:
    for language in ("en", "es"):
        for r in decide(acute_risk(), language)["safety"]["resources"]:
            assert "press 3" not in r["label"] and "oprima 3" not in r["label"]


# --- flags speak the decision's language -------------------------------------------------------


def test_flags_are_written_in_spanish_for_a_spanish_decision(decide: Decide) -> None:
    answers = depressed_adult_in_florida({"profile.age": 19, "medical.glaucoma": "yes"})
    messages = {f["rule"]: f["message"] for f in decide(answers, "es")["flags"]}
    assert messages["review.age_18_24"].startswith("Edad 18–24")
    assert messages["review.glaucoma"].startswith("Glaucoma o presión ocular elevada")
    assert decide(answers, "es")["language"] == "es"


def test_an_unsure_exclusion_flag_names_the_condition(decide: Decide) -> None:
    flags = decide(depressed_adult_in_florida({"medical.pregnant": "unsure"}))["flags"]
    message = {f["rule"]: f["message"] for f in flags}["exclusion_unsure.pregnant"]
    assert "not sure" in message and "Pregnancy" in message


def test_the_treatment_resistance_flag_reports_three_or_more_as_3_plus(decide: Decide) -> None:
    answers = depressed_adult_in_florida({"history.antidepressant_trials": 3})
    flags = {f["rule"]: f["message"] for f in decide(answers)["flags"]}
    assert "self-reported 3+ antidepressant" in flags["review.treatment_resistance"]


def test_the_blood_pressure_flag_quotes_the_reading(decide: Decide) -> None:
    answers = depressed_adult_in_florida({"medical.bp_systolic": 141, "medical.bp_diastolic": 80})
    flags = {f["rule"]: f["message"] for f in decide(answers)["flags"]}
    assert "141/80 mmHg" in flags["review.bp_reading"]


# --- reasons say which answers made them apply -------------------------------------------------


def test_a_reason_lists_the_answers_that_triggered_it(decide: Decide) -> None:
    reasons = {r["rule"]: r for r in decide(acute_risk())["reasons"]}
    assert reasons["safety.positive_screen"]["answers"] == {
        "phq9.9": 2,
        "asq.1": "yes",
        "asq.3": "yes",
    }
    assert reasons["safety.acute"]["answers"] == {"asq.5": "yes"}


def test_a_burnout_pattern_reason_carries_the_scope_answers(decide: Decide) -> None:
    reasons = {r["rule"]: r for r in decide(burned_out_not_depressed())["reasons"]}
    assert reasons["triage.burnout_pattern"]["answers"] == {
        "burnout.single": 4,
        "scope.where": "work",
        "scope.time_off": "lifts",
    }


def test_the_decision_reports_versions(knowledge: Knowledge, decide: Decide) -> None:
    d = decide(teen())
    assert d["knowledge_version"] == knowledge.version
    assert d["knowledge_version"].startswith("sha256:")
    assert d["policy_version"] == knowledge.policy.version
    assert d["engine_version"]


def test_changing_operator_policy_changes_the_policy_version_only(
    knowledge: Knowledge, decide: Decide
) -> None:
    stricter = knowledge.with_policy(universal_asq=True)
    d = decide(teen(), "en", stricter)
    assert d["policy_version"] != knowledge.policy.version
    assert d["knowledge_version"] == knowledge.version


def test_the_lifelines_name_is_one_configurable_string() -> None:
    """`{lifeline}` in a resource's texts is resources.toml [names] lifeline, in each language
    (SPANISH.md §E: the Spanish name's sources disagree; keep it one string to change)."""
    from crossline.engine.knowledge import _resource

    names = {"lifeline": {"en": "the Lifeline", "es": "la Línea"}}
    raw = {
        "id": "x",
        "label": {"en": "Call {lifeline}", "es": "Llame a {lifeline}"},
        "contact": "tel:988",
    }
    r = _resource(raw, names)
    assert r.label == {"en": "Call the Lifeline", "es": "Llame a la Línea"}
    assert r.short == r.label
