"""Session check-ins: the answers before and after a home session in, an explained action out.

Home dosing has no nurse in the room, so these rules do what a clinic's monitoring form does:
before the session they **hold** it when anything is unsafe or unknown (the patient is told not to
take the dose today and a clinician must clear it); after it they raise an **emergency** (call
911) or a clinician **alert**. Thresholds are program policy in policy.toml [checkin], each citing
its source (FACTS §B6); rule summaries and citations are in checkin.toml. Pure: no I/O, no clock.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from crossline.engine.contract import _check, _check_int, _check_medications, _encodable
from crossline.engine.errors import FieldError, InvalidInput, KnowledgeError
from crossline.engine.instruments import ASQ_ITEMS, ASQ_POSITIVE, safety_level
from crossline.engine.knowledge import LANGUAGES, Knowledge
from crossline.engine.medications import match

Answers = Mapping[str, Any]
KINDS = ("pre", "post")
REQUEST_KEYS = frozenset({"kind", "answers", "language"})
YES_NO = ("yes", "no")
DISSOCIATION = ("none", "mild", "moderate", "severe")  # in order of severity
# FACTS §B1 / §B6: signs of hypertensive crisis or encephalopathy (refer for emergency care).
EMERGENCY_SYMPTOMS = (
    "chest_pain",
    "shortness_of_breath",
    "severe_headache",
    "vision_change",
    "seizure",
    "confusion",
    "one_sided_weakness",
)
SYSTOLIC, DIASTOLIC, PULSE = "vitals.systolic", "vitals.diastolic", "vitals.pulse"
PULSE_RANGE = (20, 250)  # plausible for a home cuff; outside it the reading is a typing error
SEDATION_RANGE = (0, 5)  # simplified MOAA/S, 5 = alert (FACTS §A6.1)
MINUTES_RANGE = (0, 1440)
NOTE, MAX_NOTE = "pre.note", 2000
PRE_YES_NO = (
    "pre.monitor_present",
    "pre.fasted",
    "pre.alcohol_today",
    "pre.sedatives_today",
    "pre.stimulants_today",
    "pre.will_drive",
)
NEW_MEDICATIONS = "pre.new_medications"
ASQ_ALL = (*ASQ_ITEMS, "asq.5")
# Every pre-session id except the ASQ (asked only when item 9 > 0) and the optional note.
PRE_REQUIRED = (SYSTOLIC, DIASTOLIC, PULSE, *PRE_YES_NO, NEW_MEDICATIONS, "phq9.9")
POST_REQUIRED = (
    SYSTOLIC,
    DIASTOLIC,
    "post.sedation",
    "post.dissociation",
    "post.breathing_problem",
    "post.emergency_symptoms",
    "post.minutes_to_baseline",
)
# Accepted after the session, not required and used by no rule: the pulse, and nausea (asked
# because the issue lists it; recorded for the clinician, FACTS has no threshold for it).
NAUSEA = "post.nausea"
POST_IDS = frozenset({*POST_REQUIRED, PULSE, NAUSEA})

# The registry: every rule id and its effect (checkin.toml holds the citations and summaries).
HOLD, NOTE_EFFECT, ALERT, EMERGENCY = "hold", "note", "alert", "emergency"
PRE_SAFETY_RULE = "checkin.pre.safety_positive"  # a positive PHQ-9 item 9 or ASQ answer
RULES: Mapping[str, str] = {
    "checkin.pre.missing": HOLD,
    PRE_SAFETY_RULE: HOLD,  # a hard floor: not a policy value
    "checkin.pre.bp_high": HOLD,
    "checkin.pre.bp_crisis": HOLD,
    "checkin.pre.pulse_high": HOLD,
    "checkin.pre.no_monitor": HOLD,
    "checkin.pre.not_fasted": HOLD,
    "checkin.pre.alcohol_today": HOLD,
    "checkin.pre.sedatives_today": HOLD,
    "checkin.pre.stimulants_today": HOLD,
    "checkin.pre.will_drive": HOLD,
    "checkin.pre.medication_avoid": HOLD,
    "checkin.pre.medication_caution": NOTE_EFFECT,  # hold when hold_on_caution_medication
    "checkin.pre.medication_unrecognised": NOTE_EFFECT,  # hold when hold_on_unrecognised_…
    "checkin.post.emergency_symptom": EMERGENCY,
    "checkin.post.breathing_problem": EMERGENCY,
    "checkin.post.sedation_deep": EMERGENCY,
    "checkin.post.sedation_moderate": ALERT,
    "checkin.post.dissociation_severe": ALERT,
    "checkin.post.bp_crisis": ALERT,
    "checkin.post.slow_recovery": ALERT,
    "checkin.post.missing": ALERT,
}


@dataclass(frozen=True, slots=True)
class CheckinPolicy:
    """The [checkin] values of policy.toml (FACTS §B6; each cites its source there)."""

    pre_systolic_above: int
    pre_diastolic_above: int
    pre_pulse_above: int
    post_sedation_emergency_at_most: int
    post_sedation_alert_at_most: int
    post_dissociation_alert: str
    crisis_systolic_at_least: int  # the crisis range, before or after a session (FACTS §B6)
    crisis_diastolic_at_least: int
    post_minutes_to_baseline_above: int
    hold_on_caution_medication: bool
    hold_on_unrecognised_medication: bool


_POLICY_TYPES: Mapping[str, tuple[type, str]] = {
    "int": (int, "a whole number"),
    "str": (str, "text"),
    "bool": (bool, "true or false"),
}


def checkin_policy(k: Knowledge) -> CheckinPolicy:
    """Read and type-check policy.toml [checkin]; a malformed table is a KnowledgeError."""
    table = k.docs["policy.toml"].get("checkin", {})
    values: dict[str, Any] = {}
    problems = []
    for name, kind in CheckinPolicy.__annotations__.items():
        value = table.get(name)
        wanted, words = _POLICY_TYPES[kind]
        if type(value) is not wanted:
            problems.append(f"policy [checkin] {name}: must be {words}, not {value!r}")
        values[name] = value
    if values["post_dissociation_alert"] not in DISSOCIATION:
        problems.append(
            "policy [checkin] post_dissociation_alert: must be one of " + str(DISSOCIATION)
        )
    if problems:
        raise KnowledgeError(problems)
    return CheckinPolicy(**values)


@dataclass(frozen=True, slots=True)
class Reason:
    rule: str
    effect: str
    answers: Mapping[str, Any]
    citations: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "answers": dict(self.answers), "citations": list(self.citations)}


@dataclass(frozen=True, slots=True)
class CheckinDecision:
    kind: str
    action: str  # pre: proceed | hold; post: ok | alert | emergency
    reasons: tuple[Reason, ...]
    safety_level: str
    language: str
    knowledge: Knowledge

    def to_dict(self) -> dict[str, Any]:
        crisis = self.safety_level != "none"
        lang = self.language
        resources = [
            {"id": r.id, "label": r.label[lang], "contact": r.contact[lang]}
            for r in self.knowledge.resources
        ]
        return {
            "action": self.action,
            "reasons": [r.to_dict() for r in self.reasons],
            "safety": {
                "level": self.safety_level,
                "crisis_resources": crisis,
                "resources": resources if crisis else [],
            },
        }


# --- validation (strict JSON types, as the assessment contract) ------------------------------


def parse_checkin_request(k: Knowledge, body: object) -> tuple[str, dict[str, Any], str]:
    """Validate `{"kind": "pre"|"post", "answers": {...}, "language": "en"|"es"}`."""
    if not isinstance(body, dict):
        raise InvalidInput([FieldError("$", "must be a JSON object with 'kind' and 'answers'")])
    errors = [FieldError(str(key), "unknown field") for key in body if key not in REQUEST_KEYS]
    language = body.get("language", "en")
    if language not in LANGUAGES:
        errors.append(FieldError("language", "must be one of: en, es"))
    kind = body.get("kind")
    if kind not in KINDS:
        errors.append(FieldError("kind", "must be one of: pre, post"))
    if "answers" not in body:
        errors.append(FieldError("answers", "is required"))
    if errors:
        raise InvalidInput(errors)
    return str(kind), parse_checkin_answers(k, str(kind), body["answers"]), str(language)


def parse_checkin_answers(k: Knowledge, kind: str, raw: object) -> dict[str, Any]:
    """Validate one check-in's answers; every problem names its field."""
    if kind not in KINDS:
        raise InvalidInput([FieldError("kind", "must be one of: pre, post")])
    if not isinstance(raw, dict):
        raise InvalidInput([FieldError("answers", "must be a JSON object keyed by answer id")])
    errors: list[FieldError] = []
    out: dict[str, Any] = {}
    allowed = _pre_ids(raw) if kind == "pre" else POST_IDS
    for key, value in raw.items():
        if not isinstance(key, str) or key not in allowed:
            errors.append(FieldError(str(key), _unknown(kind, key)))
            continue
        checked = _check_answer(k, key, value, errors)
        if checked is not None:
            out[key] = checked
    if errors:
        raise InvalidInput(errors)
    return out


def _pre_ids(raw: Mapping[str, Any]) -> frozenset[str]:
    item9 = raw.get("phq9.9")
    asq = ASQ_ALL if type(item9) is int and item9 > 0 else ()
    return frozenset({*PRE_REQUIRED, *asq, NOTE})


def _unknown(kind: str, key: object) -> str:
    if kind == "pre" and key in ASQ_ALL:
        return "asked only when phq9.9 is above 0"
    return f"unknown answer id for a {kind}-session check-in"


def _check_answer(k: Knowledge, key: str, value: object, errors: list[FieldError]) -> Any:
    if key in (SYSTOLIC, DIASTOLIC):
        # The same plausible range as the assessment's blood-pressure reading.
        item = k.items["medical.bp_systolic" if key == SYSTOLIC else "medical.bp_diastolic"]
        lo, hi = item.int_range or (0, 0)
        return _check_int(key, value, lo, hi, errors)
    if key == PULSE:
        return _check_int(key, value, *PULSE_RANGE, errors)
    if key == "post.sedation":
        return _check_int(key, value, *SEDATION_RANGE, errors)
    if key == "post.minutes_to_baseline":
        return _check_int(key, value, *MINUTES_RANGE, errors)
    if key in PRE_YES_NO or key in ("post.breathing_problem", NAUSEA):
        return _choice(key, value, YES_NO, errors)
    if key == "post.dissociation":
        return _choice(key, value, DISSOCIATION, errors)
    if key == "post.emergency_symptoms":
        return _symptoms(key, value, errors)
    if key == NEW_MEDICATIONS:
        return _check_medications(key, value, errors)
    if key == NOTE:
        return _note(value, errors)
    return _check(k.items[key], value, errors)  # phq9.9 and the ASQ: the assessment's items


def _choice(key: str, value: object, allowed: tuple[str, ...], errors: list[FieldError]) -> Any:
    if isinstance(value, str) and value in allowed:
        return value
    errors.append(FieldError(key, "must be one of: " + ", ".join(allowed)))
    return None


def _symptoms(key: str, value: object, errors: list[FieldError]) -> tuple[str, ...] | None:
    if not isinstance(value, list):
        errors.append(FieldError(key, "must be a list of symptoms (an empty list = none)"))
        return None
    bad = [i for i, s in enumerate(value) if not isinstance(s, str) or s not in EMERGENCY_SYMPTOMS]
    for i in bad:
        errors.append(FieldError(f"{key}[{i}]", "must be one of: " + ", ".join(EMERGENCY_SYMPTOMS)))
    if bad:
        return None
    if len(set(value)) != len(value):
        errors.append(FieldError(key, "must not list a symptom twice"))
        return None
    return tuple(value)


def _note(value: object, errors: list[FieldError]) -> str | None:
    if isinstance(value, str) and _encodable(value) and len(value) <= MAX_NOTE:
        return value
    errors.append(FieldError(NOTE, f"must be text of at most {MAX_NOTE} characters"))
    return None


# --- the rules --------------------------------------------------------------------------------


def evaluate_checkin(
    k: Knowledge, kind: str, answers: object, language: str = "en"
) -> CheckinDecision:
    """Validate a check-in's answers (raises InvalidInput) and decide."""
    if language not in LANGUAGES:
        raise InvalidInput([FieldError("language", "must be one of: en, es")])
    return _decide(k, kind, parse_checkin_answers(k, kind, answers), language)


def checkin(k: Knowledge, body: object) -> CheckinDecision:
    """Validate a request body (`{"kind", "answers", "language"}`) and decide."""
    return _decide(k, *parse_checkin_request(k, body))


def _decide(k: Knowledge, kind: str, valid: Answers, language: str) -> CheckinDecision:
    policy = checkin_policy(k)
    rules = _PRE if kind == "pre" else _POST
    reasons: list[Reason] = []
    for rule in rules:
        reasons.extend(rule(k, policy, valid))
    level = safety_level(valid) if kind == "pre" else "none"
    return CheckinDecision(kind, _action(kind, reasons), tuple(reasons), level, language, k)


def _action(kind: str, reasons: list[Reason]) -> str:
    effects = {r.effect for r in reasons}
    if kind == "pre":
        return "hold" if HOLD in effects else "proceed"
    if EMERGENCY in effects:
        return "emergency"
    return "alert" if ALERT in effects else "ok"


def _reason(
    k: Knowledge, rule: str, answers: Mapping[str, Any], extra: tuple[str, ...] = ()
) -> Reason:
    cites = tuple(k.docs["checkin.toml"]["rules"][rule]["citations"])
    cites += tuple(c for c in extra if c not in cites)
    return Reason(rule, RULES[rule], answers, cites)


def reason_entry(k: Knowledge, rule: str) -> Mapping[str, Any]:
    """A course reason's summary and citations in checkin.toml: a check-in rule ([rules]) or
    another reason a course raises an alert ([alerts]); empty when unknown."""
    doc = k.docs["checkin.toml"]
    return doc.get("rules", {}).get(rule) or doc.get("alerts", {}).get(rule) or {}


Rule = Callable[[Knowledge, CheckinPolicy, Answers], list[Reason]]


def _pre_missing(k: Knowledge, p: CheckinPolicy, a: Answers) -> list[Reason]:
    needed = list(PRE_REQUIRED)
    if a.get("phq9.9", 0) > 0:
        needed += ASQ_ALL  # item 9 above 0 asks the ASQ (FACTS §F2 ✎ 2)
    missing = {i: None for i in needed if i not in a}
    return [_reason(k, "checkin.pre.missing", missing)] if missing else []


def _pre_safety(k: Knowledge, p: CheckinPolicy, a: Answers) -> list[Reason]:
    """Item 9 > 0 or any ASQ yes/refused, whatever else (FACTS §F2 ✎ 4: block the session)."""
    if safety_level(a) == "none":
        return []
    triggers: dict[str, Any] = {"phq9.9": a["phq9.9"]} if a.get("phq9.9", 0) > 0 else {}
    triggers |= {i: a[i] for i in ASQ_ALL if a.get(i) in ASQ_POSITIVE}
    return [_reason(k, PRE_SAFETY_RULE, triggers)]


def _in_crisis_range(p: CheckinPolicy, sys_: int | None, dia: int | None) -> bool:
    """Systolic ≥ 180 *or* diastolic ≥ 120: one step stricter than the guideline's crisis range
    (FACTS §B6), whether the reading is taken before or after a session."""
    return (sys_ is not None and sys_ >= p.crisis_systolic_at_least) or (
        dia is not None and dia >= p.crisis_diastolic_at_least
    )


def _pre_vitals(k: Knowledge, p: CheckinPolicy, a: Answers) -> list[Reason]:
    out = []
    sys_, dia = a.get(SYSTOLIC), a.get(DIASTOLIC)
    if _in_crisis_range(p, sys_, dia):
        # Held like any high reading, and more: an urgent clinician alert, and 911 with symptoms
        # of target-organ damage (FACTS §B6) — the hold page says which.
        out.append(_reason(k, "checkin.pre.bp_crisis", _pick(a, (SYSTOLIC, DIASTOLIC))))
    elif (sys_ is not None and sys_ > p.pre_systolic_above) or (
        dia is not None and dia > p.pre_diastolic_above
    ):
        out.append(_reason(k, "checkin.pre.bp_high", _pick(a, (SYSTOLIC, DIASTOLIC))))
    pulse = a.get(PULSE)
    if pulse is not None and pulse > p.pre_pulse_above:
        out.append(_reason(k, "checkin.pre.pulse_high", {PULSE: pulse}))
    return out


# Each yes/no answer and the value that holds the session.
_HOLDING_ANSWERS = (
    ("pre.monitor_present", "no", "checkin.pre.no_monitor"),
    ("pre.fasted", "no", "checkin.pre.not_fasted"),
    ("pre.alcohol_today", "yes", "checkin.pre.alcohol_today"),
    ("pre.sedatives_today", "yes", "checkin.pre.sedatives_today"),
    ("pre.stimulants_today", "yes", "checkin.pre.stimulants_today"),
    ("pre.will_drive", "yes", "checkin.pre.will_drive"),
)


def _pre_answers(k: Knowledge, p: CheckinPolicy, a: Answers) -> list[Reason]:
    return [_reason(k, rule, {i: a[i]}) for i, bad, rule in _HOLDING_ANSWERS if a.get(i) == bad]


def _pre_medications(k: Knowledge, p: CheckinPolicy, a: Answers) -> list[Reason]:
    """The assessment's exact matching (never fuzzy); one reason per medicine class."""
    by_class: dict[str, list[str]] = {}
    unrecognised = []
    for entry in a.get(NEW_MEDICATIONS, ()):
        m = match(entry, k.medication_index, k.medication_max_words)
        if m.class_id is None:
            unrecognised.append(entry)
        elif m.class_id != "none":
            by_class.setdefault(m.class_id, []).append(entry)
    out = []
    for cid, names in by_class.items():
        c = k.medication_classes[cid]
        if c.effect == "note":  # known, no interaction of note
            continue
        if c.effect == "exclude":
            out.append(
                _reason(k, "checkin.pre.medication_avoid", {NEW_MEDICATIONS: names}, c.citations)
            )
            continue
        reason = _reason(k, "checkin.pre.medication_caution", {NEW_MEDICATIONS: names}, c.citations)
        out.append(_held(reason, p.hold_on_caution_medication))
    if unrecognised:
        reason = _reason(k, "checkin.pre.medication_unrecognised", {NEW_MEDICATIONS: unrecognised})
        out.append(_held(reason, p.hold_on_unrecognised_medication))
    return out


def _held(reason: Reason, hold: bool) -> Reason:
    if not hold:
        return reason
    return Reason(reason.rule, HOLD, reason.answers, reason.citations)


_PRE: tuple[Rule, ...] = (_pre_safety, _pre_missing, _pre_vitals, _pre_answers, _pre_medications)


def _post_emergency(k: Knowledge, p: CheckinPolicy, a: Answers) -> list[Reason]:
    out = []
    symptoms = a.get("post.emergency_symptoms")
    if symptoms:
        out.append(
            _reason(
                k, "checkin.post.emergency_symptom", {"post.emergency_symptoms": list(symptoms)}
            )
        )
    if a.get("post.breathing_problem") == "yes":
        out.append(_reason(k, "checkin.post.breathing_problem", {"post.breathing_problem": "yes"}))
    sedation = a.get("post.sedation")
    if sedation is not None and sedation <= p.post_sedation_emergency_at_most:
        out.append(_reason(k, "checkin.post.sedation_deep", {"post.sedation": sedation}))
    elif sedation is not None and sedation <= p.post_sedation_alert_at_most:
        out.append(_reason(k, "checkin.post.sedation_moderate", {"post.sedation": sedation}))
    return out


def _post_alerts(k: Knowledge, p: CheckinPolicy, a: Answers) -> list[Reason]:
    out = []
    dissociation = a.get("post.dissociation")
    if dissociation is not None and DISSOCIATION.index(dissociation) >= DISSOCIATION.index(
        p.post_dissociation_alert
    ):
        out.append(
            _reason(k, "checkin.post.dissociation_severe", {"post.dissociation": dissociation})
        )
    sys_, dia = a.get(SYSTOLIC), a.get(DIASTOLIC)
    if _in_crisis_range(p, sys_, dia):
        out.append(_reason(k, "checkin.post.bp_crisis", _pick(a, (SYSTOLIC, DIASTOLIC))))
    minutes = a.get("post.minutes_to_baseline")
    if minutes is not None and minutes > p.post_minutes_to_baseline_above:
        out.append(_reason(k, "checkin.post.slow_recovery", {"post.minutes_to_baseline": minutes}))
    missing = {i: None for i in POST_REQUIRED if i not in a}
    if missing:
        out.append(_reason(k, "checkin.post.missing", missing))
    return out


_POST: tuple[Rule, ...] = (_post_emergency, _post_alerts)


def _pick(a: Answers, ids: tuple[str, ...]) -> dict[str, Any]:
    return {i: a[i] for i in ids if i in a}
