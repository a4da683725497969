"""The result page's content, read from the stored decision snapshot (never recomputed)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from crossline.engine.knowledge import Knowledge
from crossline.intake.models import Assessment
from crossline.render import rule_summary

SCORE_LABELS = {
    "phq2": "PHQ-2",
    "phq9": "PHQ-9",
    "gad2": "GAD-2",
    "gad7": "GAD-7",
    "burnout_single": "Burnout (1–5)",
}


def band_label(band: str | None) -> str:
    """A score band's name in the active language (the bands of Kroenke 2001 and Spitzer 2006,
    FACTS §A1, §A3); "—" for none."""
    names = {
        "minimal": pgettext("score band", "minimal"),
        "mild": pgettext("score band", "mild"),
        "moderate": pgettext("score band", "moderate"),
        "moderately_severe": pgettext("score band", "moderately severe"),
        "severe": pgettext("score band", "severe"),
    }
    return "—" if band is None else names.get(band, band)


def learn_anchor(k: Knowledge, rule: str) -> str:
    """The education-page section that explains a rule (each reason links to it)."""
    family, _, key = rule.partition(".")
    if key in k.conditions:
        return f"who-should-not-{key}"
    if family == "medication":
        return f"medicines-{key}" if key in k.medication_classes else "medicines"
    if family in ("burnout", "triage"):
        return "burnout-vs-depression"
    if family == "safety":
        return "how-it-decides-safety"
    return "how-it-decides"


def patient_reference(k: Knowledge, citation: str, stored: str, lang: str) -> str:
    """A source as the person sees it: evidence as stored in the decision; program policy as
    "Program policy — …" in the page's language, without the internal approval notes."""
    c = k.citations.get(citation)
    if c is None or c.type != "policy":
        return stored
    return c.named(lang)


def reference_language(k: Knowledge, citation: str, lang: str) -> str:
    """The language a source is written in on a `lang` page (`Citation.language`): evidence is
    cited as published, in English; program policy in `lang` where it has a text in it."""
    c = k.citations.get(citation)
    return "en" if c is None else c.language(lang)


def result_context(k: Knowledge, assessment: Assessment, lang: str) -> dict[str, Any]:
    d = assessment.decision
    copy = k.copy
    reasons = [
        {
            "rule": r["rule"],
            "effect": r["effect"],
            "summary": rule_summary(r["rule"], k, lang),
            "answers": [_answer(k, item, value, lang) for item, value in r["answers"].items()],
            "citations": [
                {"id": c, "text": patient_reference(k, c, d["sources"].get(c, ""), lang)}
                for c in r["citations"]
            ],
            "anchor": learn_anchor(k, r["rule"]),
        }
        for r in d["reasons"]
    ]
    return {
        "decision": d,
        "eligibility": d["eligibility"],
        "outcome": {
            k2: v[lang] for k2, v in copy["outcomes"][d["outcome"]].items() if isinstance(v, dict)
        },
        "next": {
            k2: v[lang]
            for k2, v in copy["eligibility"][d["eligibility"]].items()
            if isinstance(v, dict)
        },
        "reasons": reasons,
        "scores": [
            {
                "label": _("Burnout (1–5)") if n == "burnout_single" else SCORE_LABELS[n],
                **s,
                "band": band_label(s.get("band")),
            }
            for n, s in d["scores"].items()
        ],
        # Each with its language: a screen reader reads an English reference on a Spanish page
        # with an English voice (lang="en"), not as Spanish words.
        "sources": [
            {
                "id": c,
                "text": patient_reference(k, c, text, lang),
                "lang": reference_language(k, c, lang),
            }
            for c, text in d["sources"].items()
        ],
        "at_risk": d["safety"]["level"] != "none",
        "safety_level": d["safety"]["level"],
        "versions": {n: d[n] for n in ("engine_version", "knowledge_version", "policy_version")},
        "submitted_at": assessment.submitted_at,
    }


def _answer(k: Knowledge, item_id: str, value: Any, lang: str) -> dict[str, str]:
    item = k.items.get(item_id)
    if item is None:
        return {"question": item_id, "answer": str(value)}
    if isinstance(value, list):
        shown = ", ".join(value)
    else:
        labels = {o.value: o.text[lang] for o in item.options}
        shown = labels.get(value, str(value))
    return {"question": item.text[lang], "answer": shown}
