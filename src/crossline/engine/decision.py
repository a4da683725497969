"""evaluate(): answers in, an honest, explained, safe decision out. Pure: no I/O, no clock."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from crossline import __version__
from crossline.engine._frozen import new_instance, slot_setters
from crossline.engine.contract import parse_request
from crossline.engine.flow import items_asked
from crossline.engine.instruments import (
    INCOMPLETE,
    REPORTED_SCALES,
    SCORE_NAMES,
    Score,
    score,
    score_of_total,
)
from crossline.engine.knowledge import Knowledge
from crossline.engine.rules import (
    FLAGGED_EFFECTS,
    SAFETY_FLAGS,
    Finding,
    decide,
    flag_message,
    plan_of,
)

__all__ = ["ENGINE_VERSION", "Decision", "assess", "evaluate", "flag_message"]

ENGINE_VERSION = __version__

_OUTCOMES = {
    "depression_likely": "signs_of_depression",
    "burnout_pattern": "looks_like_burnout",
    "possible_depression": "some_signs_of_depression",
    "low_symptoms": "few_signs",
    "undetermined": "need_more_answers",
}


@dataclass(frozen=True, slots=True)
class Decision:
    eligibility: str
    triage: str
    burnout: bool | None
    outcome: str
    safety_level: str
    scores: Mapping[str, Score]
    findings: tuple[Finding, ...]
    flags: tuple[tuple[str, str], ...]
    missing: tuple[str, ...]
    items_asked: tuple[str, ...]
    language: str
    knowledge: Knowledge

    @property
    def citations(self) -> list[str]:
        seen: dict[str, None] = {}
        for f in self.findings:
            for c in f.citations:
                seen.setdefault(c, None)
        return list(seen)

    def to_dict(self) -> dict[str, Any]:
        k, lang = self.knowledge, self.language
        crisis = self.safety_level != "none"
        # The reasons, and each cited source once in order of first citation (= `citations`).
        references = k.citations
        reasons = []
        sources: dict[str, str] = {}
        for f in self.findings:
            citations = f.citations
            # = f.to_dict(), without a call per finding
            reasons.append(
                {
                    "rule": f.rule,
                    "effect": f.effect,
                    "answers": dict(f.answers),
                    "citations": list(citations),
                }
            )
            for c in citations:
                if c not in sources:
                    sources[c] = references[c].reference
        # = {SCORE_NAMES.get(n, n): s.to_dict() …}, without a call per score
        scores = {}
        for n, s in self.scores.items():
            scores[SCORE_NAMES.get(n, n)] = {
                "total": s.total,
                "band": s.band,
                "complete": s.complete,
            }
        return {
            "eligibility": self.eligibility,
            "triage": self.triage,
            "burnout": self.burnout,
            "outcome": self.outcome,
            "safety": {
                "level": self.safety_level,
                "crisis_resources": crisis,
                "resources": [
                    {"id": r.id, "label": r.label[lang], "contact": r.contact[lang]}
                    for r in k.resources
                ]
                if crisis
                else [],
            },
            "scores": scores,
            "reasons": reasons,
            "sources": sources,
            "flags": [{"rule": r, "message": m} for r, m in self.flags],
            "missing": list(self.missing),
            "items_asked": list(self.items_asked),
            "language": lang,
            "engine_version": ENGINE_VERSION,
            "knowledge_version": k.version,
            "policy_version": k.policy.version,
        }


(
    _SET_ELIGIBILITY,
    _SET_TRIAGE,
    _SET_BURNOUT,
    _SET_OUTCOME,
    _SET_SAFETY_LEVEL,
    _SET_SCORES,
    _SET_FINDINGS,
    _SET_FLAGS,
    _SET_MISSING,
    _SET_ITEMS_ASKED,
    _SET_LANGUAGE,
    _SET_KNOWLEDGE,
) = slot_setters(Decision)


def evaluate(knowledge: Knowledge, answers: Mapping[str, Any], language: str = "en") -> Decision:
    """Decide from validated answers (see `crossline.engine.contract.parse_answers`)."""
    safety, burnout, triage, findings, eligibility, missing, phq_total, phq_unanswered = decide(
        knowledge, answers
    )
    plan = plan_of(knowledge)
    scales = knowledge.scales
    if plan.phq_scores:
        # The PHQ-9's sum is known from `decide` (complete when no item is unanswered); the
        # PHQ-2 is its items 1 and 2. The rest as `score` gives them; REPORTED_SCALES order.
        get = answers.get
        q1, q2 = get("phq9.1"), get("phq9.2")
        scores = {
            "phq2": INCOMPLETE
            if q1 is None or q2 is None
            else score_of_total(scales["phq2"], q1 + q2),
            "phq9": INCOMPLETE if phq_unanswered else score_of_total(scales["phq9"], phq_total),
            "gad2": score(scales["gad2"], answers),
            "gad7": score(scales["gad7"], answers),
            "burnout": score(scales["burnout"], answers),
        }
    else:
        scores = {n: score(scales[n], answers) for n in REPORTED_SCALES}
    # The flag of every flagged finding, in the findings' order; a sentence that cannot depend
    # on the answers comes from the plan, any other is worded by `flag_message`.
    texts = plan.flag_texts.get(language)
    flags = []
    for f in findings:
        rule = f.rule
        if f.effect in FLAGGED_EFFECTS or rule in SAFETY_FLAGS:
            text = None if texts is None else texts.get(rule)
            flags.append((rule, flag_message(knowledge, f, language) if text is None else text))
    # = Decision(eligibility=…, triage=…, …, knowledge=…), built faster (see `_frozen`).
    d: Decision = new_instance(Decision)
    _SET_ELIGIBILITY(d, eligibility)
    _SET_TRIAGE(d, triage)
    _SET_BURNOUT(d, burnout)
    _SET_OUTCOME(
        d,
        "burnout_may_have_become_depression"
        if triage == "depression_likely" and burnout
        else _OUTCOMES[triage],
    )
    _SET_SAFETY_LEVEL(d, safety)
    _SET_SCORES(d, scores)
    _SET_FINDINGS(d, tuple(findings))
    _SET_FLAGS(d, tuple(flags))
    _SET_MISSING(d, tuple(missing))
    _SET_ITEMS_ASKED(d, items_asked(knowledge, answers))
    _SET_LANGUAGE(d, language)
    _SET_KNOWLEDGE(d, knowledge)
    return d


def assess(knowledge: Knowledge, body: object) -> Decision:
    """Validate a request body (`{"answers": …, "language": …}`) and evaluate it."""
    request = parse_request(knowledge, body)
    return evaluate(knowledge, request.answers, request.language)
