"""CDS Hooks 2.0: the contraindication and interaction check inside an EHR (PRODUCT.md,
"Integrator").

When a prescriber chooses (`order-select`) or signs (`order-sign`) an order for ketamine or
esketamine, the EHR calls crossline with the draft orders and, prefetched, the patient's active
medicines. crossline answers with cards, most urgent first:

- **critical**, one per class the screen excludes (`effect = "exclude"`, e.g. MAOIs);
- **warning**, one per class the physician reviews (benzodiazepines, opioids, …);
- **warning**, the names it does not recognise — matching is exact, never fuzzy, so an unknown
  name is a reason to look, never a reason to stay quiet (the screen's own rule);
- **info**, the contraindication checklist to confirm: crossline reads medicine names only,
  not conditions (no coded mapping for them is in the knowledge base).

The checks, their words and their sources are the knowledge base's (medications.toml,
contraindications.toml, copy.toml [cds]). Nothing here computes or suggests a dose, and nothing
about the patient is kept. Pure like the engine: the HTTP side (who may call, the JWT) is
`crossline.api.cds`; `site` is the crossline address the cards link to.
"""

from __future__ import annotations

import string
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeGuard

from crossline.engine import FieldError, InvalidInput
from crossline.engine.knowledge import Knowledge
from crossline.engine.medications import is_dose_word, match, tokens

LANGUAGE = "en"  # CDS Hooks requests carry no language; the prescriber-facing copy is English
SUMMARY_LIMIT = 140  # "One-sentence, <140-character summary"
PREFETCH = {
    "medications": "MedicationRequest?patient={{context.patientId}}&status=active",
    "statements": "MedicationStatement?patient={{context.patientId}}&status=active",
}
REQUIRED_PREFETCH = "medications"  # without it (and no FHIR access of our own): 412
SERVICES = {  # service id -> the hook it answers
    "crossline-ketamine-order-select": "order-select",
    "crossline-ketamine-order-sign": "order-sign",
}
# Statuses of a medicine the patient is not (or no longer) taking: left out of the check.
NOT_CURRENT = frozenset(
    {"cancelled", "completed", "entered-in-error", "stopped", "not-taken", "revoked"}
)
MEDICINE_TYPES = ("MedicationRequest", "MedicationStatement")


class PrefetchMissing(Exception):
    """The request lacks the prefetched medicines the check needs (HTTP 412)."""


@dataclass(frozen=True, slots=True)
class Medicine:
    """One medicine in the request: the names it goes by and where it sits (for errors)."""

    names: tuple[str, ...]
    where: str


def discovery(k: Knowledge) -> dict[str, Any]:
    """The discovery document (`GET /cds-services`)."""
    copy = k.copy["cds"]
    return {
        "services": [
            {
                "hook": hook,
                "id": service_id,
                "title": copy["title"][LANGUAGE],
                "description": copy["description"][LANGUAGE],
                "prefetch": dict(PREFETCH),
            }
            for service_id, hook in SERVICES.items()
        ]
    }


def evaluate(
    k: Knowledge, service_id: str, request: Mapping[str, Any], site: str
) -> dict[str, Any]:
    """The cards for one call. Raises `InvalidInput` naming each malformed field,
    `PrefetchMissing` when the medicines were not prefetched, `KeyError` for an unknown
    service."""
    return {"cards": [card for _, card in checked(k, service_id, request, site)]}


def checked(
    k: Knowledge, service_id: str, request: Mapping[str, Any], site: str
) -> list[tuple[str, dict[str, Any]]]:
    """`evaluate`'s cards, each with what it is about (its kind: `class:<id>` for a class of
    medicines, `unrecognised`, `conditions`), which a card does not say in a form a program
    can count (the feedback endpoint counts overridden cards by kind)."""
    hook = SERVICES[service_id]
    _check_request(request, hook)
    context = request["context"]
    draft = _bundle(context.get("draftOrders"), "context.draftOrders", required=True)
    prefetch = request.get("prefetch") or {}
    if not isinstance(prefetch, Mapping):
        raise InvalidInput([FieldError("prefetch", "must be an object")])
    if REQUIRED_PREFETCH not in prefetch:
        raise PrefetchMissing(f"prefetch.{REQUIRED_PREFETCH} ({PREFETCH[REQUIRED_PREFETCH]})")
    sources = {"context.draftOrders": draft}
    for key in PREFETCH:
        sources[f"prefetch.{key}"] = _bundle(prefetch.get(key), f"prefetch.{key}")
    if _fetch_failed(sources[f"prefetch.{REQUIRED_PREFETCH}"]):
        raise PrefetchMissing(
            f"prefetch.{REQUIRED_PREFETCH} ({PREFETCH[REQUIRED_PREFETCH]}): the EHR's fetch"
            " failed (an OperationOutcome with an error)"
        )
    catalogue = _medication_resources(sources)
    ordered = list(_medicines(draft, "context.draftOrders", catalogue, k))
    if not any(_is_subject(k, m) for m in ordered):
        return []  # no ketamine or esketamine in this order: nothing to say
    others = [m for m in ordered if not _is_subject(k, m)]
    for key in PREFETCH:
        where = f"prefetch.{key}"
        others += [
            m for m in _medicines(sources[where], where, catalogue, k) if not _is_subject(k, m)
        ]
    return _cards(k, others, site)


# --- reading the request ---------------------------------------------------------------------


def _check_request(request: Mapping[str, Any], hook: str) -> None:
    errors = []
    if not isinstance(request, Mapping):
        raise InvalidInput([FieldError("$", "must be a JSON object")])
    if request.get("hook") != hook:
        errors.append(FieldError("hook", f"this service answers {hook!r}"))
    if not isinstance(request.get("hookInstance"), str) or not request["hookInstance"]:
        errors.append(FieldError("hookInstance", "required: a string"))
    context = request.get("context")
    if not isinstance(context, Mapping):
        errors.append(FieldError("context", "required: an object"))
    elif not isinstance(context.get("patientId"), str):
        errors.append(FieldError("context.patientId", "required: a string"))
    if errors:
        raise InvalidInput(errors)


def _bundle(value: Any, where: str, required: bool = False) -> list[Mapping[str, Any]]:
    """The resources a Bundle (or a single resource) holds; null means none (CDS Hooks uses
    null for "no data")."""
    if value is None:
        if required:
            raise InvalidInput([FieldError(where, "required: a Bundle of the draft orders")])
        return []
    if not isinstance(value, Mapping) or not isinstance(value.get("resourceType"), str):
        raise InvalidInput([FieldError(where, "must be a FHIR resource or Bundle")])
    if value["resourceType"] != "Bundle":
        return [value]
    entries = value.get("entry", [])
    if not isinstance(entries, list):
        raise InvalidInput([FieldError(f"{where}.entry", "must be an array")])
    out = []
    for i, entry in enumerate(entries):
        resource = entry.get("resource") if isinstance(entry, Mapping) else None
        if not isinstance(resource, Mapping) or not isinstance(resource.get("resourceType"), str):
            raise InvalidInput([FieldError(f"{where}.entry[{i}].resource", "must be a resource")])
        out.append(resource)
    return out


def _fetch_failed(resources: list[Mapping[str, Any]]) -> bool:
    """Whether the EHR says its prefetch failed: CDS Hooks has it send an OperationOutcome in
    place of the data (or beside partial results) then. Read as "no medicines", the check
    would show a prescriber the same quiet answer as a clean record."""
    for r in resources:
        if r["resourceType"] != "OperationOutcome":
            continue
        issues = r.get("issue")
        listed = issues if isinstance(issues, list) else []
        severities = [i.get("severity") for i in listed if isinstance(i, Mapping)]
        if not severities or any(s in ("error", "fatal") for s in severities):
            return True  # (an outcome that says nothing is no reassurance either)
    return False


def _medication_resources(
    sources: Mapping[str, list[Mapping[str, Any]]],
) -> dict[str, Mapping[str, Any]]:
    """Medication resources any bundle includes, by reference ("Medication/<id>")."""
    found = {}
    for resources in sources.values():
        for r in resources:
            if r["resourceType"] == "Medication" and isinstance(r.get("id"), str):
                found[f"Medication/{r['id']}"] = r
    return found


def _medicines(
    resources: list[Mapping[str, Any]],
    where: str,
    catalogue: Mapping[str, Mapping[str, Any]],
    k: Knowledge,
) -> Iterable[Medicine]:
    for i, r in enumerate(resources):
        if r["resourceType"] not in MEDICINE_TYPES:
            continue  # other resources (an OperationOutcome, a ServiceRequest) are not medicines
        here = f"{where}[{i}]"
        status = r.get("status", "unknown")
        if not isinstance(status, str):
            raise InvalidInput([FieldError(f"{here}.status", "must be a status code")])
        if status not in NOT_CURRENT:
            yield Medicine(_names(r, here, catalogue, k), here)


def _names(
    r: Mapping[str, Any], where: str, catalogue: Mapping[str, Mapping[str, Any]], k: Knowledge
) -> tuple[str, ...]:
    concept = r.get("medicationCodeableConcept")
    at = f"{where}.medicationCodeableConcept"  # where the concept sits, for errors
    if concept is None and "medicationReference" in r:
        reference = r["medicationReference"]
        target = reference.get("reference") if isinstance(reference, Mapping) else None
        if not isinstance(target, str):
            field = f"{where}.medicationReference.reference"
            raise InvalidInput([FieldError(field, "must be a string")])
        medication = (
            _contained(r, target[1:], where) if target.startswith("#") else catalogue.get(target)
        )
        concept = medication.get("code") if medication else None
        at = f"{where}.medicationReference.code"  # the code of the Medication it names
        if concept is None:
            display = reference.get("display")
            if isinstance(display, str) and display.strip():
                return (display,)
            return (k.copy["cds"]["unnamed"][LANGUAGE].format(reference=target),)
    if not isinstance(concept, Mapping):
        field = f"{where}.medicationCodeableConcept"
        raise InvalidInput([FieldError(field, "a medicine needs a code or a reference")])
    names = [concept["text"]] if isinstance(concept.get("text"), str) else []
    codings = _array(concept.get("coding"), f"{at}.coding")
    for coding in codings:
        if isinstance(coding, Mapping) and isinstance(coding.get("display"), str):
            names.append(coding["display"])
    names = [n for n in names if n.strip()]
    if not names:  # codes only: crossline matches names, so it is a medicine it cannot check
        codes = [
            f"code {c.get('code', '?')} of {c.get('system', '?')}"
            for c in codings
            if isinstance(c, Mapping)
        ]
        names = [k.copy["cds"]["unnamed"][LANGUAGE].format(reference=", ".join(codes) or "?")]
    return tuple(dict.fromkeys(names))


def _contained(r: Mapping[str, Any], local_id: str, where: str) -> Mapping[str, Any] | None:
    for c in _array(r.get("contained"), f"{where}.contained"):
        if isinstance(c, Mapping) and c.get("id") == local_id:
            return c
    return None


def _array(value: Any, where: str) -> list[Any]:
    """A FHIR array (absent or null: empty); anything else is refused naming `where`, never
    iterated (an object's keys, a string's letters) or a crash (a number)."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise InvalidInput([FieldError(where, "must be an array")])
    return value


def _words(name: str) -> list[str]:
    """A name's words without leading dose words: RxNorm names start some products with them
    ("24 HR methylphenidate …"), and the name itself must still match exactly."""
    words = tokens(name)
    while words and is_dose_word(words[0]):
        words.pop(0)
    return words


def _is_subject(k: Knowledge, m: Medicine) -> bool:
    firsts = (_words(name)[:1] for name in m.names)  # each name's first word, if it has one
    return any(first and first[0] in k.subject.names for first in firsts)


def _classes_of(k: Knowledge, m: Medicine) -> dict[str, str]:
    """Every class the medicine's names match, each with the first name that matched it ("none"
    for a name recognised with no interaction of note); empty when no name is recognised. All
    of them, not the first: a record whose text says "Zoloft" while its coding names an MAOI
    must still bring the MAOI's card."""
    found: dict[str, str] = {}
    for name in m.names:
        cid = match(" ".join(_words(name)), k.medication_index, k.medication_max_words).class_id
        if cid is not None:
            found.setdefault(cid, name)
    return found


# --- the cards -------------------------------------------------------------------------------


def _cards(k: Knowledge, medicines: list[Medicine], site: str) -> list[tuple[str, dict[str, Any]]]:
    copy = k.copy["cds"]
    by_class: dict[str, list[str]] = {}
    unrecognised: list[str] = []
    for m in medicines:
        classes = _classes_of(k, m)
        if not classes:
            unrecognised.append(m.names[0])
        for cid, name in classes.items():
            if cid != "none" and k.medication_classes[cid].effect != "note":
                by_class.setdefault(cid, []).append(name)
    cards: list[tuple[str, dict[str, Any]]] = []
    for effect, indicator, key in (
        ("exclude", "critical", "avoid"),
        ("review", "warning", "review"),
    ):
        for cid, names in by_class.items():
            c = k.medication_classes[cid]
            if c.effect == effect:
                card = _class_card(k, cid, list(dict.fromkeys(names)), indicator, key, site)
                cards.append((f"class:{cid}", card))
    if unrecognised:
        names = list(dict.fromkeys(unrecognised))
        rule = k.rules["medication.unrecognised"]
        cards.append(
            (
                "unrecognised",
                _card(
                    k,
                    copy["unrecognised"][LANGUAGE],
                    "warning",
                    "\n".join(
                        [copy["unrecognised_detail"][LANGUAGE], ""]
                        + [f"- {_record_md(n)}" for n in names]
                        + _sources(k, rule.citations)
                    ),
                    site,
                    [(copy["learn"][LANGUAGE], f"{site}/learn/#medicines")],
                ),
            )
        )
    cards.append(("conditions", _conditions_card(k, site)))
    return cards


def _class_card(
    k: Knowledge, cid: str, names: list[str], indicator: str, key: str, site: str
) -> dict[str, Any]:
    copy, c = k.copy["cds"], k.medication_classes[cid]
    label = c.label[LANGUAGE]
    summary = copy[key][LANGUAGE].format(label=label, names=", ".join(names))
    if len(summary) >= SUMMARY_LIMIT:
        summary = copy[f"{key}_short"][LANGUAGE].format(label=label)
    detail = [
        f"**{_md(label)}**: {_record_md(', '.join(names))}",
        "",
        _md(c.flag[LANGUAGE]),
        "",
        f"{copy['mechanism'][LANGUAGE]}: {_md(c.mechanism)}",
        *_sources(k, c.citations),
    ]
    return _card(
        k,
        summary,
        indicator,
        "\n".join(detail),
        site,
        [(copy["learn"][LANGUAGE], f"{site}/learn/#medicines-{cid}")],
    )


def _conditions_card(k: Knowledge, site: str) -> dict[str, Any]:
    copy = k.copy["cds"]
    detail = [copy["conditions_detail"][LANGUAGE]]
    cited: list[str] = []
    for kind, heading in (("exclusion", "exclusions"), ("review", "reviews")):
        detail += ["", f"**{copy[heading][LANGUAGE]}**", ""]
        for cond in k.conditions.values():
            if cond.kind == kind:
                detail.append(f"- {_md(cond.label[LANGUAGE])} [{', '.join(cond.citations)}]")
                cited += cond.citations
    detail += _sources(k, tuple(dict.fromkeys(cited)))
    return _card(
        k,
        copy["conditions"][LANGUAGE],
        "info",
        "\n".join(detail),
        site,
        [(copy["learn_conditions"][LANGUAGE], f"{site}/learn/#who-should-not")],
    )


def _card(
    k: Knowledge,
    summary: str,
    indicator: str,
    detail: str,
    site: str,
    links: list[tuple[str, str]],
) -> dict[str, Any]:
    return {
        "summary": summary,
        "indicator": indicator,
        "detail": detail,
        "source": {
            "label": f"{k.copy['cds']['source'][LANGUAGE]} (knowledge {k.version})",
            "url": f"{site}/learn/",
        },
        "links": [{"label": label, "url": url, "type": "absolute"} for label, url in links],
    }


def _sources(k: Knowledge, citations: Iterable[str]) -> list[str]:
    lines = ["", f"{k.copy['cds']['sources'][LANGUAGE]}:"]
    for cid in citations:
        citation = k.citations[cid]
        lines.append(f"- [{cid}] {_md(citation.reference or citation.text)}")
    return lines


def _md(text: str) -> str:
    """Text from the knowledge base, safe inside GitHub-flavoured Markdown: its markup
    characters escaped. (Its own web addresses may still become links.)"""
    return "".join(f"\\{ch}" if ch in _MARKDOWN else ch for ch in text)


def _record_md(text: str) -> str:
    """Text from the EHR's record (a medicine's name), shown as it was written and never as
    markup, so that a name in the record cannot put a link on a prescriber's screen:

    - every ASCII punctuation character is escaped (CommonMark lets any of them be; an escaped
      one shows as itself), so no link, image, HTML, heading, list or table can be made of
      it, nor a bare web address GitHub-flavoured Markdown would link by itself (those need an
      unescaped `:` or the `.` of `www.`);
    - an invisible word joiner follows each `@`: GitHub's renderer links a bare e-mail address
      even with its `@` escaped (cmark-gfm, checked in tests/fhir/test_cds.py), never one
      whose domain does not start with a letter or digit;
    - its line breaks and runs of spaces become one space (a name is one line)."""
    one_line = " ".join(text.split())
    escaped = "".join(f"\\{ch}" if ch in _PUNCTUATION else ch for ch in one_line)
    return escaped.replace("@", "@\u2060")


_MARKDOWN = frozenset("\\`*_[]<>|~")
_PUNCTUATION = frozenset(string.punctuation)


# --- feedback on the cards (CDS Hooks 2.0 "Feedback") -----------------------------------------

MAX_FEEDBACK = 100  # entries in one feedback call
MAX_CODE = 64  # an override reason's code, as kept
MAX_SYSTEM = 255  # its code system's URI, as kept


@dataclass(frozen=True, slots=True)
class Feedback:
    """What a prescriber did with one card, as crossline keeps it: the card, the outcome, the
    override reason's coding if one was chosen, and only *whether* a comment was written — a
    comment is free text from the record's side and may name the patient, so it is never
    kept."""

    card: str  # the card's uuid, in its canonical form
    outcome: str  # "overridden" (crossline's cards offer no suggestions to accept)
    reason_system: str
    reason_code: str
    commented: bool
    at: datetime  # outcomeTimestamp, in UTC


def read_feedback(body: Any) -> list[Feedback]:
    """The feedback entries of a call to `…/feedback`, or `InvalidInput` naming every bad field
    (nothing is kept from a call with one)."""
    if not isinstance(body, Mapping):
        raise InvalidInput([FieldError("$", "must be a JSON object")])
    entries = body.get("feedback")
    if not isinstance(entries, list) or not 0 < len(entries) <= MAX_FEEDBACK:
        raise InvalidInput(
            [FieldError("feedback", f"required: an array of 1 to {MAX_FEEDBACK} entries")]
        )
    errors: list[FieldError] = []
    out = []
    for i, entry in enumerate(entries):
        where = f"feedback[{i}]"
        if not isinstance(entry, Mapping):
            errors.append(FieldError(where, "must be an object"))
            continue
        problems = len(errors)
        card = _card_id(entry.get("card"))
        if card is None:
            errors.append(FieldError(f"{where}.card", "required: the card's uuid"))
        outcome = entry.get("outcome")
        if outcome == "accepted":
            errors.append(
                FieldError(
                    f"{where}.outcome",
                    "crossline's cards offer no suggestions to accept: report a card the "
                    "prescriber dismissed as 'overridden'",
                )
            )
        elif outcome != "overridden":
            errors.append(FieldError(f"{where}.outcome", "required: 'overridden'"))
        system, code, commented = _override_reason(entry.get("overrideReason"), where, errors)
        at = _instant(entry.get("outcomeTimestamp"))
        if at is None:
            errors.append(
                FieldError(
                    f"{where}.outcomeTimestamp",
                    "required: an ISO 8601 date and time with its offset (UTC: Z)",
                )
            )
        if len(errors) == problems and card is not None and at is not None:
            out.append(Feedback(card, "overridden", system, code, commented, at))
    if errors:
        raise InvalidInput(errors)
    return out


def _card_id(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return None


def _override_reason(value: Any, where: str, errors: list[FieldError]) -> tuple[str, str, bool]:
    """(system, code, whether a comment was written) of an optional OverrideReason."""
    if value is None:
        return "", "", False
    where = f"{where}.overrideReason"
    if not isinstance(value, Mapping):
        errors.append(FieldError(where, "must be an object"))
        return "", "", False
    comment = value.get("userComment")
    if comment is not None and not isinstance(comment, str):
        errors.append(FieldError(f"{where}.userComment", "must be a string"))
    reason = value.get("reason")
    if reason is None:
        return "", "", bool(isinstance(comment, str) and comment.strip())
    system = reason.get("system") if isinstance(reason, Mapping) else None
    code = reason.get("code") if isinstance(reason, Mapping) else None
    # Kept as text: printable only (a NUL cannot be stored in PostgreSQL, a lone surrogate in
    # neither database), and a URI has no spaces.
    if not _keepable(system, MAX_SYSTEM) or " " in system:
        errors.append(
            FieldError(
                f"{where}.reason.system",
                f"required: a URI of 1 to {MAX_SYSTEM} printable characters, no spaces",
            )
        )
    if not _keepable(code, MAX_CODE):
        errors.append(
            FieldError(
                f"{where}.reason.code", f"required: a code of 1 to {MAX_CODE} printable characters"
            )
        )
    commented = isinstance(comment, str) and bool(comment.strip())
    return (
        (system if isinstance(system, str) else ""),
        (code if isinstance(code, str) else ""),
        commented,
    )


def _keepable(value: Any, longest: int) -> TypeGuard[str]:
    """A string of 1 to `longest` printable characters."""
    return isinstance(value, str) and 0 < len(value) <= longest and value.isprintable()


def _instant(value: Any) -> datetime | None:
    """An ISO 8601 date and time with its offset, in UTC; None for anything else."""
    if not isinstance(value, str) or "T" not in value.upper():
        return None
    try:
        moment = datetime.fromisoformat(value)
        if moment.tzinfo is None or moment.utcoffset() is None:
            return None
        return moment.astimezone(UTC)
    except (ValueError, OverflowError):  # 9999-12-31T23:00-05:00 has no UTC instant
        return None
