"""The assessment as one FHIR Questionnaire, built from the knowledge base.

Every question crossline can ask, grouped by instrument in the contract's order (PRODUCT.md,
"The assessment contract"). A question's linkId is its contract answer id; a group's is its
instrument's id. LOINC codes come from the knowledge files (FACTS §A1–§A4b): the panel on the
group, the item code on the question, the answer codes on the options, and each scored answer's
value as its ordinalValue. Answers LOINC has no code for use crossline's answer code system,
whose codes are the contract's own values.

The adaptive order is not in the Questionnaire (a form that shows it asks everything): a front
end that wants the short flow asks `POST /api/v1/flow/next`. No question is required: an
unanswered question is missing, never 0. The crisis line opens the form, and the crisis
resources appear in it as soon as an answer shows risk (`crossline.fhir.crisis`).
"""

from __future__ import annotations

from typing import Any

from crossline.engine.knowledge import Item, Knowledge, Option
from crossline.fhir import crisis
from crossline.fhir.codes import (
    LOINC,
    MAX_VALUE,
    MIN_VALUE,
    ORDINAL_VALUE,
    QUESTIONNAIRE_ID,
    USPS,
    answers_system,
    questionnaire_url,
)
from crossline.fhir.items import display, option_coding
from crossline.fhir.text import localised
from crossline.intake.states import STATE_NAMES  # plain data, no Django

# The groups, in the contract's order (one visible table). "contraindications" is the
# checklist, which is not an instrument; "medications", a question of its own, stands alone
# (a group may not share its linkId).
SECTIONS = (
    "profile",
    "phq9",
    "gad7",
    "asq",
    "burnout",
    "scope",
    "contraindications",
    "vitals",
    "medications",
    "history",
)
HELP_CONTROL = {
    "url": "http://hl7.org/fhir/StructureDefinition/questionnaire-itemControl",
    "valueCodeableConcept": {
        "coding": [{"system": "http://hl7.org/fhir/questionnaire-item-control", "code": "help"}]
    },
}
NO_MEDICINES = "none"
DESCRIPTION = (
    "Every question of the crossline assessment, grouped by instrument. Each question's linkId"
    " is its id in the public assessment contract. crossline asks these adaptively; the order"
    " is not expressed here (POST /api/v1/flow/next gives it). Unanswered questions are never"
    " scored as 0. Safety first: the form opens with the crisis line and shows the crisis"
    " resources as soon as an answer shows suicide risk; a system that shows it must also act"
    " on those answers at once, and gets crossline's decision (eligibility, safety level,"
    " reasons) from POST /api/v1/assessments."
)


def assessment(k: Knowledge, base: str, language: str = "en") -> dict[str, Any]:
    """The Questionnaire (a JSON-ready dict) under the FHIR base URL `base`."""
    return {
        "resourceType": "Questionnaire",
        "id": QUESTIONNAIRE_ID,
        "url": questionnaire_url(base),
        "version": k.version,
        "name": "CrosslineAssessment",
        "title": "crossline assessment",
        "status": "active",
        "language": language,
        "subjectType": ["Patient"],
        "publisher": "crossline",
        "description": DESCRIPTION,
        "copyright": "\n\n".join(_licences(k, language)),
        "item": [crisis.banner(k, language)]
        + [_section(k, section, base, language) for section in SECTIONS],
    }


def section_items(k: Knowledge, section: str) -> list[Item]:
    """A group's questions, in the knowledge base's order (none for a question on its own)."""
    if section in k.items:
        return []
    return [item for item in k.items.values() if item.instrument == section]


def _licences(k: Knowledge, language: str) -> list[str]:
    return [i.licence[language] for i in k.instruments.values() if i.licence]


def _section(k: Knowledge, section: str, base: str, language: str) -> dict[str, Any]:
    if section in k.items:  # a question on its own
        return _question(k, k.items[section], base, language)
    group: dict[str, Any] = {"linkId": section, "type": "group"}
    instrument = k.instruments.get(section)
    stem = None
    if instrument is not None:
        group |= localised("text", instrument.title, language)
        if instrument.loinc_panel:
            group["code"] = [{"system": LOINC, "code": instrument.loinc_panel}]
        stem = instrument.stem
    elif section == "contraindications":
        checklist = k.docs["contraindications.toml"]["checklist"]
        group |= localised("text", checklist["title"], language)
        stem = checklist["intro"]
    questions = [_question(k, item, base, language) for item in section_items(k, section)]
    # The instrument's instruction ("Over the last 2 weeks, …") is part of its validated
    # wording: shown first, as a display item (never answered, so never in a response).
    shown = [display(f"{section}.stem", stem, language)] if stem else []
    # The crisis resources go right under the last question that can show risk.
    at = next(
        (i + 1 for i, q in enumerate(questions) if q["linkId"] == crisis.LAST.get(section)), 0
    )
    questions[at:at] = crisis.after(k, section, base, language)
    group["item"] = shown + questions
    return group


def no_medicines(k: Knowledge, base: str, language: str) -> dict[str, Any]:
    """The Coding of the answer "I take no medicines or supplements" (the contract's `[]`)."""
    text = k.copy["questions"]["medications"]["none"]
    return {"system": answers_system(base), "code": NO_MEDICINES} | localised(
        "display", text, language
    )


def _question(k: Knowledge, item: Item, base: str, language: str) -> dict[str, Any]:
    q: dict[str, Any] = {"linkId": item.id} | localised("text", item.text, language)
    if item.loinc:
        q["code"] = [{"system": LOINC, "code": item.loinc}]
    if item.input == "us_state":  # listed, so a form needs no terminology server
        q |= {"type": "choice", "answerOption": [_state(code) for code in STATE_NAMES]}
    elif item.input == "medications":  # typed names, or the one listed answer: none
        none = {"valueCoding": no_medicines(k, base, language)}
        q |= {"type": "open-choice", "repeats": True, "answerOption": [none]}
    elif item.options:
        q |= {
            "type": "choice",
            "answerOption": [_option(item, o, base, language) for o in item.options],
        }
    else:  # a whole number in a range
        q |= {"type": "integer", "extension": _range(item)}
    if item.help:
        q["item"] = [_help(item, language)]
    return q


def _option(item: Item, option: Option, base: str, language: str) -> dict[str, Any]:
    out: dict[str, Any] = {"valueCoding": option_coding(option, base, language)}
    if item.scored and isinstance(option.value, int):
        out["extension"] = [{"url": ORDINAL_VALUE, "valueDecimal": option.value}]
    return out


def _state(code: str) -> dict[str, Any]:
    return {"valueCoding": {"system": USPS, "code": code, "display": STATE_NAMES[code]}}


def _range(item: Item) -> list[dict[str, Any]]:
    low, high = item.int_range or (item.minimum, item.maximum)
    return [{"url": MIN_VALUE, "valueInteger": low}, {"url": MAX_VALUE, "valueInteger": high}]


def _help(item: Item, language: str) -> dict[str, Any]:
    assert item.help is not None
    return display(f"{item.id}.help", item.help, language) | {"extension": [HELP_CONTROL]}
