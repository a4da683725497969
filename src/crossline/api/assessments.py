"""POST /api/v1/assessments: the full battery of answers in, a stored, explained decision out.

The API is the full-battery path: the decision is made from every answer given (the web flow
decides from the answers it asked). Validation is the engine's contract, run on the raw body, so
every refusal names its field and nothing is stored; the assessment and its decision snapshot are
written in one transaction.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, JsonResponse
from django.urls import reverse
from django.utils import timezone
from ninja import Router

from crossline.api import idempotency, ratelimit
from crossline.api.errors import TooManyRequests, read_json
from crossline.api.schemas import AssessmentCreated, Errors
from crossline.engine import FieldError, InvalidInput, Request, evaluate, parse_request
from crossline.intake.models import Assessment
from crossline.knowledge import load

router = Router(tags=["assessments"])

# Read once: with CROSSLINE_BASE_URL set, links use it; otherwise the request's own host.
BASE_URL_CONFIGURED = settings.CROSSLINE.base_url_configured
RATE_LIMIT_SCOPE = "submit"
TOO_MANY = "too many submissions, try again in a minute"

_DESCRIPTION = """\
Stores an assessment and returns its decision. The body is the public assessment contract:
answers keyed by item id and an optional language (`en` by default). An incomplete answer set
is accepted (eligibility `incomplete`, with the missing ids listed). Invalid input is refused
with 422, naming each field, and nothing is stored.

`result_url` is the person's private link to their result page; treat it as a secret.

Send an `Idempotency-Key` header to retry safely: the same key with the same body returns the
original response (201, the same id) for 24 hours; the same key with a different body is
refused with 409. Submissions are limited per client per minute (429, with Retry-After)."""

_EXTRA = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/AssessmentRequest"}}
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
    response={201: AssessmentCreated, 409: Errors, 413: Errors, 422: Errors, 429: Errors},
    operation_id="submitAssessment",
    summary="Submit an assessment",
    description=_DESCRIPTION,
    openapi_extra=_EXTRA,
)
def submit(request: HttpRequest) -> JsonResponse:
    _limit(request)
    body = read_json(request)
    req, key = _validate(body, request.headers.get(idempotency.HEADER))
    decision = evaluate(load(), req.answers, req.language).to_dict()

    def create() -> tuple[Assessment, str]:
        return _store(req, decision)

    if key is None:
        with transaction.atomic():
            done = idempotency.Submitted(*create())
    else:
        done = idempotency.submit_once(key, idempotency.body_hash(body), create)
    response = JsonResponse(_created(request, done.assessment, done.token), status=201)
    if done.replayed:
        response["Idempotent-Replayed"] = "true"
    return response


def _limit(request: HttpRequest) -> None:
    verdict = ratelimit.hit(request, RATE_LIMIT_SCOPE)
    if not verdict.allowed:
        headers = {"Retry-After": str(verdict.retry_after)}
        raise TooManyRequests([FieldError("$", TOO_MANY)], headers)


def _validate(body: Any, raw_key: str | None) -> tuple[Request, str | None]:
    """The body and the Idempotency-Key header, every problem reported at once."""
    errors: list[FieldError] = []
    req = key = None
    try:
        req = parse_request(load(), body)
    except InvalidInput as exc:
        errors.extend(exc.errors)
    try:
        key = idempotency.parse_key(raw_key)
    except InvalidInput as exc:
        errors.extend(exc.errors)
    if errors or req is None:
        raise InvalidInput(errors)
    return req, key


def _store(req: Request, decision: dict[str, Any]) -> tuple[Assessment, str]:
    """Runs inside the caller's transaction: the row and its decision land together."""
    return Assessment.submit(req.language, dict(req.answers), decision, timezone.now())


def _created(request: HttpRequest, assessment: Assessment, token: str) -> dict[str, Any]:
    return {
        "id": str(assessment.public_id),
        "decision": assessment.decision,
        "result_url": result_url(request, token),
    }


def result_url(request: HttpRequest, token: str, configured: bool | None = None) -> str:
    """The private result link, absolute: from CROSSLINE_BASE_URL when set, else the request."""
    path = reverse("intake:result", args=[token])
    if BASE_URL_CONFIGURED if configured is None else configured:
        return settings.CROSSLINE.base_url + path
    return request.build_absolute_uri(path)
