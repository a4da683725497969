"""POST /api/v1/assessments: the full battery of answers in, a stored, explained decision out.

The API is the full-battery path: the decision is made from every answer given (the web flow
decides from the answers it asked). Validation is the engine's contract, run on the raw body, so
every refusal names its field and nothing is stored. A submission is one transaction with one
commit: the assessment with its decision snapshot (and, with an Idempotency-Key, the key), then
(`_finish`) its audit event and the client's rate-limit count. Everything that can be computed
beforehand (the decision, the encrypted columns) is, so the transaction only runs its statements.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.http import HttpRequest, HttpResponse
from django.urls import get_script_prefix, reverse
from django.utils import timezone
from ninja import Router

from crossline import audit
from crossline.api import idempotency, ratelimit
from crossline.api.errors import TooManyRequests, read_json
from crossline.api.rows import Insert
from crossline.api.schemas import AssessmentCreated, Errors
from crossline.crypto import json_bytes
from crossline.engine import FieldError, InvalidInput, Request, evaluate, parse_request
from crossline.intake.models import Assessment
from crossline.program.policy import current_knowledge

router = Router(tags=["assessments"])

# Read once: with CROSSLINE_BASE_URL set, links use it; otherwise the request's own host.
BASE_URL_CONFIGURED = settings.CROSSLINE.base_url_configured
RATE_LIMIT_SCOPE = "submit"
FHIR_JSON = "application/fhir+json"
TOO_MANY = "too many submissions, try again in a minute"
_ASSESSMENT = Insert(Assessment)
_DECISION = Assessment._meta.get_field("decision")
_SUBMITTED_AT = Assessment._meta.get_field("submitted_at")
_STAMPED = ("created_at", "updated_at", "submitted_at")

_DESCRIPTION = """\
Stores an assessment and returns its decision. The body is the public assessment contract:
answers keyed by item id and an optional language (`en` by default). An incomplete answer set
is accepted (eligibility `incomplete`, with the missing ids listed). Invalid input is refused
with 422, naming each field, and nothing is stored; a body not sent as JSON (`Content-Type:
application/json`, or `application/fhir+json` below) with 415.

`result_url` is the person's private link to their result page; treat it as a secret.

A FHIR form can submit what it wrote instead: a QuestionnaireResponse to the Questionnaire at
`/fhir/r4/Questionnaire/crossline-assessment`, sent as `application/fhir+json` (status
`completed`, `in-progress` or `amended`; its `language` picks the decision's — some renderers
leave it out: then the request's `Content-Language`, else its `Accept-Language`, picks it,
English when none names English or Spanish). The answer is the
same 201 with the decision; a field it cannot accept is named by its FHIR path or linkId.

Send an `Idempotency-Key` header to retry safely: the same key with the same body returns the
original response (201, the same id) for 24 hours; the same key with a different body is
refused with 409. Submissions are limited per client per minute (429, with Retry-After)."""

_EXTRA = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/AssessmentRequest"}},
            FHIR_JSON: {
                "schema": {
                    "type": "object",
                    "description": "A FHIR R4 QuestionnaireResponse to the crossline-assessment "
                    "Questionnaire (its linkIds are the contract's answer ids).",
                    "required": ["resourceType", "questionnaire", "status"],
                    "properties": {
                        "resourceType": {"type": "string", "enum": ["QuestionnaireResponse"]},
                        "questionnaire": {"type": "string"},
                        "status": {
                            "type": "string",
                            "enum": ["completed", "in-progress", "amended"],
                        },
                        "language": {"type": "string"},
                        "item": {"type": "array", "items": {"type": "object"}},
                    },
                }
            },
        },
    },
    "parameters": [
        {
            "name": idempotency.HEADER,
            "in": "header",
            "required": False,
            "description": "Any unique string (a UUID is ideal), at most 255 characters.",
            "schema": {"type": "string", "maxLength": idempotency.MAX_KEY_LENGTH},
        }
    ],
}


@router.post(
    "/assessments",
    response={
        201: AssessmentCreated,
        409: Errors,
        413: Errors,
        415: Errors,
        422: Errors,
        429: Errors,
    },
    operation_id="submitAssessment",
    summary="Submit an assessment",
    description=_DESCRIPTION,
    openapi_extra=_EXTRA,
)
def submit(request: HttpRequest) -> HttpResponse:
    already = ratelimit.refused_already(request, RATE_LIMIT_SCOPE)
    if already is not None:  # refused in this window: refuse again before doing any work
        raise _too_many(already)
    try:
        body = read_json(request)
        fhir = request if request.content_type == FHIR_JSON else None
        req, key = _validate(body, request.headers.get(idempotency.HEADER), fhir)
    except Exception:
        _limit(request)  # a refused request counts too, on its own; over the limit, 429 wins
        raise
    decision = evaluate(current_knowledge(), req.answers, req.language).to_dict()
    now = timezone.now()
    assessment, token = Assessment.submission(req.language, dict(req.answers), decision, now)
    # An Idempotency-Key is stored on the row, in its one INSERT.
    hashed = (
        None
        if key is None
        else idempotency.mark(assessment, key, idempotency.body_hash(body), token)
    )
    # Created, updated and submitted in one instant, encoded once.
    assessment.created_at = assessment.updated_at = now
    stamp = _SUBMITTED_AT.get_db_prep_save(now, connection)
    # Encrypted here, before the transaction; the decision's JSON text is encoded once, for
    # its column and for the response.
    decision_json = json_bytes(decision)
    prepared = {
        "decision": _DECISION.seal(decision_json, connection),
        **dict.fromkeys(_STAMPED, stamp),
    }
    values = _ASSESSMENT.values(assessment, prepared=prepared)

    # The audit event and the client's window are prepared here too: under the transaction
    # (SQLite's write lock, which every worker queues for) only the statements run.
    event = assessment.submitted_event(request, "api")
    window = ratelimit.window(request, RATE_LIMIT_SCOPE)

    def create() -> tuple[Assessment, str]:
        _ASSESSMENT.run(assessment, values)
        return assessment, token

    def finish() -> None:
        _finish(event, window)

    if hashed is None:
        with transaction.atomic():
            done = idempotency.Submitted(*create())
            finish()
    else:
        done = idempotency.submit_once(
            hashed,
            assessment.idempotency_body,
            create,
            finish,
            recount=lambda: _limit(request),
        )
    if not done.replayed:
        return _created(request, done.assessment, done.token, decision_json)
    response = _created(request, done.assessment, done.token, json_bytes(done.assessment.decision))
    response["Idempotent-Replayed"] = "true"
    return response


def _from_fhir(request: HttpRequest, body: Any) -> Any:
    """A QuestionnaireResponse to the FHIR Questionnaire, as the contract's body."""
    from crossline.api.fhir import body_language, fhir_base  # loaded only when it is used
    from crossline.fhir.response import to_request

    return to_request(current_knowledge(), body, fhir_base(request), body_language(request))


def _limit(request: HttpRequest) -> None:
    verdict = ratelimit.hit(request, RATE_LIMIT_SCOPE)
    if not verdict.allowed:
        raise _too_many(verdict)


def _too_many(verdict: ratelimit.Verdict) -> TooManyRequests:
    return TooManyRequests([FieldError("$", TOO_MANY)], {"Retry-After": str(verdict.retry_after)})


def _validate(
    body: Any, raw_key: str | None, fhir: HttpRequest | None = None
) -> tuple[Request, str | None]:
    """The body (with `fhir`, the request it came in: a QuestionnaireResponse, read into the
    contract's body first) and the Idempotency-Key header, every problem reported at once."""
    errors: list[FieldError] = []
    req = key = None
    try:
        req = parse_request(current_knowledge(), body if fhir is None else _from_fhir(fhir, body))
    except InvalidInput as exc:
        errors.extend(exc.errors)
    try:
        key = idempotency.parse_key(raw_key)
    except InvalidInput as exc:
        errors.extend(exc.errors)
    if errors or req is None:
        raise InvalidInput(errors)
    return req, key


def _finish(event: audit.Pending, window: ratelimit.Window) -> None:
    """The last writes of a submission's transaction, after the assessment (one INSERT of
    values prepared and encrypted beforehand, with its Idempotency-Key if it has one).

    1. The audit event, prepared beforehand (`Assessment.submitted_event`). On PostgreSQL
       it takes the audit chain's lock, held to the commit.
    2. The client's rate-limit count: over the limit, the 429 raised here rolls the whole
       transaction back, so nothing is stored, nor counted (the count stays at the limit).

    Both hold something every submission needs until the commit — the chain's lock, the
    client's counter row (PostgreSQL locks an updated row to the end of its transaction) — so
    they come last: counted first, the counter row of a busy client (many people behind one
    address) was locked through every other statement of the transaction, and submissions
    queued on it (docs/benchmarks.md). A client refused once is refused again at the top of
    `submit` (`ratelimit.refused_already`), so a flood does not pay for these writes.
    """
    event.write()
    verdict = ratelimit.count(window)
    if not verdict.allowed:
        raise _too_many(verdict)


def _created(
    request: HttpRequest, assessment: Assessment, token: str, decision_json: bytes
) -> HttpResponse:
    """201 `{"id", "decision", "result_url"}` with the decision's JSON text as it was encoded."""
    body = b"".join(
        [
            b'{"id":',
            json_bytes(str(assessment.public_id)),
            b',"decision":',
            decision_json,
            b',"result_url":',
            json_bytes(result_url(request, token)),
            b"}",
        ]
    )
    return HttpResponse(body, content_type="application/json", status=201)


def result_url(request: HttpRequest, token: str, configured: bool | None = None) -> str:
    """The private result link, absolute: from CROSSLINE_BASE_URL when set, else the request."""
    head, tail = _result_route(get_script_prefix())
    path = head + token + tail  # a token is URL-safe base64: nothing to quote
    if BASE_URL_CONFIGURED if configured is None else configured:
        return settings.CROSSLINE.base_url + path
    return request.build_absolute_uri(path)


@lru_cache(maxsize=8)
def _result_route(script_prefix: str) -> tuple[str, str]:
    """The result page's path around its token, reversed once per script prefix (`reverse()`
    itself reads the prefix): `reverse()` on every submission was 7% of its CPU under load."""
    head, _, tail = reverse("intake:result", args=[_PLACEHOLDER]).partition(_PLACEHOLDER)
    return head, tail


_PLACEHOLDER = "TOKEN"
