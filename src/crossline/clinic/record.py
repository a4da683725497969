"""The applicant record: the screen as the person saw it, the stored decision, contact details
and the person's other screens.

Everything clinical comes from the stored snapshot (answers and decision) and the knowledge
base's wording: the decision is shown with the versions that produced it and never recomputed.
The caller (the view) authorises the read and records it in the audit log; this module only
decrypts and arranges.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from django.db.models import Q

from crossline.clinic.models import ACTIVE, Case, CloseReason, ReopenReason
from crossline.engine.knowledge import Knowledge
from crossline.intake.contact import earlier_screens
from crossline.intake.models import Assessment, ContactRequest
from crossline.intake.results import result_context
from crossline.intake.states import state_name
from crossline.render import rule_summary

LANGUAGE_NAMES = {"en": "English", "es": "Spanish (Español)"}
# Instruments whose items were shown under the instrument's stem ("Over the last 2 weeks…").
_STEMMED = ("phq9", "gad7")


def case_for(user: Any, public_id: Any) -> Case | None:
    """The case a clinician may open (one program per deployment: every case), or None."""
    return (
        Case.objects.select_related("assessment", "claimed_by").filter(public_id=public_id).first()
    )


@dataclass(frozen=True)
class Answer:
    item: str  # the answer id (contract key)
    instrument: str  # the instrument's title, in the screen's language
    stem: str  # the instruction shown above the item, if any
    question: str  # the exact wording shown
    answer: str  # the option's wording shown (or the value typed)
    value: Any  # the stored value

    @property
    def value_json(self) -> str:
        """The stored value as the contract writes it (JSON)."""
        return json.dumps(self.value, ensure_ascii=False)

    english: str  # the English wording, for a screen in another language


def answers_shown(
    k: Knowledge, answers: Mapping[str, Any], asked: Iterable[str], lang: str
) -> list[Answer]:
    """Every stored answer, in the order the flow asked them, with the wording in `lang`."""
    order = [i for i in asked if i in answers]
    order += [i for i in k.items if i in answers and i not in order]
    order += sorted(i for i in answers if i not in order)  # ids the knowledge base lacks
    shown = [_answer(k, item_id, answers[item_id], lang) for item_id in order]
    # The stem heads a run of items, as on the screen: repeated only when the run changes.
    return [
        replace(a, stem="") if i and a.stem == shown[i - 1].stem else a for i, a in enumerate(shown)
    ]


def _answer(k: Knowledge, item_id: str, value: Any, lang: str) -> Answer:
    item = k.items.get(item_id)
    if item is None:
        return Answer(item_id, "", "", item_id, _plain(value), value, "")
    title, stem = _heading(k, item.instrument, lang)
    return Answer(
        item=item_id,
        instrument=title,
        stem=stem,
        question=item.text[lang],
        answer=_option_text(item, value, lang),
        value=value,
        english=item.text["en"] if lang != "en" else "",
    )


def _heading(k: Knowledge, instrument: str, lang: str) -> tuple[str, str]:
    """The screen's title and the instruction shown above the item (PHQ-9 and GAD-7 stems,
    the medical checklist's introduction)."""
    inst = k.instruments.get(instrument)
    if inst is not None:
        return str(inst.title[lang]), str(inst.stem[lang]) if instrument in _STEMMED else ""
    if instrument == "contraindications":
        checklist = k.docs["contraindications.toml"]["checklist"]
        return str(checklist["title"][lang]), str(checklist["intro"][lang])
    return "", ""


def _option_text(item: Any, value: Any, lang: str) -> str:
    if item.input == "us_state" and isinstance(value, str):
        return f"{state_name(value.upper(), lang)} ({value.upper()})"
    for option in item.options:
        if option.value == value:
            return str(option.text[lang])
    return _plain(value)


def _plain(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "—"
    return str(value)


def decision_context(k: Knowledge, assessment: Assessment) -> dict[str, Any]:
    """Scores with bands, reasons with their answers and citations, sources and versions —
    the patient result's own arrangement (`intake.results.result_context`), in English."""
    shown = result_context(k, assessment, "en")
    d = assessment.decision
    return {
        "decision": d,
        "scores": shown["scores"],
        "reasons": shown["reasons"],
        "sources": shown["sources"],
        "versions": shown["versions"],
        "flags": [
            {
                "rule": f["rule"],
                "message": f["message"],
                "summary": _summary(k, f["rule"]),
            }
            for f in d.get("flags", [])
        ],
        "missing": d.get("missing", []),
    }


def _summary(k: Knowledge, rule: str) -> str:
    try:
        return rule_summary(rule, k, "en")
    except (KeyError, ValueError):  # a rule id from an older knowledge release
        return ""


@dataclass(frozen=True)
class Contact:
    kind: str
    created_at: datetime
    consent_version: str
    details: Mapping[str, str]


def contacts(assessment: Assessment) -> list[Contact]:
    """The person's contact details, decrypted: only the record page calls this."""
    return [
        Contact(r.kind, r.created_at, r.consent_version, r.contact)
        for r in assessment.contacts.order_by("created_at", "pk")
    ]


@dataclass(frozen=True)
class Screen:
    public_id: Any
    at: datetime
    eligibility: str
    triage: str
    safety_level: str
    state: str
    case_id: Any  # the screen's case, when one was opened
    current: bool
    case_status: str = ""  # the case's status ("" when none was opened)
    claimed_by: str | None = None  # who holds the case, while it is claimed
    claimed_by_id: int | None = None

    @property
    def active_case(self) -> bool:
        """Another case of the person still open or claimed: two clinicians could call them."""
        return not self.current and self.case_status in ACTIVE


def screens_by_same_person(assessment: Assessment, found: Iterable[Contact]) -> list[Screen]:
    """Every screen whose contact details match this one's e-mail or phone (the keyed blind
    indexes), this one included, oldest first. Reads plain columns only."""
    match = Q(pk=assessment.pk)
    for contact in found:
        email, phone = contact.details.get("email"), contact.details.get("phone")
        match |= Q(pk__in=earlier_screens(email=email, phone=phone).values("pk"))
    rows = (
        Assessment.objects.filter(match)
        .select_related("case__claimed_by")
        .only(*_SCREEN_COLUMNS)
        .order_by("created_at", "pk")
    )
    return [
        Screen(
            public_id=a.public_id,
            at=a.submitted_at or a.created_at,
            eligibility=a.eligibility,
            triage=a.triage,
            safety_level=a.safety_level,
            state=a.state,
            current=a.pk == assessment.pk,
            **_case_columns(a),
        )
        for a in rows
    ]


# Plain columns only: listing a person's screens decrypts none of them.
_SCREEN_COLUMNS = (
    "public_id", "created_at", "submitted_at", "eligibility", "triage", "safety_level", "state",
    "case__public_id", "case__status", "case__claimed_by__username",
)  # fmt: skip


def _case_columns(assessment: Assessment) -> dict[str, Any]:
    try:
        case = assessment.case
    except Case.DoesNotExist:
        return {"case_id": None}
    claimer = case.claimed_by if case.status == Case.Status.CLAIMED else None
    return {
        "case_id": case.public_id,
        "case_status": case.status,
        "claimed_by": claimer.username if claimer else None,
        "claimed_by_id": case.claimed_by_id if claimer else None,
    }


def kind_label(kind: str) -> str:
    return {
        ContactRequest.Kind.EVALUATION: "Evaluation request",
        ContactRequest.Kind.CONTACT_ME: "Contact me (safety screen)",
    }.get(ContactRequest.Kind(kind), kind)


# --- the case's history, from the audit log ------------------------------------------------

_HISTORY = {
    "case.claimed": "Claimed",
    "case.released": "Released to the queue",
    "case.closed": "Closed",
    "case.reopened": "Reopened",
    "evaluation.decided": "Evaluation decided",
    "evaluation.amended": "Addendum added to the evaluation",
    "letter.issued": "Letter issued to the person",
}
HISTORY_ROWS = 100


def history(case: Case) -> list[dict[str, Any]]:
    """What happened to the case and who did it, oldest first: its audit events (which hold no
    patient data), in words. The audit log is the record; this is a view of it."""
    from crossline.audit.models import Event
    from crossline.evaluation.models import Decision

    why = {**dict(CloseReason.choices), **dict(ReopenReason.choices), **dict(Decision.choices)}
    events = (
        Event.objects.filter(patient=str(case.public_id), action__in=_HISTORY)
        .order_by("-seq")
        .values("at", "action", "actor", "detail")[:HISTORY_ROWS]
    )
    rows = []
    for e in reversed(list(events)):
        detail = e["detail"] or {}
        reason = detail.get("reason") or detail.get("decision") or ""
        what = _HISTORY[e["action"]]
        label = f"{what}: {why[reason]}" if reason in why else what
        rows.append({"at": e["at"], "what": label, "who": e["actor"]})
    return rows
