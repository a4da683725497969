"""evaluate(): answers in, an honest, explained, safe decision out. Pure: no I/O, no clock."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from crossline import __version__
from crossline.engine._frozen import new, slot_setters
from crossline.engine.contract import parse_request
from crossline.engine.flow import items_asked
from crossline.engine.instruments import REPORTED_SCALES, SCORE_NAMES, Score, score
from crossline.engine.knowledge import Knowledge
from crossline.engine.rules import RULES, Facts, Finding, eligibility_of, facts_of

ENGINE_VERSION = __version__

_OUTCOMES = {
    "depression_likely": "signs_of_depression",
    "burnout_pattern": "looks_like_burnout",
    "possible_depression": "some_signs_of_depression",
    "low_symptoms": "few_signs",
    "undetermined": "need_more_answers",
}
_FLAGGED_EFFECTS = frozenset({"exclude", "review"})
_SAFETY_FLAGS = {
    "safety.acute": "safety_acute",
    "safety.acuity_unknown": "safety_acute",
    "safety.non_acute": "safety_non_acute",
    "burnout.present": "burnout_present",
}
_COPY_FLAGS = {
    "review.age_18_24": "age_18_24",
    "review.age_65_plus": "age_65_plus",
    "review.treatment_resistance": "treatment_resistance",
    "review.bp_reading": "bp_reading_elevated",
    "medication.unrecognised": "unrecognised_medication",
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
            reasons.append(f.to_dict())
            for c in f.citations:
                if c not in sources:
                    sources[c] = references[c].reference
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
            "scores": {SCORE_NAMES.get(n, n): s.to_dict() for n, s in self.scores.items()},
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
    facts = facts_of(knowledge, answers)
    findings: list[Finding] = []
    for rule in RULES:
        findings.extend(rule(knowledge, facts))
    eligibility, missing, closing = eligibility_of(knowledge, facts, findings)
    if closing is not None:
        findings.append(closing)
    triage = facts.triage
    scales = knowledge.scales
    # = Decision(eligibility=…, triage=…, …, knowledge=…), built faster (see `_frozen`).
    d: Decision = new(Decision)
    _SET_ELIGIBILITY(d, eligibility)
    _SET_TRIAGE(d, triage)
    _SET_BURNOUT(d, facts.burnout)
    _SET_OUTCOME(d, _outcome(triage, facts))
    _SET_SAFETY_LEVEL(d, facts.safety)
    _SET_SCORES(d, {n: score(scales[n], answers) for n in REPORTED_SCALES})
    _SET_FINDINGS(d, tuple(findings))
    _SET_FLAGS(d, tuple(_flags(knowledge, findings, language)))
    _SET_MISSING(d, tuple(missing))
    _SET_ITEMS_ASKED(d, items_asked(knowledge, answers))
    _SET_LANGUAGE(d, language)
    _SET_KNOWLEDGE(d, knowledge)
    return d


def assess(knowledge: Knowledge, body: object) -> Decision:
    """Validate a request body (`{"answers": …, "language": …}`) and evaluate it."""
    request = parse_request(knowledge, body)
    return evaluate(knowledge, request.answers, request.language)


def _outcome(triage: str, facts: Facts) -> str:
    if triage == "depression_likely" and facts.burnout:
        return "burnout_may_have_become_depression"
    return _OUTCOMES[triage]


def _flags(k: Knowledge, findings: list[Finding], lang: str) -> list[tuple[str, str]]:
    out = []
    for f in findings:
        if f.effect in _FLAGGED_EFFECTS or f.rule in _SAFETY_FLAGS:
            out.append((f.rule, flag_message(k, f, lang)))
    return out


def flag_message(k: Knowledge, f: Finding, lang: str) -> str:
    """The physician-facing sentence for a finding, in the decision's language."""
    flags = k.copy["flags"]
    key = _SAFETY_FLAGS.get(f.rule) or _COPY_FLAGS.get(f.rule)
    if key is not None:
        params = dict(f.params)
        if params.get("trials") == 3:
            params["trials"] = "3+"
        return str(flags[key][lang]).format(**params)
    if "condition" in f.params:
        cond = k.conditions[f.params["condition"]]
        if (
            f.rule.startswith("exclusion_unsure.")
            or f.answers.get(f"medical.{cond.id}") == "unsure"
        ):
            return str(flags["exclusion_unsure"][lang]).format(condition=cond.label[lang])
        return cond.flag[lang]
    c = k.medication_classes[f.params["class"]]
    return f"{c.flag[lang]} ({', '.join(f.params['names'])})"
