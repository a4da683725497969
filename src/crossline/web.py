"""Project-wide web plumbing: privacy headers, request limits, and the crisis banner context."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import get_language

from crossline.knowledge import load

MAX_BODY_BYTES = 64 * 1024


class PrivacyHeadersMiddleware:
    """No caching of anything personal; no referrer; nothing identifying leaves in headers."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not request.path.startswith("/static/"):
            response["Cache-Control"] = "no-store"
        response.setdefault("Referrer-Policy", "no-referrer")
        response.setdefault("X-Content-Type-Options", "nosniff")
        response.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        return response


class RequestLimitsMiddleware:
    """Refuse oversized bodies before anything reads them (413, nothing stored)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = MAX_BODY_BYTES + 1
        if length > MAX_BODY_BYTES:
            return JsonResponse(
                {"errors": [{"field": "$", "message": f"body larger than {MAX_BODY_BYTES} bytes"}]},
                status=413,
            )
        return self.get_response(request)


def crisis_context(request: HttpRequest) -> dict[str, Any]:
    """Every page gets the crisis banner and resources in the active language."""
    k = load()
    lang = get_language() or "en"
    lang = lang if lang in ("en", "es") else "en"
    res = k.docs["resources.toml"]
    return {
        "crisis_banner": res["banner"][lang],
        "crisis_resources": [
            {"id": r.id, "label": r.label[lang], "contact": r.contact[lang]} for r in k.resources
        ],
        "lang": lang,
    }
