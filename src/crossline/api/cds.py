"""/cds-services: crossline's CDS Hooks service (the contraindication and interaction check an
EHR calls when ketamine or esketamine is ordered; the cards come from `crossline.fhir.cds`).

Who may call: CDS Hooks has every EHR sign a short-lived JWT with its private key for every
call. A call is answered only when its token names a trusted issuer (CROSSLINE_CDS_CLIENTS_FILE,
with the issuer's public JWK Set), is signed by one of that issuer's keys with a public-key
algorithm, names this very endpoint as its audience, has not expired, lives five minutes at
most, and has not been used before (its `jti`, remembered in the shared cache until it
expires). Discovery says nothing about anyone and stays open.

How often: calls are counted per calling address and minute (CROSSLINE_CDS_RATE_LIMIT_PER_MINUTE,
in the database every worker shares), before the token is checked, so a flood of refused
tokens is held back as well as a trusted EHR calling in a loop: beyond the limit, 429 with
Retry-After, and once refused in a window an address costs no database work until it ends.

What is kept: nothing about the patient. Each answered call appends one audit event naming
the EHR (issuer), the service and how many cards of each kind it returned, and each card given
is kept by its uuid with what it is about (a class of medicines, unrecognised names, the
conditions checklist) for `CARD_DAYS`, so that the EHR's feedback (`…/feedback`: a prescriber
overrode a card) can name it and the program can count what prescribers override.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
import uuid
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

import jwt
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from crossline.api import ratelimit
from crossline.api.errors import strict_json
from crossline.api.models import CdsCard, CdsFeedback
from crossline.audit import Action
from crossline.audit import log as audit_log
from crossline.config import CDS_ALGORITHMS
from crossline.engine import InvalidInput
from crossline.fhir import cds
from crossline.knowledge import load
from crossline.web import MAX_CDS_BODY_BYTES

log = logging.getLogger(__name__)

RATE_LIMIT_SCOPE = "cds"
CARD_DAYS = 90  # how long a card given is kept for feedback to name it
UNKNOWN_CARD = (
    "not a card this service gave this EHR (or one older than "
    f"{CARD_DAYS} days, which crossline no longer keeps)"
)

LEEWAY_SECONDS = 60  # clock difference tolerated between the EHR and this server
MAX_LIFETIME_SECONDS = 300  # a token meant for one call; also bounds how long a jti is kept
REQUIRED_CLAIMS = ["iss", "aud", "exp", "iat", "jti"]


class Refused(Exception):
    """The caller is not who CDS Hooks requires (HTTP 401); the message says why."""


@require_GET
def discovery(request: HttpRequest) -> JsonResponse:
    return JsonResponse(cds.discovery(load()))


@require_POST
def service(request: HttpRequest, service_id: str) -> HttpResponse:
    admitted = _admit(request, service_id)
    if isinstance(admitted, HttpResponse):
        return admitted  # the refusal
    issuer, body = admitted
    try:
        checked = cds.checked(load(), service_id, body, _site(request))
    except InvalidInput as exc:
        return _invalid(exc)
    except cds.PrefetchMissing as exc:
        return _error(412, str(exc).split(" ")[0], f"needed and not prefetched: {exc}")
    now = timezone.now()
    cards = []
    given = []
    for kind, card in checked:
        card = {"uuid": str(uuid.uuid4()), **card}  # what the EHR's feedback names it by
        cards.append(card)
        given.append(
            CdsCard(
                uuid=card["uuid"],
                issuer=issuer,
                service=service_id,
                kind=kind,
                indicator=card["indicator"],
                issued_at=now,
            )
        )
    with transaction.atomic():
        CdsCard.objects.bulk_create(given)
        _audit(Action.CDS_CHECKED, issuer, service_id, "cards", [c.indicator for c in given])
    return JsonResponse({"cards": cards})


@require_POST
def feedback(request: HttpRequest, service_id: str) -> HttpResponse:
    """`…/feedback` (CDS Hooks 2.0 "Feedback"): a trusted EHR reports that prescribers overrode
    cards this service gave it. Each entry must name a card crossline gave that EHR through
    this service and not yet forgotten (`CARD_DAYS`); otherwise nothing of the call is kept.
    Kept: the outcome, its time, the override reason's coding and whether a comment was written
    — never the comment — and one audit event with the counts."""
    admitted = _admit(request, service_id)
    if isinstance(admitted, HttpResponse):
        return admitted  # the refusal
    issuer, body = admitted
    try:
        entries = cds.read_feedback(body)
    except InvalidInput as exc:
        return _invalid(exc)
    ids = {e.card for e in entries}
    known = {
        str(c.uuid): c
        for c in CdsCard.objects.filter(uuid__in=ids, issuer=issuer, service=service_id)
    }
    unknown = [
        {"field": f"feedback[{i}].card", "message": UNKNOWN_CARD}
        for i, e in enumerate(entries)
        if e.card not in known
    ]
    if unknown:
        return JsonResponse({"errors": unknown}, status=422)
    now = timezone.now()
    with transaction.atomic():
        CdsFeedback.objects.bulk_create(
            CdsFeedback(
                card=known[e.card],
                outcome=e.outcome,
                reason_system=e.reason_system,
                reason_code=e.reason_code,
                commented=e.commented,
                outcome_at=e.at,
                received_at=now,
            )
            for e in entries
        )
        indicators = [known[e.card].indicator for e in entries]
        _audit(Action.CDS_FEEDBACK, issuer, service_id, "overridden", indicators)
    return JsonResponse({})


def _audit(action: Action, issuer: str, service_id: str, total: str, indicators: list[str]) -> None:
    """One audit event for an answered call: the EHR, the service, and how many cards it
    concerned (`total`), of which critical and warning — nothing about the patient."""
    audit_log.record(
        action,
        actor=f"cds:{issuer}"[:254],
        object_type="cds_service",
        object_id=service_id,
        detail={
            total: len(indicators),
            "critical": indicators.count("critical"),
            "warning": indicators.count("warning"),
        },
    )


def _admit(request: HttpRequest, service_id: str) -> HttpResponse | tuple[str, Any]:
    """The checks every service call passes before its body is used: the service exists, the
    calling address is within its limit, the token is a trusted EHR's, the body is JSON. The
    refusal as a response, or the EHR (issuer) and the body."""
    if service_id not in cds.SERVICES:
        return _error(404, "service", f"no CDS service {service_id!r} here (see /cds-services)")
    limit = settings.CROSSLINE.cds_rate_limit_per_minute
    verdict = ratelimit.refused_already(request, RATE_LIMIT_SCOPE, limit)
    if verdict is None:
        verdict = ratelimit.hit(request, RATE_LIMIT_SCOPE, limit)  # committed at once
        if not verdict.allowed and verdict.count == limit + 1:  # once per address and window
            log.warning("CDS Hooks calls over the limit of %d a minute from one address", limit)
    if not verdict.allowed:
        response = _error(429, "$", f"more than {limit} calls a minute: retry later")
        response["Retry-After"] = str(verdict.retry_after)
        return response
    try:
        issuer = verify(request, endpoint_url(request))
    except Refused as exc:
        log.warning("CDS Hooks call refused: %s", exc)  # why, never what the call carried
        response = _error(401, "Authorization", str(exc))
        response["WWW-Authenticate"] = 'Bearer error="invalid_token"'
        return response
    raw = request.read(MAX_CDS_BODY_BYTES + 1)  # not `.body`: the site-wide limit is 64 KB
    if len(raw) > MAX_CDS_BODY_BYTES:
        return _error(413, "$", f"body larger than {MAX_CDS_BODY_BYTES} bytes")
    try:  # as the API reads its bodies: no NaN, no duplicate keys, not too deep
        return issuer, strict_json(raw, check_text=False)
    except InvalidInput as exc:
        errors = [{"field": e.field, "message": e.message} for e in exc.errors]
        return JsonResponse({"errors": errors}, status=400)


def forget_cards(now: datetime) -> int:
    """Delete the cards given more than `CARD_DAYS` ago, with their feedback (the worker,
    hourly). Returns how many cards were deleted."""
    old = CdsCard.objects.filter(issued_at__lt=now - timedelta(days=CARD_DAYS))
    deleted = 0
    while ids := list(old.order_by("pk").values_list("pk", flat=True)[:1000]):
        with transaction.atomic():
            CdsFeedback.objects.filter(card__in=ids).delete()
            deleted += CdsCard.objects.filter(pk__in=ids).delete()[0]
    return deleted


def verify(request: HttpRequest, audience: str) -> str:
    """The issuer of the request's CDS Hooks JWT, once every check passes; `Refused` otherwise.
    Records the token's `jti` so the same token is refused the next time."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Refused("a signed JWT is required (Authorization: Bearer <JWT>)")
    clients = settings.CROSSLINE.cds_clients
    if not clients:
        raise Refused("no CDS client is trusted here (CROSSLINE_CDS_CLIENTS_FILE is not set)")
    try:
        header = jwt.get_unverified_header(token)
        unverified = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        raise Refused("the bearer token is not a JWT") from None
    issuer = unverified.get("iss")
    if not isinstance(issuer, str) or issuer not in clients:
        raise Refused("the token's issuer (iss) is not a trusted CDS client")
    algorithm = header.get("alg")
    if algorithm not in CDS_ALGORITHMS:
        raise Refused(f"alg {algorithm!r}: only {', '.join(CDS_ALGORITHMS)} are accepted")
    kid = header.get("kid")
    found = _keys(issuer).get(kid) if isinstance(kid, str) else None
    if found is None:
        raise Refused("the token's key (kid) is not in its issuer's JWK Set")
    jwk, key = found
    if jwk.get("alg", algorithm) != algorithm or not algorithm.startswith(_FAMILY[jwk["kty"]]):
        raise Refused(f"alg {algorithm!r} does not fit the key it names")
    try:
        claims = jwt.decode(
            token,
            key.key,
            algorithms=[algorithm],
            audience=audience,
            issuer=issuer,
            leeway=LEEWAY_SECONDS,
            options={"require": REQUIRED_CLAIMS},
        )
    except jwt.PyJWTError as exc:
        raise Refused(f"the token is not valid: {exc}") from None
    if claims["exp"] - claims["iat"] > MAX_LIFETIME_SECONDS:
        raise Refused(f"the token lives more than {MAX_LIFETIME_SECONDS} seconds")
    seen = hashlib.sha256(f"{issuer}\n{claims['jti']}".encode()).hexdigest()
    keep = max(1, int(claims["exp"] - time.time()) + LEEWAY_SECONDS + 1)
    if not cache.add(f"cds-jti:{seen}", 1, timeout=keep):
        raise Refused("the token was used before (jti): sign a new one for each call")
    return issuer


_FAMILY = {"EC": ("ES",), "RSA": ("RS", "PS")}


def _keys(issuer: str) -> dict[str, tuple[dict[str, Any], jwt.PyJWK]]:
    """The issuer's keys by kid: each as configured (its `alg`, `kty`) and as PyJWT uses it."""
    return _parsed(json.dumps(settings.CROSSLINE.cds_clients[issuer], sort_keys=True))


@lru_cache(maxsize=64)
def _parsed(jwks: str) -> dict[str, tuple[dict[str, Any], jwt.PyJWK]]:
    """Parsed once per distinct key set (keyed by its JSON, so a changed setting is seen)."""
    return {jwk["kid"]: (jwk, jwt.PyJWK(jwk)) for jwk in json.loads(jwks)["keys"]}


def endpoint_url(request: HttpRequest) -> str:
    """This endpoint's URL, the audience its tokens must name: under CROSSLINE_BASE_URL when
    set (as behind a proxy), else as the request reached it."""
    if settings.CROSSLINE.base_url_configured:
        return settings.CROSSLINE.base_url + request.path
    return request.build_absolute_uri(request.path)


def _site(request: HttpRequest) -> str:
    if settings.CROSSLINE.base_url_configured:
        return str(settings.CROSSLINE.base_url)
    return request.build_absolute_uri("/").rstrip("/")


def _invalid(exc: InvalidInput) -> JsonResponse:
    errors = [{"field": e.field, "message": e.message} for e in exc.errors]
    return JsonResponse({"errors": errors}, status=422)


def _error(status: int, field: str, message: str) -> JsonResponse:
    return JsonResponse({"errors": [{"field": field, "message": message}]}, status=status)


urlpatterns = [
    path("cds-services", discovery, name="cds-discovery"),
    path("cds-services/<str:service_id>", service, name="cds-service"),
    path("cds-services/<str:service_id>/feedback", feedback, name="cds-feedback"),
]
