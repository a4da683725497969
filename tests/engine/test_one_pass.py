"""`rules.decide` — the rules fused into one pass over a per-knowledge plan — gives exactly what
the rule registry gives: `facts_of`, every function of `RULES` in order, `eligibility_of`, the
flags worded one by one by `flag_message`, and the scores of `score`.

The registry (`RULES` and the functions it lists) stays the readable statement of the rules;
`evaluate` runs `decide`, which exists for bench/engine_throughput.py.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from crossline.engine import Knowledge, evaluate
from crossline.engine.instruments import REPORTED_SCALES, SCORE_NAMES, score
from crossline.engine.rules import (
    FLAGGED_EFFECTS,
    RULES,
    SAFETY_FLAGS,
    Finding,
    decide,
    eligibility_of,
    facts_of,
    flag_message,
    plan_of,
)
from tests.engine.personas import depressed_adult_in_florida
from tests.engine.test_properties import ANSWERS, KNOWLEDGE, POLICIES, with_policy

SETTINGS = settings(max_examples=500, deadline=None)
OUTCOMES = {
    "depression_likely": "signs_of_depression",
    "burnout_pattern": "looks_like_burnout",
    "possible_depression": "some_signs_of_depression",
    "low_symptoms": "few_signs",
    "undetermined": "need_more_answers",
}


def reference(k: Knowledge, answers: dict[str, Any], lang: str) -> dict[str, Any]:
    """What `evaluate` computed before the one pass (the code it replaced, verbatim)."""
    facts = facts_of(k, answers)
    findings: list[Finding] = []
    for rule in RULES:
        findings.extend(rule(k, facts))
    eligibility, missing, closing = eligibility_of(k, facts, findings)
    if closing is not None:
        findings.append(closing)
    flags = [
        (f.rule, flag_message(k, f, lang))
        for f in findings
        if f.effect in FLAGGED_EFFECTS or f.rule in SAFETY_FLAGS
    ]
    outcome = (
        "burnout_may_have_become_depression"
        if facts.triage == "depression_likely" and facts.burnout
        else OUTCOMES[facts.triage]
    )
    return {
        "eligibility": eligibility,
        "triage": facts.triage,
        "burnout": facts.burnout,
        "outcome": outcome,
        "safety_level": facts.safety,
        "scores": {n: score(k.scales[n], answers) for n in REPORTED_SCALES},
        "findings": tuple(findings),
        "flags": tuple(flags),
        "missing": tuple(missing),
    }


def observed(k: Knowledge, answers: dict[str, Any], lang: str) -> dict[str, Any]:
    d = evaluate(k, answers, lang)
    return {
        "eligibility": d.eligibility,
        "triage": d.triage,
        "burnout": d.burnout,
        "outcome": d.outcome,
        "safety_level": d.safety_level,
        "scores": dict(d.scores),
        "findings": d.findings,
        "flags": d.flags,
        "missing": d.missing,
    }


@SETTINGS
@given(ANSWERS, POLICIES, st.sampled_from(["en", "es"]))
def test_the_one_pass_decides_as_the_rule_registry(
    answers: dict[str, Any], policy: dict[str, Any], lang: str
) -> None:
    k = with_policy(policy)
    got, expected = observed(k, answers, lang), reference(k, answers, lang)
    assert got == expected
    # Same content, and the same container types (the JSON and repr depend on them).
    assert [repr(f) for f in got["findings"]] == [repr(f) for f in expected["findings"]]
    assert list(got["scores"]) == list(REPORTED_SCALES)


@SETTINGS
@given(ANSWERS)
def test_findings_do_not_share_answer_dicts(answers: dict[str, Any]) -> None:
    safety, *_ = decide(KNOWLEDGE, answers)
    findings = evaluate(KNOWLEDGE, answers).findings
    shared = {id(f.answers) for f in findings}
    # Only the safety rules share one dict between two findings, as they always have.
    assert len(shared) >= len(findings) - (safety != "none")


def test_every_plan_sentence_is_the_one_flag_message_words(knowledge: Knowledge) -> None:
    plan = plan_of(knowledge)
    assert set(plan.flag_texts) == {"en", "es"}
    for lang, texts in plan.flag_texts.items():
        assert texts, lang
        for rule, text in texts.items():
            if rule.startswith(("exclusion.", "exclusion_unsure.")):
                prefix, cid = rule.split(".", 1)
                key = f"medical.{cid}"
                value = "yes" if prefix == "exclusion" else "unsure"
                f = Finding(rule, "exclude", {key: value}, (), {"condition": cid})
            else:
                f = Finding(rule, "review", {}, (), {})
            assert text == flag_message(knowledge, f, lang)


def test_each_knowledge_has_its_own_plan(knowledge: Knowledge) -> None:
    stricter = knowledge.with_policy(universal_asq=True, service_states=["FL"])
    assert plan_of(stricter) is not plan_of(knowledge)
    assert plan_of(knowledge) is plan_of(knowledge)
    # The plan never depends on answers: deciding does not change it.
    before = plan_of(knowledge)
    evaluate(knowledge, depressed_adult_in_florida())
    assert plan_of(knowledge) is before


@SETTINGS
@given(ANSWERS, st.sampled_from(["en", "es"]))
def test_to_dict_gives_each_finding_and_score_as_their_own_to_dict(
    answers: dict[str, Any], lang: str
) -> None:
    d = evaluate(KNOWLEDGE, answers, lang)
    out = d.to_dict()
    assert out["reasons"] == [f.to_dict() for f in d.findings]
    assert out["scores"] == {SCORE_NAMES.get(n, n): s.to_dict() for n, s in d.scores.items()}
    assert list(out["scores"]) == [SCORE_NAMES.get(n, n) for n in REPORTED_SCALES]
