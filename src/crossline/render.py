"""Plain-text renderings for the terminal: a decision with its reasons, and the knowledge base."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from crossline.engine.knowledge import Knowledge

_HEAD = {
    "en": {
        "result": "Result",
        "next": "What happens next",
        "safety": "Crisis help — now",
        "why": "Why",
        "flags": "For the physician",
        "missing": "Still needed",
        "scores": "Scores",
        "sources": "Sources",
        "answers": "answers",
        "incomplete": "incomplete",
        "not_diagnosis": "This is a screen, not a diagnosis. "
        "crossline never computes or suggests a dose.",
    },
    "es": {
        "result": "Resultado",
        "next": "Qué sigue",
        "safety": "Ayuda en crisis — ahora",
        "why": "Por qué",
        "flags": "Para el médico",
        "missing": "Falta",
        "scores": "Puntuaciones",
        "sources": "Fuentes",
        "answers": "respuestas",
        "incomplete": "incompleto",
        "not_diagnosis": "Esto es una prueba de detección, no un "
        "diagnóstico. crossline nunca calcula ni sugiere una dosis.",
    },
}
_SCORE_LABELS = {
    "phq2": "PHQ-2",
    "phq9": "PHQ-9",
    "gad2": "GAD-2",
    "gad7": "GAD-7",
    "burnout_single": "Burnout (1–5)",
}


def render_decision(d: Mapping[str, Any], k: Knowledge) -> str:
    lang = d["language"]
    h = _HEAD[lang]
    copy = k.copy
    lines: list[str] = []
    if d["safety"]["crisis_resources"]:
        lines += (
            [f"!! {h['safety']}"]
            + [f"   • {r['label']} ({r['contact']})" for r in d["safety"]["resources"]]
            + [""]
        )
    outcome = copy["outcomes"][d["outcome"]]
    elig = copy["eligibility"][d["eligibility"]]
    if d["eligibility"] != "safety_first":  # at acute risk, crisis help is the whole result
        lines += [f"{h['result']}: {outcome['title'][lang]}", f"  {outcome['summary'][lang]}", ""]
    lines += [
        f"{h['next']}: {elig['title'][lang]} [{d['eligibility']}]",
        f"  {elig['next_step'][lang]}",
        "",
    ]
    lines += (
        [f"{h['scores']}:"]
        + [
            f"  {_SCORE_LABELS[n]}: "
            + (
                f"{s['total']}" + (f" ({s['band']})" if s["band"] else "")
                if s["complete"]
                else h["incomplete"]
            )
            for n, s in d["scores"].items()
        ]
        + [""]
    )
    lines += [f"{h['why']}:"] + [_reason(r, k, lang, h) for r in d["reasons"]] + [""]
    if d["flags"]:
        lines += [f"{h['flags']}:"] + [f"  • {f['message']}" for f in d["flags"]] + [""]
    if d["missing"]:
        lines += [f"{h['missing']}: {', '.join(d['missing'])}", ""]
    lines += [f"{h['sources']}:"] + [f"  [{c}] {t}" for c, t in d["sources"].items()] + [""]
    lines += [
        h["not_diagnosis"],
        f"engine {d['engine_version']} · knowledge {d['knowledge_version']} · "
        f"policy {d['policy_version']}",
    ]
    return "\n".join(lines)


def rule_summary(rule: str, k: Knowledge, lang: str) -> str:
    if rule in k.rules:
        return str(k.rules[rule].summary[lang])
    family, _, key = rule.partition(".")
    if family == "medication":
        med = k.medication_classes[key]
        family = "medication_note" if med.effect == "note" else family
        return str(k.families[family]["summary"][lang]).format(label=med.label[lang])
    template = str(k.families[family]["summary"][lang])
    return template.format(label=k.conditions[key].label[lang])


def _reason(r: Mapping[str, Any], k: Knowledge, lang: str, h: Mapping[str, str]) -> str:
    answers = ", ".join(f"{i}={v}" for i, v in r["answers"].items())
    text = f"  • {rule_summary(r['rule'], k, lang)}\n    [{r['rule']} · {r['effect']}]"
    if answers:
        text += f" {h['answers']}: {answers}"
    return text + f" · {', '.join(r['citations'])}"


def render_knowledge(k: Knowledge, lang: str) -> str:
    """A readable listing for clinical review: every item, rule, threshold and source."""
    out = [f"crossline knowledge {k.version} · policy {k.policy.version} · language {lang}", ""]
    for inst in k.instruments.values():
        es_mark = "" if inst.spanish_validated else "  [Spanish NOT validated]"
        out.append(
            f"== {inst.title[lang]} ({inst.id}) — cites {', '.join(inst.citations)}{es_mark}"
        )
        out.append(f"   {inst.stem[lang]}")
        for item_id in inst.items:
            item = k.items[item_id]
            code = f" [LOINC {item.loinc}]" if item.loinc else ""
            out.append(f"   {item_id}{code}: {item.text[lang]}")
            for o in item.options:
                ocode = f" [{o.loinc}]" if o.loinc else ""
                out.append(f"      {o.value} = {o.text[lang]}{ocode}")
        out.append("")
    out.append("== Conditions (medical checklist)")
    for c in k.conditions.values():
        out.append(
            f"   medical.{c.id} [{c.kind}] — {c.label[lang]} — cites {', '.join(c.citations)}"
        )
        out.append(f"      Q: {c.question[lang]}")
    out += ["", "== Medication classes"]
    for m in k.medication_classes.values():
        mark = " ⚠ unverified" if m.unverified else ""
        out.append(f"   {m.id} [{m.severity} → {m.effect}]{mark} — cites {', '.join(m.citations)}")
        out.append(f"      {m.mechanism}")
        out.append(f"      names: {', '.join(m.names)}")
    out += ["", "== Program policy"]
    for name, cites in k.policy.citations.items():
        value = getattr(k.policy, name)
        if isinstance(value, frozenset):
            value = ", ".join(sorted(value))
        out.append(f"   {name} = {value} — cites {', '.join(cites)}")
    out += ["", "== Rules"]
    for r in k.rules.values():
        out.append(f"   {r.id} [{r.effect}] — cites {', '.join(r.citations)}: {r.summary[lang]}")
    out += ["", "== Citations"]
    for cit in k.citations.values():
        out.append(f"   [{cit.id}] {cit.formatted()}")
    return "\n".join(out)
