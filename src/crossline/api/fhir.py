"""/fhir/r4: crossline's FHIR R4 server for integrators — what it can do (`metadata`) and the
assessment Questionnaire (read and search), in FHIR JSON (`application/fhir+json`).

The resources come from the pure mappers (`crossline.fhir`), built once per base URL and
knowledge version and checked with fhir.resources before the first one is served. Nothing
here is personal: the Questionnaire is the questions, the same for everyone. Like /api/, these
URLs are stateless (no session, no CSRF); unknown search parameters are ignored, as FHIR's
lenient handling asks. Refusals are OperationOutcomes.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import path, reverse
from django.utils.translation.trans_real import parse_accept_lang_header
from ninja import NinjaAPI

from crossline import __version__
from crossline.engine.knowledge import LANGUAGES
from crossline.fhir import questionnaire, validate
from crossline.fhir.codes import FHIR_VERSION, QUESTIONNAIRE_ID
from crossline.knowledge import load

CONTENT_TYPE = "application/fhir+json; charset=utf-8"
STARTED = datetime.now(UTC).isoformat(timespec="seconds")  # the CapabilityStatement's date
MAX_ACCEPT_LANGUAGE = 200  # characters of the header read: a client's list is short

api = NinjaAPI(
    title="crossline FHIR R4",
    version=__version__,
    urls_namespace="fhir",
    docs_url=None,
    openapi_url=None,  # a FHIR server describes itself with its CapabilityStatement
)


@api.get("/metadata", url_name="metadata")
def metadata(request: HttpRequest) -> HttpResponse:
    return _fhir(_capabilities(fhir_base(request)))


@api.get("/Questionnaire", url_name="questionnaire-search")
def search_questionnaires(request: HttpRequest) -> HttpResponse:
    base, language = fhir_base(request), preferred_language(request)
    found = [_questionnaire(base, load().version, language)]
    wanted_id, wanted_url = request.GET.get("_id"), request.GET.get("url")
    if wanted_id is not None:
        found = [q for q in found if q["id"] == wanted_id]
    if wanted_url is not None:  # url, or url|version
        found = [q for q in found if wanted_url in (q["url"], f"{q['url']}|{q['version']}")]
    return _in(language, _fhir(_searchset(request, base, found)))


@api.get("/Questionnaire/{resource_id}", url_name="questionnaire")
def read_questionnaire(request: HttpRequest, resource_id: str) -> HttpResponse:
    if resource_id != QUESTIONNAIRE_ID:
        return _fhir(not_found(f"Questionnaire/{resource_id} is not known"), status=404)
    language = preferred_language(request)
    body = _questionnaire_body(fhir_base(request), load().version, language)
    return _in(language, HttpResponse(body, content_type=CONTENT_TYPE))


def preferred_language(request: HttpRequest) -> str:
    """The Questionnaire's language: Spanish when the client's Accept-Language prefers it to
    English (a Spanish form; English then travels as translations), else English."""
    header = request.headers.get("Accept-Language", "")
    for tag, quality in parse_accept_lang_header(header[:MAX_ACCEPT_LANGUAGE]):
        primary = tag.split("-", 1)[0].lower()
        if primary in LANGUAGES and quality > 0:  # q=0: "not acceptable" (RFC 9110 §12.4.2)
            return primary
    return "en"


def body_language(request: HttpRequest) -> str:
    """The language a submitted QuestionnaireResponse was answered in when it does not say
    (some renderers, LHC-Forms among them, leave `language` out): the request's
    Content-Language if it names English or Spanish, else its Accept-Language's preference."""
    for tag in request.headers.get("Content-Language", "")[:MAX_ACCEPT_LANGUAGE].split(","):
        primary = tag.strip().split("-", 1)[0].lower()
        if primary in LANGUAGES:
            return primary
    return preferred_language(request)


def _in(language: str, response: HttpResponse) -> HttpResponse:
    response["Content-Language"] = language
    response["Vary"] = "Accept-Language"
    return response


def fhir_base(request: HttpRequest) -> str:
    """This server's FHIR base URL: under CROSSLINE_BASE_URL when set, else the request's host
    (as the API's result links)."""
    here = reverse("fhir:metadata").removesuffix("/metadata")
    if settings.CROSSLINE.base_url_configured:
        return settings.CROSSLINE.base_url + here
    return request.build_absolute_uri(here)


def not_found(diagnostics: str) -> dict[str, Any]:
    return {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": "not-found", "diagnostics": diagnostics}],
    }


@lru_cache(maxsize=16)
def _questionnaire(base: str, version: str, language: str = "en") -> dict[str, Any]:
    """Built and validated once per base URL, knowledge version (`version` keys the cache) and
    language."""
    resource = questionnaire.assessment(load(), base, language)
    validate(resource)
    return resource


@lru_cache(maxsize=16)
def _questionnaire_body(base: str, version: str, language: str = "en") -> bytes:
    """The same, encoded once: 87 KB of JSON took 2 ms a request to encode (bench/fhir_costs.py)."""
    return _encode(_questionnaire(base, version, language))


@lru_cache(maxsize=8)
def _capabilities(base: str) -> dict[str, Any]:
    resource = {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": STARTED,
        "publisher": "crossline",
        "kind": "instance",
        "software": {"name": "crossline", "version": __version__},
        "implementation": {"description": "crossline FHIR R4 server", "url": base},
        "fhirVersion": FHIR_VERSION,
        "format": ["json"],
        "rest": [
            {
                "mode": "server",
                "resource": [
                    {
                        "type": "Questionnaire",
                        "interaction": [{"code": "read"}, {"code": "search-type"}],
                        "searchParam": [
                            {"name": "_id", "type": "token"},
                            {"name": "url", "type": "uri"},
                        ],
                    }
                ],
            }
        ],
    }
    validate(resource)
    return resource


def _searchset(request: HttpRequest, base: str, found: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(found),
        "link": [{"relation": "self", "url": request.build_absolute_uri()}],
        "entry": [
            {
                "fullUrl": f"{base}/{r['resourceType']}/{r['id']}",
                "resource": r,
                "search": {"mode": "match"},
            }
            for r in found
        ],
    }


def _fhir(resource: dict[str, Any], status: int = 200) -> HttpResponse:
    return HttpResponse(_encode(resource), content_type=CONTENT_TYPE, status=status)


def _encode(resource: dict[str, Any]) -> bytes:
    return json.dumps(resource, ensure_ascii=False, separators=(",", ":")).encode()


urlpatterns = [path("", api.urls)]
