"""The API's errors: every refusal is `{"errors": [{"field", "message"}]}` with its status.

The engine raises `InvalidInput` (422); the API adds the few refusals only HTTP knows about.
Both are turned into responses in one place (`crossline.api.urls`), never in the views.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse

from crossline.engine import FieldError, InvalidInput


class ApiError(Exception):
    """A refusal with an HTTP status, the fields at fault and any response headers."""

    status = 400

    def __init__(self, errors: list[FieldError], headers: Mapping[str, str] | None = None) -> None:
        self.errors = tuple(errors)
        self.headers = dict(headers or {})
        super().__init__("; ".join(f"{e.field}: {e.message}" for e in errors))


class Conflict(ApiError):
    """The Idempotency-Key was used with a different body."""

    status = 409


class TooManyRequests(ApiError):
    status = 429


class UnsupportedMediaType(ApiError):
    """The body is not sent as JSON (`application/json`, or a `+json` type such as FHIR's)."""

    status = 415


NOT_JSON = "send the body as application/json"


def error_response(
    errors: tuple[FieldError, ...], status: int, headers: Mapping[str, str] | None = None
) -> JsonResponse:
    response = JsonResponse({"errors": [e.to_dict() for e in errors]}, status=status)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def refusal(request: HttpRequest, exc: object) -> HttpResponse:
    """The exception handler for both refusals (ninja types handlers loosely, hence `object`)."""
    if isinstance(exc, ApiError):
        return error_response(exc.errors, exc.status, exc.headers)
    if isinstance(exc, InvalidInput):
        return error_response(exc.errors, 422)
    raise TypeError(f"not a refusal: {exc!r}")


def read_json(request: HttpRequest) -> Any:
    """The request body as strict JSON: no NaN or Infinity, no duplicate keys (422 on "$"),
    nested at most `MAX_DEPTH` deep, and no text that cannot be stored or shown (a lone
    surrogate escape such as "\\ud800"). Sent as JSON, too (415 on "Content-Type"): another site's
    page can make a visitor's browser post `text/plain` or a form without asking first (a
    CORS "simple request"); a JSON type makes the browser ask, and crossline never says yes."""
    content_type = request.content_type or ""
    raw = request.body
    # An empty body is a missing body whatever it is labelled: 422 on "$" below says so.
    if raw and content_type != "application/json" and not content_type.endswith("+json"):
        raise UnsupportedMediaType([FieldError("Content-Type", NOT_JSON)])
    return strict_json(raw)


def strict_json(raw: bytes, check_text: bool = True) -> Any:
    """`raw` read as `read_json` reads a body (InvalidInput naming "$" or the field); the CDS
    Hooks service reads its bodies so too, without `check_text` (the lone surrogate check,
    which names fields as the assessment contract does: its readers name their own)."""
    try:
        body = json.loads(raw, object_pairs_hook=_no_duplicates, parse_constant=_no_constants)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError and UnicodeDecodeError
        raise InvalidInput([FieldError("$", f"body is not valid JSON: {_reason(exc)}")]) from None
    # Only a body with more than MAX_DEPTH brackets can be too deep (a contract body has three).
    if raw.count(b"[") + raw.count(b"{") > MAX_DEPTH and _too_deep(body):
        raise InvalidInput([FieldError("$", f"is nested more than {MAX_DEPTH} levels deep")])
    if check_text and _SURROGATE_ESCAPE.search(raw):  # else no string holds a lone surrogate
        errors = _not_unicode(body, "$")
        if errors:
            raise InvalidInput(errors)
    return body


# Far deeper than any body the API reads (a QuestionnaireResponse: under a dozen levels), far
# shallower than what the recursive readers after `json.loads` (FHIR validation, the lone
# surrogate walk) can follow before Python's recursion limit: a body nested a few hundred
# levels deep, well within 64 KB, was a RecursionError — a 500 — instead of a refusal.
MAX_DEPTH = 32


def _too_deep(value: Any) -> bool:
    """Whether `value` nests lists and objects more than MAX_DEPTH deep (walked without
    recursion, so it cannot itself run out of stack)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            item = list(item.values())
        if isinstance(item, list):
            if depth > MAX_DEPTH:
                return True
            stack.extend((child, depth + 1) for child in item)
    return False


# A lone surrogate can only come from a \uD800–\uDFFF escape (the bytes were valid UTF-8).
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def _not_unicode(value: Any, field: str) -> list[FieldError]:
    """Fields named as the contract names them: "answers", "medications[0]"."""
    if isinstance(value, str):
        return [] if _encodable(value) else [FieldError(field, "is not valid Unicode text")]
    if isinstance(value, list):
        return [e for i, v in enumerate(value) for e in _not_unicode(v, f"{field}[{i}]")]
    if isinstance(value, dict):
        errors = []
        for key, item in value.items():
            if not _encodable(key):
                errors.append(FieldError(field, "has a key that is not valid Unicode text"))
            else:
                errors.extend(_not_unicode(item, key if field in ("$", "answers") else field))
        return errors
    return []


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate key {key!r}")
        out[key] = value
    return out


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _reason(exc: Exception) -> str:
    if isinstance(exc, RecursionError):
        return "nested too deeply"
    if isinstance(exc, json.JSONDecodeError):
        return f"{exc.msg} (line {exc.lineno}, column {exc.colno})"
    if isinstance(exc, UnicodeDecodeError):
        return "not UTF-8"
    return str(exc)
