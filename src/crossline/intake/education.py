"""The education page ("Learn"), generated from the knowledge base in one language.

One source of truth: condition and medicine labels, severities, example names, rule summaries,
policy numbers, crisis resources and references come from the same knowledge files the engine
decides with. `education.toml` holds only the patient-facing explanations around them. Every
section carries its sources, and the references list exactly what the page cites, with program
policy kept apart from evidence.

Pure: no Django and no request. The view passes the active language; each result reason links
to an anchor here (`crossline.intake.results.learn_anchor`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import fields
from typing import Any

from crossline.engine.knowledge import LANGUAGES, Citation, Knowledge
from crossline.intake.states import in_alphabetical_order, state_name

DOC = "education.toml"
EXAMPLE_NAMES = 8
# Medicine groups in page order, keyed by the class `effect` (medications.toml).
MEDICINE_GROUPS = ("exclude", "review", "note")
# Rules explained in the safety subsection rather than the main rule list.
SAFETY_FAMILY = "safety"
# Sections of education.toml that must cite sources, and where a step's `link` may point.
SECTIONS = (
    "burnout_vs_depression",
    "signs",
    "recovery",
    "ketamine",
    "how_it_decides",
    "safety",
    "who_should_not",
    "medicines",
)
LINK_TARGETS = {
    "burnout-vs-depression": "burnout_vs_depression",
    "how-it-decides-safety": "safety",
    "who-should-not": "who_should_not",
    "medicines": "medicines",
}


class Cited:
    """The citation ids the page uses, in order of first use (the references section)."""

    def __init__(self) -> None:
        self.ids: dict[str, None] = {}

    def add(self, ids: Iterable[str]) -> list[str]:
        out = list(dict.fromkeys(ids))
        self.ids.update(dict.fromkeys(out))
        return out


def education_context(k: Knowledge, lang: str) -> dict[str, Any]:
    """Everything learn.html shows, in `lang` ("en" or "es")."""
    doc = k.docs[DOC]
    cited = Cited()
    page = _Page(k, doc, lang, cited)
    # Built in the order the page shows them, so the references follow first appearance.
    context = {
        "page": {"title": page.t(doc["page"]["title"]), "intro": page.t(doc["page"]["intro"])},
        "burnout": page.burnout(),
        "signs": page.signs(),
        "recovery": page.recovery(),
        "ketamine": page.ketamine(),
        "decides": page.decides(),
        "safety": page.safety(),  # shown right after the steps of "how it decides"
    }
    context["decides"].update(page.decides_rules())
    return {
        **context,
        "who_should_not": page.who_should_not(),
        "medicines": page.medicines(),
        # Last: it lists what the sections above cited.
        "references": page.references(),
    }


class _Page:
    """Builds each section; `cited` collects every citation in the order the page shows it."""

    def __init__(self, k: Knowledge, doc: Mapping[str, Any], lang: str, cited: Cited) -> None:
        self.k, self.doc, self.lang, self.cited = k, doc, lang, cited
        self.values = policy_values(k, doc, lang)

    def t(self, text: Mapping[str, str]) -> str:
        return text[self.lang]

    def sources(self, *groups: Iterable[str]) -> dict[str, list[str]]:
        """One block's citation ids, evidence and program policy apart (both link to references)."""
        ids = self.cited.add(c for group in groups for c in group)
        policy = [c for c in ids if self.k.citations[c].type == "policy"]
        return {"evidence": [c for c in ids if c not in policy], "policy": policy}

    def section(self, key: str, *fields: str) -> dict[str, Any]:
        raw = self.doc[key]
        out: dict[str, Any] = {f: self.t(raw[f]) for f in ("title", "intro", *fields)}
        out["sources"] = self.sources(raw["citations"])
        return out

    def burnout(self) -> dict[str, Any]:
        raw = self.doc["burnout_vs_depression"]
        out = self.section("burnout_vs_depression", "caption")
        out["columns"] = {name: self.t(text) for name, text in raw["columns"].items()}
        out["rows"] = [
            {"id": r["id"], **{f: self.t(r[f]) for f in ("aspect", "burnout", "depression")}}
            for r in raw["rows"]
        ]
        note = raw["note"]
        out["note"] = {"text": self.t(note["text"]), "sources": self.sources(note["citations"])}
        icd = raw["icd11"]
        out["icd11"] = {
            "title": self.t(icd["title"]),
            "text": self.t(icd["text"]),
            "dimensions": [self.t(d) for d in icd["dimensions"]],
            "after": self.t(icd["after"]),
            "sources": self.sources(icd["citations"]),
        }
        return out

    def signs(self) -> dict[str, Any]:
        out = self.section("signs", "after")
        out["items"] = [
            {"text": self.t(i), "urgent": bool(i.get("urgent"))} for i in self.doc["signs"]["items"]
        ]
        return out

    def recovery(self) -> dict[str, Any]:
        out = self.section("recovery", "after")
        out["steps"] = [
            {"title": self.t(s["title"]), "text": self.t(s["text"])}
            for s in self.doc["recovery"]["steps"]
        ]
        return out

    def ketamine(self) -> dict[str, Any]:
        out = self.section("ketamine", "can_title", "cannot_title")
        points = [
            {
                "kind": p["kind"],
                "title": self.t(p["title"]),
                "text": self.t(p["text"]),
                "sources": self.sources(p["citations"]),
            }
            for p in self.doc["ketamine"]["points"]
        ]
        out["can"] = [p for p in points if p["kind"] == "can"]
        out["cannot"] = [p for p in points if p["kind"] != "can"]
        return out

    def explained(self, raw: Mapping[str, Any]) -> dict[str, Any]:
        """A step or point whose text uses policy values and explains rules (their sources too)."""
        value_cites = (self.k.policy.citations[v] for v in raw["values"])
        rule_cites = (self.k.rules[r].citations for r in raw["rules"])
        return {
            "id": raw["id"],
            "title": self.t(raw["title"]),
            "text": self.t(raw["text"]).format_map(self.values),
            "link": self.link(raw.get("link")),
            "sources": self.sources(*value_cites, *rule_cites, raw["citations"]),
        }

    def link(self, anchor: str | None) -> dict[str, str] | None:
        if anchor is None:
            return None
        return {"anchor": anchor, "title": self.t(self.doc[LINK_TARGETS[anchor]]["title"])}

    def rule_list(self, rule_ids: Iterable[str]) -> list[dict[str, Any]]:
        words = self.doc["words"]["effect"]
        return [
            {
                "id": rid,
                "summary": self.t(self.k.rules[rid].summary),
                "effect": self.t(words[self.k.rules[rid].effect]),
                "sources": self.sources(self.k.rules[rid].citations),
            }
            for rid in rule_ids
        ]

    def decides(self) -> dict[str, Any]:
        raw = self.doc["how_it_decides"]
        out = self.section("how_it_decides", "steps_title", "rules_title", "rules_intro")
        out["steps"] = [self.explained(s) for s in raw["steps"]]
        return out

    def decides_rules(self) -> dict[str, Any]:
        """The rest of "how it decides": missing answers, then every rule but the safety ones."""
        missing = self.doc["how_it_decides"]["missing"]
        return {
            "missing": {
                "title": self.t(missing["title"]),
                "text": self.t(missing["text"]),
                "sources": self.sources(missing["citations"]),
            },
            "rules": self.rule_list(r for r in self.k.rules if not _is_safety(r)),
        }

    def safety(self) -> dict[str, Any]:
        raw = self.doc["safety"]
        out = self.section("safety", "resources_title", "rules_title")
        out["points"] = [self.explained(p) for p in raw["points"]]
        out["universal_asq"] = self.t(raw["universal_asq"]) if self.k.policy.universal_asq else ""
        out["rules"] = self.rule_list(r for r in self.k.rules if _is_safety(r))
        out["resources"] = [
            {"id": r.id, "label": self.t(r.label), "contact": self.t(r.contact)}
            for r in self.k.resources
        ]
        out["resource_sources"] = self.sources(self.k.docs["resources.toml"]["citations"])
        return out

    def who_should_not(self) -> dict[str, Any]:
        fields = ("exclusion_title", "exclusion_intro", "review_title", "review_intro", "unsure")
        out = self.section("who_should_not", *fields)
        explain = self.doc["conditions"]
        for kind in ("exclusion", "review"):
            out[kind] = [
                {
                    "id": c.id,
                    "anchor": f"who-should-not-{c.id}",
                    "label": self.t(c.label),
                    "explain": self.t(explain[c.id]["explain"]),
                    "sources": self.sources(c.citations, explain[c.id]["citations"]),
                }
                for c in self.k.conditions.values()
                if c.kind == kind
            ]
        return out

    def medicines(self) -> dict[str, Any]:
        raw = self.doc["medicines"]
        out = self.section("medicines", "examples", "unverified")
        explain = self.doc["medicine_classes"]
        out["groups"] = [
            {
                "effect": effect,
                "anchor": f"medicines-group-{effect}",
                "title": self.t(raw["groups"][effect]["title"]),
                "classes": [
                    {
                        "id": c.id,
                        "anchor": f"medicines-{c.id}",
                        "label": self.t(c.label),
                        "severity": self.t(raw["groups"][effect]["severity"]),
                        "explain": self.t(explain[c.id]["explain"]),
                        "examples": example_names(c.names),
                        "unverified": c.unverified,
                        "sources": self.sources(c.citations),
                    }
                    for c in self.k.medication_classes.values()
                    if c.effect == effect
                ],
            }
            for effect in MEDICINE_GROUPS
        ]
        return out

    def references(self) -> dict[str, Any]:
        raw = self.doc["references"]
        cites = [self.k.citations[c] for c in self.cited.ids]
        return {
            **{f: self.t(raw[f]) for f in ("title", "intro", "evidence_title", "policy_title")},
            "policy_intro": self.t(raw["policy_intro"]),
            "evidence": [_reference(c, self.lang) for c in cites if c.type != "policy"],
            "policy": [_reference(c, self.lang) for c in cites if c.type == "policy"],
        }


def _is_safety(rule_id: str) -> bool:
    return rule_id.partition(".")[0] == SAFETY_FAMILY


def _reference(c: Citation, lang: str) -> dict[str, str]:
    """A reference in the page's language: program policy with its approval note in `lang`;
    evidence as published (titles are cited in their own language), with the language it is in
    (the page marks an English reference on a Spanish page lang="en")."""
    return {"id": c.id, "text": c.formatted(lang), "url": c.url or "", "lang": c.language(lang)}


def example_names(names: Sequence[str], limit: int = EXAMPLE_NAMES) -> list[str]:
    """The first names of a class, skipping spelling variants ("theo-24" / "theo 24")."""
    seen: set[str] = set()
    out: list[str] = []
    for name in names:
        key = name.replace("-", " ")
        if key not in seen:
            seen.add(key)
            out.append(name)
        if len(out) == limit:
            break
    return out


def policy_values(k: Knowledge, doc: Mapping[str, Any], lang: str) -> dict[str, str]:
    """Policy values as the page writes them: {placeholders} in the how-it-decides texts."""
    p = k.policy
    words = doc["words"]
    values = {f.name: str(getattr(p, f.name)) for f in fields(p) if f.name != "citations"}
    values["service_states"] = _join(
        [state_name(s, lang) for s in in_alphabetical_order(p.service_states, lang)],
        words["and"][lang],
    )
    for name in ("alert_deadline_acute_minutes", "alert_deadline_non_acute_minutes"):
        values[name] = duration(getattr(p, name), words, lang)
    return values


def duration(minutes: int, words: Mapping[str, Any], lang: str) -> str:
    if minutes == 60:
        return str(words["hour"][lang])
    if minutes % 60 == 0:
        return str(words["hours"][lang]).format(n=minutes // 60)
    return str(words["minutes"][lang]).format(n=minutes)


def _join(items: Sequence[str], conjunction: str) -> str:
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {conjunction} {items[-1]}"


def problems(k: Knowledge) -> list[str]:
    """What would make the page wrong: a missing language, explanation or unknown citation."""
    doc = k.docs.get(DOC)
    if doc is None:
        return [f"{DOC}: missing"]
    out = [] if doc.get("copy_status") else [f"{DOC}: product copy without copy_status"]
    out += [f"{DOC}: section {s} cites no source" for s in SECTIONS if not doc[s].get("citations")]
    out += [f"{DOC}: {p}" for p in _walk(doc, "", k)]
    out += [
        f"{DOC}: condition {cid} has no patient-facing explanation"
        for cid in k.conditions
        if cid not in doc.get("conditions", {})
    ]
    out += [
        f"{DOC}: medication class {cid} has no patient-facing explanation"
        for cid in k.medication_classes
        if cid not in doc.get("medicine_classes", {})
    ]
    out += _renders(k)
    return out


def _renders(k: Knowledge) -> list[str]:
    """Unknown rules, policy values, placeholders or link targets fail here, not on the page."""
    out = []
    for lang in LANGUAGES:
        try:
            education_context(k, lang)
        except (KeyError, ValueError, IndexError) as exc:
            out.append(f"{DOC}: the {lang} page does not render: {exc!r}")
    return out


def _walk(node: Any, path: str, k: Knowledge) -> Iterable[str]:
    if isinstance(node, list):
        for i, child in enumerate(node):
            yield from _walk(child, f"{path}[{i}]", k)
    elif isinstance(node, dict):
        if set(LANGUAGES) & set(node):
            yield from (f"{path}: no {lang} text" for lang in LANGUAGES if not node.get(lang))
        for c in node.get("citations", ()):
            if c not in k.citations:
                yield f"{path}: unknown citation {c!r}"
        for key, child in node.items():
            yield from _walk(child, f"{path}.{key}" if path else key, k)
