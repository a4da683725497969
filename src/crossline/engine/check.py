"""Release checks for the knowledge base (`crossline knowledge check`).

A knowledge release ships only when every rule, threshold, condition and medicine class cites a
known source or a recorded program policy, every coded instrument item has its codes, both
languages are present, and product copy is marked for review.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from crossline.engine import checkin, outcomes, weekly
from crossline.engine.errors import KnowledgeError
from crossline.engine.knowledge import LANGUAGES, POLICY_OPENING, Knowledge
from crossline.engine.rules import FIXED_RULE_IDS

CONTRACT_CONDITIONS = frozenset(
    {
        "aneurysm_avm",
        "brain_bleed",
        "ketamine_allergy",
        "bp_uncontrolled",
        "hypertensive_encephalopathy",
        "psychosis",
        "ketamine_misuse",
        "pregnant",
        "breastfeeding",
        "intracranial_pressure",
        "liver_severe",
        "heart",
        "stroke",
        "bipolar",
        "substance_use",
        "liver",
        "bladder",
        "glaucoma",
        "hyperthyroid",
    }
)
EFFECT_OF_SEVERITY = {"avoid": "exclude", "caution": "review", "monitor": "review", "none": "note"}
OUTCOMES = (
    "burnout_may_have_become_depression",
    "signs_of_depression",
    "looks_like_burnout",
    "some_signs_of_depression",
    "few_signs",
    "need_more_answers",
)
ELIGIBILITIES = (
    "safety_first",
    "incomplete",
    "under_age",
    "outside_service_area",
    "not_indicated",
    "not_candidate",
    "candidate",
)
FLAG_KEYS = (
    "age_18_24",
    "age_65_plus",
    "treatment_resistance",
    "unrecognised_medication",
    "exclusion_unsure",
    "bp_reading_elevated",
    "safety_acute",
    "safety_non_acute",
    "burnout_present",
)
COPY_FILES = (
    "contraindications.toml",
    "copy.toml",
    "rules.toml",
    "resources.toml",
    "medications.toml",
    "education.toml",
)
# The files whose citations patient pages show (the result's reasons and sources, the education
# page, the check-in): every program-policy record they cite needs its Spanish text.
PATIENT_FILES = (
    "rules.toml",
    "contraindications.toml",
    "medications.toml",
    "education.toml",
    "checkin.toml",
    "copy.toml",
)
PINNED_LOINC = {("phq9.difficulty", 2): "LA6575-0", ("phq9.difficulty", 3): "LA6574-3"}
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def check(k: Knowledge) -> list[str]:
    """Every problem found; an empty list means the knowledge base may ship."""
    problems: list[str] = []
    for name, ids in _citing_entries(k):
        problems += _cites(k, name, ids)
    problems += _policy_records(k)
    problems += _policy_spanish(k)
    problems += _rule_registry(k)
    problems += _instrument_codes(k)
    problems += _texts(k)
    problems += _medications(k)
    problems += _copy(k)
    problems += _checkin(k)
    problems += _outcomes(k)
    if set(k.conditions) != CONTRACT_CONDITIONS:
        diff = sorted(set(k.conditions) ^ CONTRACT_CONDITIONS)
        problems.append(f"contraindications: conditions differ from the contract: {diff}")
    if k.policy.min_age < 18:
        problems.append("policy: min_age is a hard floor of 18")
    return problems


def _citing_entries(k: Knowledge) -> Iterable[tuple[str, tuple[str, ...]]]:
    for rid, rule in k.rules.items():
        yield f"rule {rid}", rule.citations
    for cid, cond in k.conditions.items():
        yield f"condition {cid}", cond.citations
    for mid, med in k.medication_classes.items():
        yield f"medication class {mid}", med.citations
    yield "medication subject", k.subject.citations
    for iid, inst in k.instruments.items():
        yield f"instrument {iid}", inst.citations
    for value, ids in k.policy.citations.items():
        yield f"policy value {value}", ids
    for table, value, ids in _policy_table_citations(k):
        yield f"policy [{table}] {value}", ids
    for rid, rule in k.docs.get("checkin.toml", {}).get("rules", {}).items():
        yield f"check-in rule {rid}", tuple(rule.get("citations", ()))
    for rid, rule in k.docs.get("checkin.toml", {}).get("alerts", {}).items():
        yield f"course alert reason {rid}", tuple(rule.get("citations", ()))
    for cid, cit in k.citations.items():
        if cit.basis:
            yield f"policy {cid} basis", cit.basis
    yield "resources", tuple(k.docs["resources.toml"].get("citations", ()))
    for doc in ("copy.toml", "education.toml"):
        for where, ids in _nested_citations(k.docs.get(doc, {}), doc):
            yield where, ids


def _nested_citations(node: Any, where: str) -> Iterable[tuple[str, tuple[str, ...]]]:
    """Every `citations` list inside a product-copy document, with where it sits."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "citations" and isinstance(value, list):
                if value:  # copy that makes no clinical claim may cite nothing
                    yield f"{where} citations", tuple(value)
            else:
                yield from _nested_citations(value, f"{where}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _nested_citations(value, f"{where}[{i}]")


def _cites(k: Knowledge, name: str, ids: tuple[str, ...]) -> list[str]:
    if not ids and not name.endswith("basis"):
        return [f"{name}: cites no source"]
    return [f"{name}: unknown citation {c!r}" for c in ids if c not in k.citations]


def _policy_records(k: Knowledge) -> list[str]:
    out = []
    for cid, c in k.citations.items():
        if c.type == "policy":
            if not c.approver:
                out.append(f"citation {cid}: program policy without an approver")
            if not c.date or not _ISO_DATE.match(c.date):
                out.append(f"citation {cid}: program policy without an ISO date")
        elif not c.text:
            out.append(f"citation {cid}: no reference text")
    policy_values = set(k.docs["policy.toml"]["values"])
    for value in sorted(policy_values - set(k.policy.citations)):
        out.append(f"policy value {value}: cites no source")
    return out


def _policy_spanish(k: Knowledge) -> list[str]:
    """Spanish pages show program policy in Spanish: each text opens as its language says, and
    every record a patient page can cite has a Spanish text."""
    out = []
    for cid, c in k.citations.items():
        if c.type != "policy":
            if c.text_es is not None:
                out.append(f"citation {cid}: text_es is for program policy only")
            continue
        for name, lang, text in (("text", "en", c.text), ("text_es", "es", c.text_es)):
            if text is not None and not text.startswith(POLICY_OPENING[lang]):
                out.append(f"citation {cid}: {name} must open {POLICY_OPENING[lang]!r}")
    out += [
        f"citation {cid}: program policy a patient page cites, without text_es"
        for cid in sorted(_patient_policy(k))
        if k.citations[cid].text_es is None
    ]
    return out


def _patient_policy(k: Knowledge) -> set[str]:
    """The program-policy records the files of PATIENT_FILES cite."""
    cited = (
        c for path in PATIENT_FILES for _, ids in _nested_citations(k.docs[path], path) for c in ids
    )
    return {c for c in cited if c in k.citations and k.citations[c].type == "policy"}


def _rule_registry(k: Knowledge) -> list[str]:
    out = [
        f"rule {r}: evaluated by the engine but missing from rules.toml"
        for r in sorted(FIXED_RULE_IDS - set(k.rules))
    ]
    out += [
        f"rule {r}: in rules.toml but unknown to the engine"
        for r in sorted(set(k.rules) - FIXED_RULE_IDS)
    ]
    return out


def _instrument_codes(k: Knowledge) -> list[str]:
    out = []
    for inst in k.instruments.values():
        if inst.kind != "instrument":
            continue
        coded = inst.loinc_panel is not None
        if not coded and not inst.raw.get("loinc_status"):
            out.append(f"instrument {inst.id}: no LOINC panel and no loinc_status explaining why")
        for item_id in inst.items:
            item = k.items[item_id]
            if coded and not item.loinc:
                out.append(f"item {item_id}: no LOINC item code")
            for opt in item.options:
                if coded and not opt.loinc:
                    out.append(f"item {item_id} option {opt.value}: no LOINC answer code")
    for (item_id, value), code in PINNED_LOINC.items():
        got = {o.value: o.loinc for o in k.items[item_id].options}.get(value)
        if got != code:
            out.append(f"item {item_id} option {value}: LOINC {got}, must be {code}")
    return out


def _texts(k: Knowledge) -> list[str]:
    out = []
    for item in k.items.values():
        if item.input == "medications":
            continue
        out += _both_languages(f"item {item.id}", item.text)
        for opt in item.options:
            out += _both_languages(f"item {item.id} option {opt.value}", opt.text)
    for inst in k.instruments.values():
        spanish = inst.raw.get("spanish", {})
        if inst.kind == "instrument" and not inst.spanish_validated and not spanish.get("note"):
            out.append(f"instrument {inst.id}: Spanish not validated and not marked so")
        if inst.kind == "product_question" and not inst.raw.get("copy_status"):
            out.append(f"instrument {inst.id}: product copy without a review mark")
    return out


def _both_languages(name: str, text: Mapping[str, Any] | None) -> list[str]:
    if not text:
        return [f"{name}: no text"]
    return [f"{name}: no {lang} text" for lang in LANGUAGES if not text.get(lang)]


def _medications(k: Knowledge) -> list[str]:
    out = []
    for c in k.medication_classes.values():
        if EFFECT_OF_SEVERITY.get(c.severity) != c.effect:
            out.append(f"medication class {c.id}: severity {c.severity} with effect {c.effect}")
        if not c.names:
            out.append(f"medication class {c.id}: no names")
        out += _both_languages(f"medication class {c.id} flag", c.flag)
    return out


def _copy(k: Knowledge) -> list[str]:
    out = []
    for path in COPY_FILES:
        if not k.docs[path].get("copy_status"):
            out.append(f"{path}: product copy without copy_status (review mark)")
    copy = k.copy
    for key in OUTCOMES:
        title = copy.get("outcomes", {}).get(key, {}).get("title")
        out += _both_languages(f"copy outcome {key}", title)
    for key in ELIGIBILITIES:
        section = copy.get("eligibility", {}).get(key, {})
        out += _both_languages(f"copy eligibility {key}", section.get("next_step"))
    for key in FLAG_KEYS:
        out += _both_languages(f"copy flag {key}", copy.get("flags", {}).get(key))
    for r in k.resources:
        out += _both_languages(f"resource {r.id}", r.label)
    for cond in k.conditions.values():
        out += _both_languages(f"condition {cond.id} flag", cond.flag)
    return out


# --- the policy tables beside [values] (evaluation, checkin, outcomes) ------------------------


def _policy_table_citations(k: Knowledge) -> Iterable[tuple[str, str, tuple[str, ...]]]:
    """Each value of a policy.toml table that has a `citations` sub-table, with its citations
    (none when it has no entry there, so `_cites` reports it)."""
    for table, body in k.docs["policy.toml"].items():
        if table in ("values", "citations") or not isinstance(body, dict):
            continue
        cites = body.get("citations")
        if not isinstance(cites, dict):
            continue
        for name in body:
            if name != "citations":
                yield table, name, tuple(cites.get(name, ()))


def _checkin(k: Knowledge) -> list[str]:
    doc = k.docs.get("checkin.toml")
    if doc is None:
        return ["checkin.toml: missing (the session check-in rules)"]
    out = [] if doc.get("copy_status") else ["checkin.toml: product copy without copy_status"]
    listed = set(doc.get("rules", {}))
    out += [
        f"check-in rule {r}: evaluated by the engine but missing from checkin.toml"
        for r in sorted(set(checkin.RULES) - listed)
    ]
    out += [
        f"check-in rule {r}: in checkin.toml but unknown to the engine"
        for r in sorted(listed - set(checkin.RULES))
    ]
    for rid in sorted(listed):
        out += _both_languages(f"check-in rule {rid} summary", doc["rules"][rid].get("summary"))
    alerts = doc.get("alerts", {})
    for rid in sorted(alerts):
        out += _both_languages(f"course alert reason {rid} summary", alerts[rid].get("summary"))
    out += [
        f"weekly rule {rid}: missing from checkin.toml [alerts]"
        for rid in sorted(set(weekly.RULES) - set(alerts))
    ]

    for key in ("proceed", "hold", "ok", "alert", "emergency"):
        out += _both_languages(
            f"copy checkin {key}", k.copy.get("checkin", {}).get(key, {}).get("title")
        )
    try:
        checkin.checkin_policy(k)
    except KnowledgeError as exc:
        out += list(exc.problems)
    return out


def _outcomes(k: Knowledge) -> list[str]:
    try:
        outcomes.outcomes_policy(k)
    except KnowledgeError as exc:
        return list(exc.problems)
    return []
