"""The public assessment contract: answer ids, their value types, and validation.

Types are strict JSON: an integer is a JSON number without a fraction — not a string, not a
boolean, not 2.0. Every problem is reported with the field it concerns; nothing partial is kept.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from crossline.engine.errors import FieldError, InvalidInput
from crossline.engine.knowledge import LANGUAGES, US_STATES, Item, Knowledge

Answers = Mapping[str, Any]
MAX_MEDICATIONS = 50
MAX_MEDICATION_LENGTH = 200
REQUEST_KEYS = frozenset({"answers", "language"})


@dataclass(frozen=True, slots=True)
class Request:
    answers: Mapping[str, Any]
    language: str


def parse_request(knowledge: Knowledge, body: object) -> Request:
    """Validate `{"answers": {...}, "language": "en"|"es"}` (language optional, default en)."""
    if not isinstance(body, dict):
        raise InvalidInput([FieldError("$", "must be a JSON object with an 'answers' object")])
    errors = [FieldError(k, "unknown field") for k in body if k not in REQUEST_KEYS]
    language = body.get("language", "en")
    if language not in LANGUAGES:
        errors.append(FieldError("language", "must be one of: en, es"))
    if "answers" not in body:
        errors.append(FieldError("answers", "is required"))
        raise InvalidInput(errors)
    try:
        answers = parse_answers(knowledge, body["answers"])
    except InvalidInput as exc:
        errors.extend(exc.errors)
    if errors:
        raise InvalidInput(errors)
    return Request(answers, language)


def parse_answers(knowledge: Knowledge, raw: object) -> dict[str, Any]:
    """Validate an answers object against the contract and return it normalised."""
    if not isinstance(raw, dict):
        raise InvalidInput([FieldError("answers", "must be a JSON object keyed by item id")])
    errors: list[FieldError] = []
    out: dict[str, Any] = {}
    items = knowledge.items
    ints = knowledge.accepted_ints
    strings = knowledge.accepted_strings
    for key, value in raw.items():
        # Fast path for the common valid answer; anything else takes the full check below,
        # which accepts and rejects exactly as before and words the error.
        kind = type(value)
        if kind is int:
            valid_range = ints.get(key)
            if valid_range is not None and valid_range[0] <= value <= valid_range[1]:
                out[key] = value
                continue
        elif kind is str:
            accepted = strings.get(key)
            if accepted is not None and value in accepted:
                out[key] = value
                continue
        item = items.get(key) if isinstance(key, str) else None
        if item is None:
            errors.append(FieldError(str(key), "unknown item id"))
            continue
        checked = _check(item, value, errors)
        if checked is not None:
            out[key] = checked
    if errors:
        raise InvalidInput(errors)
    return out


def _check(item: Item, value: object, errors: list[FieldError]) -> Any:
    kind = item.input
    if kind == "medications":
        return _check_medications(item.id, value, errors)
    if kind == "us_state":
        return _check_state(item.id, value, errors)
    if item.int_range is not None:
        return _check_int(item.id, value, *item.int_range, errors)
    if isinstance(value, str) and value in item.values:
        return value
    errors.append(FieldError(item.id, "must be one of: " + ", ".join(map(str, item.values))))
    return None


def _check_int(field: str, value: object, lo: int, hi: int, errors: list[FieldError]) -> int | None:
    if type(value) is not int:
        errors.append(FieldError(field, f"must be an integer from {lo} to {hi}"))
        return None
    if not lo <= value <= hi:
        errors.append(FieldError(field, f"must be an integer from {lo} to {hi}, not {value}"))
        return None
    return value


def _encodable(text: str) -> bool:
    """False for strings JSON can carry but UTF-8 cannot (lone surrogates such as \ud800)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _check_state(field: str, value: object, errors: list[FieldError]) -> str | None:
    # ASCII letters only: Unicode upper-casing turns "ﬂ" (one ligature) into "FL" and "ıa"
    # (a dotless i) into "IA", which are not USPS codes however they are cased.
    code = value.strip() if isinstance(value, str) else ""
    if code.isascii() and code.upper() in US_STATES:
        return code.upper()
    errors.append(FieldError(field, "must be the USPS code of a US state, DC or territory"))
    return None


def _check_medications(
    field: str, value: object, errors: list[FieldError]
) -> tuple[str, ...] | None:
    if not isinstance(value, list):
        errors.append(FieldError(field, "must be a list of medicine names (an empty list = none)"))
        return None
    if len(value) > MAX_MEDICATIONS:
        errors.append(FieldError(field, f"must list at most {MAX_MEDICATIONS} medicines"))
        return None
    names: list[str] = []
    for i, name in enumerate(value):
        if not isinstance(name, str) or not name.strip() or not _encodable(name):
            errors.append(FieldError(f"{field}[{i}]", "must be a non-empty medicine name"))
        elif len(name) > MAX_MEDICATION_LENGTH:
            errors.append(
                FieldError(f"{field}[{i}]", f"must be at most {MAX_MEDICATION_LENGTH} characters")
            )
        else:
            names.append(" ".join(name.split()))
    return tuple(names)
