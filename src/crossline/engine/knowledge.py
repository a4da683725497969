"""The knowledge base as typed, immutable values, built from already-parsed data files.

The engine never reads files: `crossline.knowledge.load()` reads the TOML files and hands the
parsed documents to `build()`. Structural problems raise `KnowledgeError` here; the softer
release checks (citations, codes, review marks) live in `crossline.engine.check`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from crossline.engine.errors import KnowledgeError, PolicyError
from crossline.engine.medications import normalise_name

LANGUAGES = ("en", "es")
Text = Mapping[str, str]
Value = int | str


@dataclass(frozen=True, slots=True)
class Option:
    value: Value
    text: Text
    loinc: str | None = None
    loinc_aliases: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Item:
    id: str
    instrument: str
    text: Text
    input: str  # choice | integer | us_state | medications | condition
    options: tuple[Option, ...] = ()
    minimum: int | None = None
    maximum: int | None = None
    loinc: str | None = None
    scored: bool = True
    help: Text | None = None
    # Precomputed for validation (the hot path): the allowed values, and the integer range of
    # numeric items (from min/max, or from the options' values).
    values: tuple[Value, ...] = ()
    int_range: tuple[int, int] | None = None
    # The contract's fast path (`parse_answers`): the range of a plain integer item, or the
    # strings a plain choice item accepts. Medications and states take the full check.
    valid_range: tuple[int, int] | None = field(init=False, repr=False, compare=False)
    valid_strings: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        values = tuple(o.value for o in self.options)
        numbers = [v for v in values if isinstance(v, int)]
        if self.minimum is not None and self.maximum is not None:
            int_range: tuple[int, int] | None = (self.minimum, self.maximum)
        else:
            int_range = (min(numbers), max(numbers)) if numbers else None
        object.__setattr__(self, "values", values)
        object.__setattr__(self, "int_range", int_range)
        plain = self.input not in ("medications", "us_state")
        object.__setattr__(self, "valid_range", int_range if plain else None)
        strings = frozenset(v for v in values if isinstance(v, str))
        object.__setattr__(
            self, "valid_strings", strings if plain and int_range is None else frozenset()
        )


@dataclass(frozen=True, slots=True)
class Band:
    id: str
    low: int
    high: int


@dataclass(frozen=True, slots=True)
class Score:
    """One scale's result for one answer set (see `crossline.engine.instruments.score`)."""

    total: int | None
    band: str | None
    complete: bool

    def to_dict(self) -> dict[str, Any]:
        return {"total": self.total, "band": self.band, "complete": self.complete}


@dataclass(frozen=True, slots=True)
class Scale:
    """A scored instrument or subscale: which items add up, and the bands (if defined)."""

    id: str
    items: tuple[str, ...]
    max_total: int
    bands: tuple[Band, ...] = ()
    loinc_total: str | None = None  # the LOINC code of the total, where the knowledge has one
    # The complete score for each total from 0 to max_total, built once with the knowledge
    # (scores are immutable values, so decisions share them).
    scores: tuple[Score, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        table = tuple(Score(t, self.band(t), True) for t in range(self.max_total + 1))
        object.__setattr__(self, "scores", table)

    def band(self, total: int) -> str | None:
        for b in self.bands:
            if b.low <= total <= b.high:
                return b.id
        return None


@dataclass(frozen=True, slots=True)
class Instrument:
    id: str
    kind: str
    title: Text
    stem: Text
    items: tuple[str, ...]
    citations: tuple[str, ...]
    validated: bool
    spanish_validated: bool
    licence: Text | None = None
    loinc_panel: str | None = None
    loinc_total: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Condition:
    id: str
    kind: str  # exclusion | review
    citations: tuple[str, ...]
    label: Text
    question: Text
    flag: Text


@dataclass(frozen=True, slots=True)
class MedicationClass:
    id: str
    severity: str  # avoid | caution | monitor | none
    effect: str  # exclude | review | note
    citations: tuple[str, ...]
    unverified: bool
    mechanism: str
    label: Text
    flag: Text
    names: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class MedicationSubject:
    names: tuple[str, ...]
    citations: tuple[str, ...]


# Program policy as sources lists show it, in each language that has policy texts: the opening
# every record's text starts with (`crossline knowledge check` holds it), and the words of its
# approval note. Evidence is cited as published, in its own language, so it has no such words.
POLICY_OPENING = {"en": "Program policy: ", "es": "Política del programa: "}
_POLICY_WORDS = {
    "en": ("Program policy", "approver", "signed off", "awaiting sign-off"),
    "es": (
        "Política del programa",
        "responsable de la aprobación",
        "firmada",
        "pendiente de firma",
    ),
}
# The approver the shipped defaults name is a sentence, not a name, so it has a Spanish form; a
# program's own approver (a person) is shown as written, and never goes stale in one language.
DEFAULT_APPROVER = {
    "en": "crossline default policy (program medical director to sign)",
    "es": "política predeterminada de crossline (para firma de la dirección médica del programa)",
}


@dataclass(frozen=True, slots=True)
class Citation:
    id: str
    type: str
    text: str
    text_es: str | None = None  # program policy's text for Spanish pages (opens as POLICY_OPENING)
    pmid: str | None = None
    url: str | None = None
    section: str | None = None
    approver: str | None = None
    date: str | None = None
    signed_off: bool | None = None
    basis: tuple[str, ...] = ()
    reference: str = ""  # the formatted reference, computed once

    def __post_init__(self) -> None:
        object.__setattr__(self, "reference", self._format())

    def formatted(self, lang: str = "en") -> str:
        """The reference in a sources list; program policy in `lang` where the record has a text
        in it (English otherwise). Decisions and staff pages use the English one."""
        if self.type != "policy" or self.language(lang) == "en":
            return self.reference
        return self._policy_reference(self.language(lang))

    def language(self, lang: str) -> str:
        """The language this record is shown in on a `lang` page: "es" only where it has a
        Spanish text, so a sentence is never wrapped in words of another language."""
        return "es" if lang == "es" and self.text_es else "en"

    def statement(self, lang: str = "en") -> str:
        """A policy record's text in `lang` (see `language`) without its opening."""
        shown = self.language(lang)
        text = self.text_es if shown == "es" and self.text_es else self.text
        return text.removeprefix(POLICY_OPENING[shown])

    def named(self, lang: str = "en") -> str:
        """A policy record as patient pages list it: "Program policy — …" in `lang` (see
        `language`), without the approval note."""
        return f"{_POLICY_WORDS[self.language(lang)][0]} — {self.statement(lang)}"

    def _policy_reference(self, lang: str) -> str:
        _name, approver, signed, awaiting = _POLICY_WORDS[lang]
        state = signed if self.signed_off else awaiting
        who = DEFAULT_APPROVER[lang] if self.approver == DEFAULT_APPROVER["en"] else self.approver
        return f"{self.named(lang)} ({approver}: {who}; {self.date}; {state})"

    def _format(self) -> str:
        if self.type == "policy":
            return self._policy_reference("en")
        parts = [self.text]
        if self.pmid:
            parts.append(f"PMID {self.pmid}.")
        if self.url:
            parts.append(self.url)
        return " ".join(parts)


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    effect: str
    citations: tuple[str, ...]
    summary: Text


@dataclass(frozen=True, slots=True)
class Resource:
    id: str
    label: Text
    contact: Text
    short: Text  # a short label for the compact crisis panel


@dataclass(frozen=True, slots=True)
class Policy:
    """Program policy values. Hard floors are enforced in `Knowledge.with_policy`."""

    name: str
    service_states: frozenset[str]
    min_age: int
    phq2_gate: int
    phq9_positive: int
    burnout_present: int
    burnout_asq_trigger: int
    young_adult_max_age: int
    older_adult_min_age: int
    trd_trials_flag: int
    bp_review_systolic: int
    bp_review_diastolic: int
    universal_asq: bool
    alert_deadline_acute_minutes: int
    alert_deadline_non_acute_minutes: int
    anonymous_retention_days: int
    citations: Mapping[str, tuple[str, ...]]
    # A hash of policy.toml's other tables ([evaluation], [checkin], [outcomes], [course]), so a
    # change to a check-in or course threshold changes the version stored beside a decision.
    tables: str = ""
    version: str = ""  # the declared name + a hash of the effective values, computed once

    def __post_init__(self) -> None:
        values: dict[str, Any] = {k: getattr(self, k) for k in _POLICY_FIELDS}
        values["service_states"] = sorted(self.service_states)
        if self.tables:
            values["tables"] = self.tables
        digest = hashlib.sha256(json.dumps(values, sort_keys=True).encode()).hexdigest()
        object.__setattr__(self, "version", f"{self.name}+{digest[:8]}")


_POLICY_FIELDS = (
    "service_states",
    "min_age",
    "phq2_gate",
    "phq9_positive",
    "burnout_present",
    "burnout_asq_trigger",
    "young_adult_max_age",
    "older_adult_min_age",
    "trd_trials_flag",
    "bp_review_systolic",
    "bp_review_diastolic",
    "universal_asq",
    "alert_deadline_acute_minutes",
    "alert_deadline_non_acute_minutes",
    "anonymous_retention_days",
)

# What operators may change at run time (PRODUCT.md "Sources and policy"); everything else
# changes only through a reviewed release of policy.toml.
OPERATOR_EDITABLE = frozenset(
    {
        "service_states",
        "universal_asq",
        "alert_deadline_acute_minutes",
        "alert_deadline_non_acute_minutes",
        "anonymous_retention_days",
    }
)


@dataclass(frozen=True, slots=True)
class Knowledge:
    version: str
    instruments: Mapping[str, Instrument]
    items: Mapping[str, Item]
    scales: Mapping[str, Scale]
    conditions: Mapping[str, Condition]
    medical_ids: tuple[str, ...]  # the checklist's answer ids, in checklist order
    medication_classes: Mapping[str, MedicationClass]
    medication_index: Mapping[str, str]  # normalised name -> class id
    medication_max_words: int
    # The medicines the classes are checked against (ketamine, esketamine and their names): an
    # order naming one is what the CDS Hooks service answers (`crossline.fhir.cds`).
    subject: MedicationSubject
    citations: Mapping[str, Citation]
    rules: Mapping[str, Rule]
    families: Mapping[str, Mapping[str, Any]]
    resources: tuple[Resource, ...]
    copy: Mapping[str, Any]
    policy: Policy
    docs: Mapping[str, Mapping[str, Any]]
    # Built once, for the rules: each checklist answer id with its condition, in order.
    checklist: tuple[tuple[str, Condition], ...] = field(init=False, repr=False, compare=False)
    # The rules' evaluation plan (`crossline.engine.rules.plan_of`): derived from the fields
    # above on first use and kept with them; never holds anything about any answers.
    plan: Any = field(init=False, repr=False, compare=False, default=None)
    # The contract's fast path (`parse_answers`), by answer id: the range of each plain integer
    # item, and the strings each plain choice item accepts as they are — for a state, the
    # USPS codes themselves (what the full check normalises any accepted spelling to).
    accepted_ints: Mapping[str, tuple[int, int]] = field(init=False, repr=False, compare=False)
    accepted_strings: Mapping[str, frozenset[str]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        checklist = tuple(zip(self.medical_ids, self.conditions.values(), strict=True))
        object.__setattr__(self, "checklist", checklist)
        ints = {i: item.valid_range for i, item in self.items.items() if item.valid_range}
        strings = {i: item.valid_strings for i, item in self.items.items() if item.valid_strings}
        for i, item in self.items.items():
            if item.input == "us_state":
                strings[i] = US_STATES
        object.__setattr__(self, "accepted_ints", ints)
        object.__setattr__(self, "accepted_strings", strings)

    def with_policy(self, **changes: Any) -> Knowledge:
        """A copy with operator-editable policy changed; hard floors and stricter-only hold."""
        unknown = set(changes) - OPERATOR_EDITABLE
        if unknown:
            raise PolicyError(f"not editable by operators: {', '.join(sorted(unknown))}")
        if "service_states" in changes:
            changes["service_states"] = _service_states(changes["service_states"])
        if "universal_asq" in changes:
            if not isinstance(changes["universal_asq"], bool):
                raise PolicyError("universal_asq: must be true or false")
            if self.policy.universal_asq and not changes["universal_asq"]:
                raise PolicyError("universal_asq: can only be switched on (stricter only)")
        for name in OPERATOR_EDITABLE - {"service_states", "universal_asq"}:
            value = changes.get(name, 1)
            if type(value) is not int or value < 1:
                raise PolicyError(f"{name}: must be a whole number of at least 1")
        return replace(self, policy=replace(self.policy, **changes))


def _service_states(states: Any) -> frozenset[str]:
    if isinstance(states, str) or not all(isinstance(s, str) for s in states):
        raise PolicyError("service_states: must be a list of USPS codes")
    codes = frozenset(s.strip().upper() for s in states)
    bad = sorted(codes - US_STATES)
    if bad:
        raise PolicyError(f"service_states: not a US state, DC or territory: {bad}")
    return codes


# USPS codes: the 50 states, DC and the inhabited territories.
US_STATES = frozenset(
    "AL AK AZ AR CA CO CT DE FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ "
    "NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY DC AS GU MP PR VI".split()
)

MEDICAL_ANSWERS = ("yes", "no", "unsure")


def knowledge_version(files: Mapping[str, bytes]) -> str:
    """The hash of the knowledge files: path and content, in path order."""
    h = hashlib.sha256()
    for path in sorted(files):
        h.update(path.encode() + b"\0" + files[path] + b"\0")
    return "sha256:" + h.hexdigest()[:16]


def build(docs: Mapping[str, Mapping[str, Any]], version: str) -> Knowledge:
    """Turn parsed knowledge documents (path -> TOML table) into a `Knowledge`."""
    problems: list[str] = []
    try:
        return _build(docs, version, problems)
    except KeyError as exc:
        problems.append(f"malformed knowledge: missing {exc}")
        raise KnowledgeError(problems) from exc
    except (TypeError, ValueError) as exc:
        problems.append(f"malformed knowledge: {exc!r}")
        raise KnowledgeError(problems) from exc


def _build(docs: Mapping[str, Mapping[str, Any]], version: str, problems: list[str]) -> Knowledge:
    instruments: dict[str, Instrument] = {}
    items: dict[str, Item] = {}
    scales: dict[str, Scale] = {}
    for path in sorted(p for p in docs if p.startswith("instruments/")):
        _add_instrument(docs[path], instruments, items, scales, problems)
    contra = docs["contraindications.toml"]
    conditions = {cid: _condition(cid, c) for cid, c in contra["conditions"].items()}
    for cid in conditions:
        items[f"medical.{cid}"] = Item(
            id=f"medical.{cid}",
            instrument="contraindications",
            text=conditions[cid].question,
            input="condition",
            options=_medical_options(contra),
            scored=False,
        )
    items["medications"] = Item(
        id="medications",
        instrument="medications",
        text=docs["copy.toml"].get("questions", {}).get("medications", {"en": "", "es": ""}),
        input="medications",
        scored=False,
    )
    classes, index = _medications(docs["medications.toml"], problems)
    subject = _subject(docs["medications.toml"], index, problems)
    if problems:
        raise KnowledgeError(problems)
    rules_doc = docs["rules.toml"]
    return Knowledge(
        version=version,
        instruments=instruments,
        items=items,
        scales=scales,
        conditions=conditions,
        medical_ids=tuple(f"medical.{c}" for c in conditions),
        medication_classes=classes,
        medication_index=index,
        medication_max_words=max(len(n.split()) for n in index),
        subject=subject,
        citations=_citations(docs["citations.toml"]),
        rules={
            rid: Rule(rid, r["effect"], tuple(r["citations"]), r["summary"])
            for rid, r in rules_doc["rules"].items()
        },
        families=rules_doc.get("families", {}),
        resources=tuple(
            _resource(r, docs["resources.toml"]["names"])
            for r in docs["resources.toml"]["resources"]
        ),
        copy=docs["copy.toml"],
        policy=_policy(docs["policy.toml"]),
        docs=docs,
    )


def _add_instrument(
    doc: Mapping[str, Any],
    instruments: dict[str, Instrument],
    items: dict[str, Item],
    scales: dict[str, Scale],
    problems: list[str],
) -> None:
    iid = doc["id"]
    option_sets = {
        name: tuple(_option(o) for o in s["options"])
        for name, s in doc.get("option_sets", {}).items()
    }
    ids = []
    for raw in doc["items"]:
        item = _item(iid, raw, option_sets)
        if item.id in items:
            problems.append(f"duplicate item id {item.id}")
        items[item.id] = item
        ids.append(item.id)
    spanish = doc.get("spanish", {})
    instruments[iid] = Instrument(
        id=iid,
        kind=doc["kind"],
        title=doc["title"],
        stem=doc["stem"],
        items=tuple(ids),
        citations=tuple(doc["citations"]),
        validated=bool(doc["validated"]),
        spanish_validated=bool(spanish.get("validated", False)),
        licence=doc.get("licence"),
        loinc_panel=doc.get("loinc_panel"),
        loinc_total=doc.get("loinc_total"),
        raw=doc,
    )
    if doc.get("scored_items"):
        bands = tuple(Band(b["id"], b["min"], b["max"]) for b in doc.get("bands", []))
        scales[iid] = Scale(
            iid, tuple(doc["scored_items"]), doc["max_total"], bands, doc.get("loinc_total")
        )
    for sub in doc.get("subscales", []):
        scales[sub["id"]] = Scale(
            sub["id"], tuple(sub["items"]), sub["max_total"], loinc_total=sub.get("loinc_total")
        )


def _option(o: Mapping[str, Any]) -> Option:
    text = {lang: o[lang] for lang in LANGUAGES}
    return Option(o["value"], text, o.get("loinc"), tuple(o.get("loinc_aliases", ())))


def _item(iid: str, raw: Mapping[str, Any], option_sets: Mapping[str, tuple[Option, ...]]) -> Item:
    options = option_sets[raw["options"]] if "options" in raw else ()
    return Item(
        id=raw["id"],
        instrument=iid,
        text={lang: raw[lang] for lang in LANGUAGES},
        input=raw.get("input", "choice"),
        options=options,
        minimum=raw.get("min"),
        maximum=raw.get("max"),
        loinc=raw.get("loinc"),
        scored=raw.get("scored", True),
        help=raw.get("help"),
    )


def _medical_options(contra: Mapping[str, Any]) -> tuple[Option, ...]:
    labels = contra["checklist"]["answer_labels"]
    return tuple(Option(v, labels[v]) for v in MEDICAL_ANSWERS)


def _condition(cid: str, c: Mapping[str, Any]) -> Condition:
    return Condition(cid, c["kind"], tuple(c["citations"]), c["label"], c["question"], c["flag"])


def _medications(
    doc: Mapping[str, Any], problems: list[str]
) -> tuple[dict[str, MedicationClass], dict[str, str]]:
    classes: dict[str, MedicationClass] = {}
    index: dict[str, str] = {}
    for cid, c in doc["classes"].items():
        names = tuple(c["names"])
        classes[cid] = MedicationClass(
            cid,
            c["severity"],
            c["effect"],
            tuple(c["citations"]),
            bool(c.get("unverified")),
            c["mechanism"],
            c["label"],
            c["flag"],
            names,
        )
        for name in names:
            if normalise_name(name) != name:
                problems.append(f"medication name not normalised: {name!r} in {cid}")
            if name in index:
                problems.append(f"duplicate medication name {name!r} in {index[name]} and {cid}")
            index[name] = cid
    return classes, index


def _subject(
    doc: Mapping[str, Any], index: Mapping[str, str], problems: list[str]
) -> MedicationSubject:
    subject = MedicationSubject(tuple(doc["subject"]["names"]), tuple(doc["subject"]["citations"]))
    for name in subject.names:
        if normalise_name(name) != name:
            problems.append(f"medication subject name not normalised: {name!r}")
        if name in index:
            problems.append(f"medication subject name {name!r} is also in class {index[name]}")
    return subject


def _citations(doc: Mapping[str, Any]) -> dict[str, Citation]:
    out: dict[str, Citation] = {}
    for key, c in doc.items():
        if key == "policy":
            for pid, p in c.items():
                out[f"policy.{pid}"] = _citation(f"policy.{pid}", p)
        else:
            out[key] = _citation(key, c)
    return out


def _citation(cid: str, c: Mapping[str, Any]) -> Citation:
    return Citation(
        id=cid,
        type=c["type"],
        text=c["text"],
        text_es=c.get("text_es"),
        pmid=c.get("pmid"),
        url=c.get("url"),
        section=c.get("section"),
        approver=c.get("approver"),
        date=c.get("date"),
        signed_off=c.get("signed_off"),
        basis=tuple(c.get("basis", ())),
    )


def _resource(r: Mapping[str, Any], names: Mapping[str, Mapping[str, str]]) -> Resource:
    """A crisis resource; `{lifeline}` in its texts is the 988 Lifeline's name in that language
    (resources.toml [names]: one configurable string, as SPANISH.md §E asks while the Spanish
    name's sources disagree)."""
    contact = r["contact"]
    if isinstance(contact, str):
        contact = {lang: contact for lang in LANGUAGES}

    def named(text: Mapping[str, str]) -> dict[str, str]:
        return {lang: t.replace("{lifeline}", names["lifeline"][lang]) for lang, t in text.items()}

    return Resource(r["id"], named(r["label"]), contact, named(r.get("short", r["label"])))


def _policy(doc: Mapping[str, Any]) -> Policy:
    v = dict(doc["values"])
    v["service_states"] = frozenset(s.upper() for s in v["service_states"])
    cites = {k: tuple(c) for k, c in doc["citations"].items()}
    others = {k: t for k, t in doc.items() if k not in ("version", "values", "citations")}
    tables = hashlib.sha256(json.dumps(others, sort_keys=True, default=str).encode()).hexdigest()
    return Policy(name=doc["version"], citations=cites, tables=tables[:16], **v)


def whole_numbers(k: Knowledge, table: str, names: Iterable[str]) -> dict[str, int]:
    """Named values of a policy.toml table that must each be a whole number of at least 1
    ([outcomes], [course]); a missing or malformed one is a KnowledgeError naming it."""
    values = k.docs["policy.toml"].get(table, {})
    wanted = list(names)
    problems = [
        f"policy [{table}] {name}: must be a whole number of at least 1, not {values.get(name)!r}"
        for name in wanted
        if type(values.get(name)) is not int or values[name] < 1
    ]
    if problems:
        raise KnowledgeError(problems)
    return {name: values[name] for name in wanted}
