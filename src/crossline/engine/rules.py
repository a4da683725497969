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

from crossline.engine._frozen import new_instance, slot_setters
from crossline.engine.instruments import (
    ASQ_ITEMS,
    ASQ_POSITIVE,
    PHQ9_ITEMS,
    PHQ_ITEM_MAX,
    burnout_present,
    depression_screen,
    safety_level,
    screen_of,
)
from crossline.engine.knowledge import LANGUAGES, Knowledge
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
    f: Finding = new_instance(Finding)
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
    if f.safety == "none":
        return []
    return _safety_findings(k, f.answers, f.safety)


def _safety_findings(k: Knowledge, a: Mapping[str, Any], safety: str) -> list[Finding]:
    out = []
    triggers = {i: a[i] for i in ASQ_ITEMS if a.get(i) in ASQ_POSITIVE}
    if a.get("phq9.9", 0) > 0:
        triggers = {"phq9.9": a["phq9.9"], **triggers}
    if triggers:
        out.append(_fixed(k, "safety.positive_screen", triggers))
    if safety == "acute":
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
    return _medication_findings(k, entries)


def _medication_findings(k: Knowledge, entries: Any) -> list[Finding]:
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


# --- flags ----------------------------------------------------------------------------------

FLAGGED_EFFECTS = frozenset({"exclude", "review"})
SAFETY_FLAGS = {
    "safety.acute": "safety_acute",
    "safety.acuity_unknown": "safety_acute",
    "safety.non_acute": "safety_non_acute",
    "burnout.present": "burnout_present",
}
COPY_FLAGS = {
    "review.age_18_24": "age_18_24",
    "review.age_65_plus": "age_65_plus",
    "review.treatment_resistance": "treatment_resistance",
    "review.bp_reading": "bp_reading_elevated",
    "medication.unrecognised": "unrecognised_medication",
}
# Flagged fixed rules that are always built without params: their sentence depends only on the
# knowledge and the language.
_PLAIN_FLAG_RULES = (
    "safety.acute",
    "safety.acuity_unknown",
    "safety.non_acute",
    "burnout.present",
    "review.age_18_24",
    "review.age_65_plus",
)


def flag_message(k: Knowledge, f: Finding, lang: str) -> str:
    """The physician-facing sentence for a finding, in the decision's language."""
    flags = k.copy["flags"]
    key = SAFETY_FLAGS.get(f.rule) or COPY_FLAGS.get(f.rule)
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


# --- one pass: the rules above, fused over a per-knowledge plan -------------------------------

_MISSING: Any = object()
_SCOPE_IDS = ("burnout.single", "scope.where", "scope.time_off")
_BP_IDS = ("medical.bp_systolic", "medical.bp_diastolic")


@dataclass(frozen=True, slots=True)
class Plan:
    """What `decide` needs from a `Knowledge`, looked up once per knowledge instead of once
    per decision. Derived only from the knowledge (and its policy), never from answers."""

    fixed: Mapping[str, tuple[str, tuple[str, ...]]]  # rule id -> (effect, citations)
    screen: Mapping[str, tuple[str, str, tuple[str, ...]]]  # screen -> (rule, effect, cits)
    # Each checklist line: answer id, condition id, review kind?, the three rule ids the line
    # can produce (review., exclusion., exclusion_unsure.) and the condition's citations.
    checklist: tuple[tuple[str, str, bool, str, str, str, tuple[str, ...]], ...]
    medical: frozenset[str]  # the checklist's answer ids
    flag_texts: Mapping[str, Mapping[str, str]]  # language -> rule id -> flag sentence
    # The PHQ-2 and PHQ-9 scales are PHQ-9 items 1–2 and 1–9, so their scores follow from the
    # sum `decide` takes anyway.
    phq_scores: bool


def plan_of(k: Knowledge) -> Plan:
    """The knowledge's plan, built on first use and kept on the (immutable) knowledge."""
    plan: Plan | None = k.plan
    if plan is None:
        plan = _build_plan(k)
        object.__setattr__(k, "plan", plan)
    return plan


def _build_plan(k: Knowledge) -> Plan:
    fixed = {rid: (r.effect, r.citations) for rid, r in k.rules.items() if rid in FIXED_RULE_IDS}
    screen = {}
    for s in ("positive", "negative", "undetermined"):
        rid = f"screen.depression_{s}"
        if rid in k.rules:
            screen[s] = (rid, k.rules[rid].effect, k.rules[rid].citations)
    checklist = tuple(
        (
            key,
            cond.id,
            cond.kind == "review",
            f"review.{cond.id}",
            f"exclusion.{cond.id}",
            f"exclusion_unsure.{cond.id}",
            cond.citations,
        )
        for key, cond in k.checklist
    )
    # The sentence of every flag that cannot depend on the answers, made by `flag_message`
    # itself from a finding such as the rules build. Anything missing here (or failing to
    # build) is worded per decision by `flag_message`, as before.
    samples = [_finding(rid, "", {}, (), {}) for rid in _PLAIN_FLAG_RULES]
    for key, cond in k.checklist:
        if cond.kind != "review":
            params = {"condition": cond.id}
            samples.append(_finding(f"exclusion.{cond.id}", "", {key: "yes"}, (), params))
            samples.append(_finding(f"exclusion_unsure.{cond.id}", "", {key: "unsure"}, (), params))
    texts: dict[str, dict[str, str]] = {}
    for lang in LANGUAGES:
        table = texts[lang] = {}
        for sample in samples:
            try:
                table[sample.rule] = flag_message(k, sample, lang)
            except (KeyError, IndexError, ValueError, TypeError, AttributeError):
                continue
    phq_scores = k.scales["phq2"].items == PHQ9_ITEMS[:2] and k.scales["phq9"].items == PHQ9_ITEMS
    return Plan(fixed, screen, checklist, frozenset(k.medical_ids), texts, phq_scores)


def decide(
    k: Knowledge, answers: Mapping[str, Any]
) -> tuple[str, bool | None, str, list[Finding], str, list[str], int, int]:
    """`facts_of`, every function of `RULES` in order and `eligibility_of`, in one pass that
    reads each answer once: the same findings, in the same order, with the same content.

    Returns the safety level, burnout, triage, the findings (with any
    closing one), eligibility, missing ids, and the sum of the answered PHQ-9 items with the
    count of unanswered ones (for the scores).
    """
    plan: Plan | None = k.plan
    if plan is None:
        plan = plan_of(k)
    fixed = plan.fixed
    policy = k.policy
    get = answers.get

    # The facts (`facts_of`): the PHQ-9 once, the safety level, burnout, triage.
    phq: dict[str, Any] = {}
    total = 0
    unanswered = 0
    for i in PHQ9_ITEMS:
        value = get(i, _MISSING)
        if value is _MISSING:
            unanswered += 1
            continue
        phq[i] = value
        if value is None:
            unanswered += 1
        else:
            total += value
    screen = screen_of(total, unanswered, get("phq9.1"), get("phq9.2"), policy)
    acuity = get("asq.5")
    if acuity in ASQ_POSITIVE:
        safety = "acute"
    else:
        item9 = get("phq9.9")
        positive = item9 is not None and item9 > 0
        if not positive:
            for i in ASQ_ITEMS:
                if get(i) in ASQ_POSITIVE:
                    positive = True
                    break
        safety = ("non_acute" if acuity == "no" else "acute") if positive else "none"
    burnout_value = get("burnout.single")
    burnout = None if burnout_value is None else burnout_value >= policy.burnout_present
    if screen == "positive":
        triage = "depression_likely"
    elif screen == "undetermined":
        triage = "undetermined"
    elif burnout:
        triage = "burnout_pattern"
    elif total >= 5 and total + PHQ_ITEM_MAX * unanswered <= 9:
        triage = "possible_depression"
    else:
        triage = "low_symptoms"

    # safety_rules
    findings: list[Finding] = []
    add = findings.append
    if safety != "none":
        findings += _safety_findings(k, answers, safety)
    # core_rules
    lacks_core = (
        "profile.state" not in answers or "profile.age" not in answers or "phq9.9" not in answers
    )
    if lacks_core and safety != "acute":
        effect, cits = fixed["eligibility.core_missing"]
        add(_finding("eligibility.core_missing", effect, _pick(answers, CORE_IDS), cits, {}))
    age = get("profile.age")
    if age is not None and age < policy.min_age:
        effect, cits = fixed["eligibility.under_age"]
        add(_finding("eligibility.under_age", effect, {"profile.age": age}, cits, {}))
    state = get("profile.state")
    if state is not None and state not in policy.service_states:
        rule = "eligibility.outside_service_area"
        effect, cits = fixed[rule]
        add(_finding(rule, effect, {"profile.state": state}, cits, {}))
    # screen_rules
    rule, effect, cits = plan.screen[screen]
    add(_finding(rule, effect, phq, cits, {}))
    # triage_rules
    if burnout:
        effect, cits = fixed["burnout.present"]
        add(_finding("burnout.present", effect, {"burnout.single": burnout_value}, cits, {}))
    if triage == "burnout_pattern":
        effect, cits = fixed["triage.burnout_pattern"]
        add(_finding("triage.burnout_pattern", effect, _pick(answers, _SCOPE_IDS), cits, {}))
    elif triage == "possible_depression":
        effect, cits = fixed["triage.possible_depression"]
        add(_finding("triage.possible_depression", effect, dict(phq), cits, {}))
    # condition_rules: only when some checklist line is answered
    if not plan.medical.isdisjoint(answers):
        for key, cid, review, r_review, r_exclusion, r_unsure, cits in plan.checklist:
            value = get(key)
            if value is None or value == "no":
                continue
            if review:
                add(_finding(r_review, "review", {key: value}, cits, {"condition": cid}))
            elif value == "yes":
                add(_finding(r_exclusion, "exclude", {key: value}, cits, {"condition": cid}))
            else:
                add(_finding(r_unsure, "review", {key: value}, cits, {"condition": cid}))
    # medication_rules
    entries = get("medications")
    if entries:
        findings += _medication_findings(k, entries)
    # review_rules
    if age is not None:
        if policy.min_age <= age <= policy.young_adult_max_age:
            effect, cits = fixed["review.age_18_24"]
            add(_finding("review.age_18_24", effect, {"profile.age": age}, cits, {}))
        if age >= policy.older_adult_min_age:
            effect, cits = fixed["review.age_65_plus"]
            add(_finding("review.age_65_plus", effect, {"profile.age": age}, cits, {}))
    trials = get("history.antidepressant_trials")
    if trials is not None and trials >= policy.trd_trials_flag:
        rule = "review.treatment_resistance"
        effect, cits = fixed[rule]
        add(
            _finding(
                rule, effect, {"history.antidepressant_trials": trials}, cits, {"trials": trials}
            )
        )
    sys_, dia = get("medical.bp_systolic"), get("medical.bp_diastolic")
    if (sys_ is not None and sys_ > policy.bp_review_systolic) or (
        dia is not None and dia > policy.bp_review_diastolic
    ):
        effect, cits = fixed["review.bp_reading"]
        params = {"systolic": sys_ or "?", "diastolic": dia or "?"}
        add(_finding("review.bp_reading", effect, _pick(answers, _BP_IDS), cits, params))

    # eligibility_of
    missing: list[str] = []
    if safety == "acute":
        eligibility = "safety_first"
        if "asq.5" not in answers:
            missing = ["asq.5"]
    elif lacks_core:
        eligibility = "incomplete"
        missing = [i for i in CORE_IDS if i not in answers]
    elif answers["profile.age"] < policy.min_age:
        eligibility = "under_age"
    elif answers["profile.state"] not in policy.service_states:
        eligibility = "outside_service_area"
    elif screen == "negative":
        eligibility = "not_indicated"
    else:
        eligibility = ""
        for x in findings:
            if x.effect == "exclude":
                eligibility = "not_candidate"
                break
        if not eligibility:
            if screen == "undetermined":
                eligibility = "incomplete"
                missing = [i for i in PHQ9_ITEMS if i not in answers]
            else:
                missing = candidate_data_missing(k, answers)
                if missing:
                    eligibility = "incomplete"
                    rule = "eligibility.candidate_data_missing"
                    effect, cits = fixed[rule]
                    add(_finding(rule, effect, {}, cits, {}))
                else:
                    eligibility = "candidate"
                    effect, cits = fixed["eligibility.candidate"]
                    add(_finding("eligibility.candidate", effect, dict(phq), cits, {}))
    return safety, burnout, triage, findings, eligibility, missing, total, unanswered
