"""The decision rules (PRODUCT.md, "Decision rules"), each a function that returns findings.

Every rule that applies produces a `Finding`: its rule id, effect, the answers that made it
apply, and its citations. Eligibility is then set by the precedence table; all findings are
reported. The registry below is the one visible list of rules; `crossline knowledge check`
verifies it against rules.toml.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from crossline.engine._frozen import new, slot_setters
from crossline.engine.instruments import (
    ASQ_ITEMS,
    ASQ_POSITIVE,
    PHQ9_ITEMS,
    PHQ_ITEM_MAX,
    burnout_present,
    depression_screen,
    safety_level,
)
from crossline.engine.knowledge import Knowledge
from crossline.engine.medications import match

CORE_IDS = ("profile.state", "profile.age", "phq9.9")


@dataclass(frozen=True, slots=True)
class Finding:
    rule: str
    effect: str  # route | exclude | review | safety | note
    answers: Mapping[str, Any]
    citations: tuple[str, ...]
    params: Mapping[str, Any] = field(default_factory=dict)  # for the flag message

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "effect": self.effect,
            "answers": dict(self.answers),
            "citations": list(self.citations),
        }


@dataclass(slots=True)
class Facts:
    """What the rules share: the answers and the derived screens, computed once."""

    answers: Mapping[str, Any]
    screen: str
    safety: str
    burnout: bool | None
    adult_in_area: bool
    triage: str = ""


_SET_RULE, _SET_EFFECT, _SET_ANSWERS, _SET_CITATIONS, _SET_PARAMS = slot_setters(Finding)


def _finding(
    rule: str,
    effect: str,
    answers: Mapping[str, Any],
    citations: tuple[str, ...],
    params: Mapping[str, Any],
) -> Finding:
    """`Finding(rule, effect, answers, citations, params)`, built faster (see `_frozen`)."""
    f: Finding = new(Finding)
    _SET_RULE(f, rule)
    _SET_EFFECT(f, effect)
    _SET_ANSWERS(f, answers)
    _SET_CITATIONS(f, citations)
    _SET_PARAMS(f, params)
    return f


def _fixed(knowledge: Knowledge, rule: str, answers: Mapping[str, Any], **params: Any) -> Finding:
    r = knowledge.rules[rule]
    return _finding(rule, r.effect, answers, r.citations, params)


def _pick(answers: Mapping[str, Any], ids: tuple[str, ...] | list[str]) -> dict[str, Any]:
    return {i: answers[i] for i in ids if i in answers}


def _lacks_any(answers: Mapping[str, Any], ids: tuple[str, ...]) -> bool:
    for i in ids:  # noqa: SIM110 - a plain loop: any() and a generator cost more here
        if i not in answers:
            return True
    return False


# --- safety ---------------------------------------------------------------------------------


def safety_rules(k: Knowledge, f: Facts) -> list[Finding]:
    """Item 9 > 0 or any ASQ yes/refused is a positive screen, whatever the total (FACTS §F2)."""
    a = f.answers
    if f.safety == "none":
        return []
    out = []
    triggers = {i: a[i] for i in ASQ_ITEMS if a.get(i) in ASQ_POSITIVE}
    if a.get("phq9.9", 0) > 0:
        triggers = {"phq9.9": a["phq9.9"], **triggers}
    if triggers:
        out.append(_fixed(k, "safety.positive_screen", triggers))
    if f.safety == "acute":
        if "asq.5" in a:
            out.append(_fixed(k, "safety.acute", {"asq.5": a["asq.5"]}))
        else:
            out.append(_fixed(k, "safety.acuity_unknown", triggers))
    else:
        out.append(_fixed(k, "safety.non_acute", {"asq.5": a["asq.5"]}))
    return out


# --- routing --------------------------------------------------------------------------------


def core_rules(k: Knowledge, f: Facts) -> list[Finding]:
    a = f.answers
    out = []
    # Under acute risk nothing more is "needed": crisis help comes first.
    if f.safety != "acute" and _lacks_any(a, CORE_IDS):
        out.append(_fixed(k, "eligibility.core_missing", _pick(a, CORE_IDS)))
    age = a.get("profile.age")
    if age is not None and age < k.policy.min_age:
        out.append(_fixed(k, "eligibility.under_age", {"profile.age": age}))
    state = a.get("profile.state")
    if state is not None and state not in k.policy.service_states:
        out.append(_fixed(k, "eligibility.outside_service_area", {"profile.state": state}))
    return out


def screen_rules(k: Knowledge, f: Facts) -> list[Finding]:
    phq = _pick(f.answers, PHQ9_ITEMS)
    return [_fixed(k, f"screen.depression_{f.screen}", phq)]


def triage_rules(k: Knowledge, f: Facts) -> list[Finding]:
    a = f.answers
    out = []
    if f.burnout:
        out.append(_fixed(k, "burnout.present", {"burnout.single": a["burnout.single"]}))
    triage = f.triage
    if triage == "burnout_pattern":
        scope = _pick(a, ("burnout.single", "scope.where", "scope.time_off"))
        out.append(_fixed(k, "triage.burnout_pattern", scope))
    elif triage == "possible_depression":
        out.append(_fixed(k, "triage.possible_depression", _pick(a, PHQ9_ITEMS)))
    return out


# --- exclusions, review flags, medications ----------------------------------------------------


def condition_rules(k: Knowledge, f: Facts) -> list[Finding]:
    get = f.answers.get
    out = []
    for key, cond in k.checklist:
        value = get(key)
        if value is None or value == "no":
            continue
        cid = cond.id
        params = {"condition": cid}
        if cond.kind == "review":
            out.append(_finding(f"review.{cid}", "review", {key: value}, cond.citations, params))
        elif value == "yes":
            rule = f"exclusion.{cid}"
            out.append(_finding(rule, "exclude", {key: value}, cond.citations, params))
        else:
            rule = f"exclusion_unsure.{cid}"
            out.append(_finding(rule, "review", {key: value}, cond.citations, params))
    return out


def medication_rules(k: Knowledge, f: Facts) -> list[Finding]:
    entries = f.answers.get("medications")
    if not entries:
        return []
    out = []
    by_class: dict[str, list[str]] = {}
    for entry in entries:
        m = match(entry, k.medication_index, k.medication_max_words)
        if m.class_id is None:
            out.append(_fixed(k, "medication.unrecognised", {"medications": [entry]}, name=entry))
        elif m.class_id != "none":
            by_class.setdefault(m.class_id, []).append(entry)
    for cid, names in by_class.items():
        c = k.medication_classes[cid]
        out.append(
            _finding(
                f"medication.{cid}",
                c.effect,
                {"medications": names},
                c.citations,
                {"class": cid, "names": names},
            )
        )
    return out


def review_rules(k: Knowledge, f: Facts) -> list[Finding]:
    a, p = f.answers, k.policy
    out = []
    age = a.get("profile.age")
    if age is not None and p.min_age <= age <= p.young_adult_max_age:
        out.append(_fixed(k, "review.age_18_24", {"profile.age": age}))
    if age is not None and age >= p.older_adult_min_age:
        out.append(_fixed(k, "review.age_65_plus", {"profile.age": age}))
    trials = a.get("history.antidepressant_trials")
    if trials is not None and trials >= p.trd_trials_flag:
        out.append(
            _fixed(
                k,
                "review.treatment_resistance",
                {"history.antidepressant_trials": trials},
                trials=trials,
            )
        )
    sys_, dia = a.get("medical.bp_systolic"), a.get("medical.bp_diastolic")
    if (sys_ is not None and sys_ > p.bp_review_systolic) or (
        dia is not None and dia > p.bp_review_diastolic
    ):
        bp = _pick(a, ("medical.bp_systolic", "medical.bp_diastolic"))
        out.append(_fixed(k, "review.bp_reading", bp, systolic=sys_ or "?", diastolic=dia or "?"))
    return out


# The registry: every rule function, in the order findings are reported.
RULES: tuple[Callable[[Knowledge, Facts], list[Finding]], ...] = (
    safety_rules,
    core_rules,
    screen_rules,
    triage_rules,
    condition_rules,
    medication_rules,
    review_rules,
)

# Fixed rule ids the functions above can produce (generated families excluded).
FIXED_RULE_IDS = frozenset(
    {
        "safety.positive_screen",
        "safety.acute",
        "safety.acuity_unknown",
        "safety.non_acute",
        "eligibility.core_missing",
        "eligibility.under_age",
        "eligibility.outside_service_area",
        "screen.depression_positive",
        "screen.depression_negative",
        "screen.depression_undetermined",
        "eligibility.candidate_data_missing",
        "eligibility.candidate",
        "burnout.present",
        "triage.burnout_pattern",
        "triage.possible_depression",
        "review.age_18_24",
        "review.age_65_plus",
        "review.treatment_resistance",
        "review.bp_reading",
        "medication.unrecognised",
    }
)


def triage_of(f: Facts) -> str:
    """First match wins (PRODUCT.md "Triage")."""
    if f.screen == "positive":
        return "depression_likely"
    if f.screen == "undetermined":
        return "undetermined"
    if f.burnout:
        return "burnout_pattern"
    # "A complete PHQ-9 of 5–9", generalised to what the answers make certain: the flow stops
    # asking once the screen is certain, so the total is often known only to lie in 5–9.
    a = f.answers
    answered = [a[i] for i in PHQ9_ITEMS if i in a]
    low, high = sum(answered), sum(answered) + PHQ_ITEM_MAX * (len(PHQ9_ITEMS) - len(answered))
    if low >= 5 and high <= 9:
        return "possible_depression"
    return "low_symptoms"


def facts_of(k: Knowledge, answers: Mapping[str, Any]) -> Facts:
    policy = k.policy
    age, state = answers.get("profile.age"), answers.get("profile.state")
    adult_in_area = (
        age is not None
        and age >= policy.min_age
        and state is not None
        and state in policy.service_states
    )
    facts = Facts(
        answers,
        depression_screen(answers, policy),
        safety_level(answers),
        burnout_present(answers, policy),
        adult_in_area,
    )
    facts.triage = triage_of(facts)
    return facts


def candidate_data_missing(k: Knowledge, answers: Mapping[str, Any]) -> list[str]:
    """For `candidate`: every medical condition id and the medications key must be present."""
    missing = [i for i in k.medical_ids if i not in answers]
    if "medications" not in answers:
        missing.append("medications")
    return missing


def eligibility_of(
    k: Knowledge, f: Facts, findings: list[Finding]
) -> tuple[str, list[str], Finding | None]:
    """Precedence, highest first; returns eligibility, missing ids and any closing finding."""
    a = f.answers
    if f.safety == "acute":
        return "safety_first", ["asq.5"] if "asq.5" not in a else [], None
    # Below, safety is not acute, so nothing is missing before the first list.
    if _lacks_any(a, CORE_IDS):
        return "incomplete", [i for i in CORE_IDS if i not in a], None
    policy = k.policy
    if a["profile.age"] < policy.min_age:
        return "under_age", [], None
    if a["profile.state"] not in policy.service_states:
        return "outside_service_area", [], None
    screen = f.screen
    if screen == "negative":
        return "not_indicated", [], None
    for x in findings:
        if x.effect == "exclude":
            return "not_candidate", [], None
    if screen == "undetermined":
        return "incomplete", [i for i in PHQ9_ITEMS if i not in a], None
    data = candidate_data_missing(k, a)
    if data:
        closing = _fixed(k, "eligibility.candidate_data_missing", {})
        return "incomplete", data, closing
    return "candidate", [], _fixed(k, "eligibility.candidate", _pick(a, PHQ9_ITEMS))
