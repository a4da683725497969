"""Answers as a FHIR QuestionnaireResponse to the assessment Questionnaire, and back.

`from_answers` writes the answers given (validated contract answers) in the Questionnaire's
groups; unanswered questions are left out, never written as 0. `to_answers` reads a response
back into contract answers, naming the linkId of anything it cannot read; the result still goes
through the contract's own validation (`crossline.engine.parse_answers`) before anything uses it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from crossline.engine import FieldError, InvalidInput
from crossline.engine.knowledge import LANGUAGES, Item, Knowledge
from crossline.fhir.codes import LOINC, USPS, answers_system, questionnaire_url
from crossline.fhir.items import option_coding
from crossline.fhir.questionnaire import NO_MEDICINES, SECTIONS, no_medicines, section_items
from crossline.fhir.validate import InvalidResource, validate


def from_answers(
    k: Knowledge,
    answers: Mapping[str, Any],
    base: str,
    language: str = "en",
    authored: str | None = None,
    status: str = "completed",
    version: str | None = None,
) -> dict[str, Any]:
    """The QuestionnaireResponse (a JSON-ready dict) for validated contract answers, to the
    Questionnaire of knowledge `version` (the one they were answered under; default: `k`'s)."""
    qr: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse",
        "questionnaire": f"{questionnaire_url(base)}|{version or k.version}",
        "status": status,
        "language": language,
    }
    if authored is not None:
        qr["authored"] = authored
    qr["item"] = []
    for section in SECTIONS:
        if section in k.items:  # a question on its own, as in the Questionnaire
            qr["item"] += _answered(k, [k.items[section]], answers, base, language)
        elif items := _answered(k, section_items(k, section), answers, base, language):
            qr["item"].append({"linkId": section, "item": items})
    return qr


def to_answers(k: Knowledge, qr: Mapping[str, Any], base: str) -> dict[str, Any]:
    """The contract answers a response carries. Raises `InvalidInput` naming the linkId of each
    question it cannot read: unknown, answered twice, or an answer of the wrong kind or code."""
    answers: dict[str, Any] = {}
    errors: list[FieldError] = []
    for link_id, given in _questions(qr.get("item") or []):
        item = k.items.get(link_id)
        if item is None:
            errors.append(FieldError(link_id, "is not a question of the crossline assessment"))
        elif link_id in answers:
            errors.append(FieldError(link_id, "is answered more than once"))
        else:
            try:
                answers[link_id] = _read(item, given, base)
            except ValueError as exc:
                errors.append(FieldError(link_id, str(exc)))
    if errors:
        raise InvalidInput(errors)
    return answers


# A response's status: what it says about the answers. "in-progress" answers are accepted as
# they are (the contract takes an incomplete set: eligibility `incomplete`, the missing listed).
ACCEPTED_STATUS = ("completed", "in-progress", "amended")


def to_request(k: Knowledge, qr: Any, base: str, default_language: str = "en") -> dict[str, Any]:
    """The contract's request body (`{"answers", "language"}`) for a QuestionnaireResponse to
    crossline's assessment Questionnaire (any of its versions: the answers are checked against
    the knowledge in force); its `language`, or `default_language` when it has none. Raises
    `InvalidInput` naming each field it cannot accept: a FHIR path for the response itself
    (checked with fhir.resources), a linkId for an answer."""
    if not isinstance(qr, Mapping) or qr.get("resourceType") != "QuestionnaireResponse":
        raise InvalidInput([FieldError("resourceType", "must be QuestionnaireResponse")])
    try:
        validate(dict(qr))
    except InvalidResource as exc:
        raise InvalidInput([FieldError(path, message) for path, message in exc.paths]) from None
    errors = []
    url = str(qr.get("questionnaire", "")).split("|", 1)[0]
    if url != questionnaire_url(base):
        errors.append(FieldError("questionnaire", f"must be {questionnaire_url(base)}"))
    if qr.get("status") not in ACCEPTED_STATUS:
        errors.append(FieldError("status", f"must be one of {', '.join(ACCEPTED_STATUS)}"))
    language = str(qr.get("language") or default_language).split("-", 1)[0].lower()
    if language not in LANGUAGES:
        errors.append(FieldError("language", f"must be one of {', '.join(LANGUAGES)}"))
    try:
        answers = to_answers(k, qr, base)
    except InvalidInput as exc:
        errors.extend(exc.errors)
    if errors:
        raise InvalidInput(errors)
    return {"answers": answers, "language": language}


def _answered(
    k: Knowledge, items: list[Item], answers: Mapping[str, Any], base: str, language: str
) -> list[dict[str, Any]]:
    return [
        {"linkId": item.id, "answer": _answers(k, item, answers[item.id], base, language)}
        for item in items
        if answers.get(item.id) is not None
    ]


def _answers(
    k: Knowledge, item: Item, value: Any, base: str, language: str
) -> list[dict[str, Any]]:
    if item.input == "medications":
        if not value:  # "I take none" is an answer, unlike no answer at all
            return [{"valueCoding": no_medicines(k, base, language)}]
        return [{"valueString": name} for name in value]
    if item.input == "us_state":
        return [{"valueCoding": {"system": USPS, "code": value}}]
    for option in item.options:
        if option.value == value:
            return [{"valueCoding": option_coding(option, base, language)}]
    return [{"valueInteger": value}]


def _questions(items: list[Any]) -> Iterator[tuple[str, list[Any]]]:
    """(linkId, answers) of every answered question, through any nesting of groups."""
    for entry in items:
        if not isinstance(entry, Mapping):
            continue
        if entry.get("answer"):
            yield str(entry.get("linkId")), list(entry["answer"])
        yield from _questions(entry.get("item") or [])


def _read(item: Item, given: list[Any], base: str) -> Any:
    if item.input == "medications":
        return _medicines(given, base)
    if len(given) != 1:
        raise ValueError("takes one answer")
    if item.input == "us_state":
        return _code(_value(given[0], "valueCoding"), {USPS})[1]
    if item.options:
        system, code = _code(_value(given[0], "valueCoding"), {LOINC, answers_system(base)})
        for option in item.options:
            if option.loinc:  # the option's LOINC answer code, or a known alias of it
                listed = system == LOINC and code in (option.loinc, *option.loinc_aliases)
            else:
                listed = system != LOINC and code == str(option.value)
            if listed:
                return option.value
        raise ValueError(f"answer code {code!r} is not one of this question's answers")
    return _value(given[0], "valueInteger")


def _medicines(given: list[Any], base: str) -> list[str]:
    """Typed names, or `[]` for the listed answer "none" (which cannot come with names)."""
    if any(isinstance(a, Mapping) and "valueCoding" in a for a in given):
        if len(given) != 1 or _code(given[0]["valueCoding"], {answers_system(base)}) != (
            answers_system(base),
            NO_MEDICINES,
        ):
            raise ValueError("lists medicines and also answers that there are none")
        return []
    return [_value(a, "valueString") for a in given]


def _value(answer: Any, kind: str) -> Any:
    # JSON null is never a FHIR value, and `false` is no integer: `"valueInteger": null` or
    # `"valueInteger": false` is refused as not being what the question takes.
    value = answer.get(kind) if isinstance(answer, Mapping) else None
    expected = _TYPES.get(kind)  # (a valueCoding is checked by `_code`)
    if value is None or (expected is not None and type(value) is not expected):
        raise ValueError(f"each answer must be a {kind}")
    return value


_TYPES: dict[str, type] = {"valueInteger": int, "valueString": str}


def _code(coding: Any, systems: set[str]) -> tuple[str, str]:
    """(system, code) of an answer's Coding, from one of `systems`."""
    if not isinstance(coding, Mapping) or coding.get("system") not in systems:
        raise ValueError(f"answer coding must be from {' or '.join(sorted(systems))}")
    return str(coding["system"]), str(coding.get("code"))
