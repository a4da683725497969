"""Project-wide web plumbing: privacy headers, request limits, and the crisis banner context."""

from __future__ import annotations

import gc
import json
import logging
import re
from collections.abc import Callable, Mapping
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.utils.translation import get_language
from gunicorn.glogging import Logger as GunicornBaseLogger  # type: ignore[import-untyped]
from gunicorn.instrument.statsd import Statsd  # type: ignore[import-untyped]

from crossline.knowledge import load

MAX_BODY_BYTES = 64 * 1024
# A CDS Hooks call carries an EHR's FHIR Bundles (the patient's medicines): more room, and the
# body is read only after the caller's signed token is checked (crossline.api.cds).
CDS_PREFIX = "/cds-services"
MAX_CDS_BODY_BYTES = 1024 * 1024


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


class RefusalFormatsMiddleware:
    """A 404 (an address that does not exist) or 405 (a method an address does not take) in the
    format of the address. Under /api/, /fhir/ and /cds-services: `{"errors": [{"field",
    "message"}]}` (the API promises it for every refusal), an OperationOutcome under /fhir/ —
    not Django's HTML page or ninja's "Method not allowed"; a view's own JSON refusal is kept.
    Anywhere else a 405 (an address that takes only a form's POST, opened with a GET — a
    bookmark, a reload) gets a page with the crisis line, where Django's is empty."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        status = response.status_code
        if status not in (404, 405):
            return response
        if not request.path_info.startswith(STATELESS_PREFIXES):
            return _method_not_allowed_page(request, response) if status == 405 else response
        if "json" in response.get("Content-Type", ""):
            return response
        allowed = response.get("Allow", "")
        if status == 404:
            message = "no such address here"
        else:
            message = f"{request.method} is not allowed here; allowed: {allowed}"
        refusal = _stateless_refusal(request, status, message)
        if allowed:
            refusal["Allow"] = allowed
        return refusal


def _method_not_allowed_page(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    from django.template.loader import render_to_string

    response.content = render_to_string("405.html", request=request)
    response["Content-Type"] = "text/html; charset=utf-8"
    # Set by CommonMiddleware for the empty body already (it runs inside this one).
    response["Content-Length"] = str(len(response.content))
    return response


def _stateless_refusal(request: HttpRequest, status: int, message: str) -> HttpResponse:
    if not request.path_info.startswith("/fhir/"):
        errors = {"errors": [{"field": "$", "message": message}]}
        return JsonResponse(errors, status=status)
    from crossline.api.fhir import CONTENT_TYPE, not_found

    outcome = not_found(message)
    if status == 405:
        outcome["issue"][0]["code"] = "not-supported"
    return HttpResponse(json.dumps(outcome), content_type=CONTENT_TYPE, status=status)


class RequestLimitsMiddleware:
    """Refuse oversized bodies before anything reads them (413, nothing stored)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = MAX_CDS_BODY_BYTES if request.path_info.startswith(CDS_PREFIX) else MAX_BODY_BYTES
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = limit + 1
        if length > limit:
            if not request.path_info.startswith(STATELESS_PREFIXES):
                return _too_large_page(request)
            return JsonResponse(
                {"errors": [{"field": "$", "message": f"body larger than {limit} bytes"}]},
                status=413,
            )
        return self.get_response(request)


def _too_large_page(request: HttpRequest) -> HttpResponse:
    """A form too large to read (413), as a page of the site with the crisis line, in the
    person's language (this runs before the locale middleware: the browser's choice is read
    here). The body is never read, so nothing of it is kept."""
    from django.shortcuts import render
    from django.utils import translation

    with translation.override(translation.get_language_from_request(request)):
        return render(request, "413.html", status=413)


# /api/, /fhir/ and /cds-services are stateless by contract: the cookie layers step aside for
# them (see crossline.middleware); CSRF below too.
STATELESS_PREFIXES = ("/api/", "/fhir/", CDS_PREFIX)


class NotOnStatelessPaths:
    """Mixin for a middleware class: pass /api/ requests straight through."""

    def __call__(self, request: HttpRequest) -> Any:
        if request.path_info.startswith(STATELESS_PREFIXES):
            return self.get_response(request)  # type: ignore[attr-defined]
        return super().__call__(request)  # type: ignore[misc]


def patient_language(request: HttpRequest, default: str) -> str:
    """A private-link page's language: the one the person chose (cookie) or their browser asks
    for; otherwise `default` — the language of their screen or course (a link opened from an
    e-mail in a fresh browser)."""
    from django.conf import settings
    from django.utils import translation

    chosen = settings.LANGUAGE_COOKIE_NAME in request.COOKIES
    if not chosen and "HTTP_ACCEPT_LANGUAGE" not in request.META:
        translation.activate(default)
    lang = (translation.get_language() or "en")[:2]
    return lang if lang in ("en", "es") else "en"


NOT_SAVED = "changed"  # query parameter of a private-link page shown again after a refusal


def back_not_saved(name: str, token: str) -> HttpResponseRedirect:
    """Back to a private-link page (URL `name` with its `token`) after an answer that could not
    be stored because the page had changed since it was shown: the page then shows where things
    stand now and, in the person's language, that nothing was saved (`not_saved`)."""
    from django.urls import reverse

    return HttpResponseRedirect(reverse(name, kwargs={"token": token}) + f"?{NOT_SAVED}=1")


def held_back(request: HttpRequest, scope: str) -> int | None:
    """Count this request in the client's `scope` (crossline.api.ratelimit, the shared
    per-minute limit); over it, the seconds to wait (the refusal's Retry-After), else None."""
    from crossline.api import ratelimit  # models: only once Django is set up

    verdict = ratelimit.hit(request, scope)
    return None if verdict.allowed else verdict.retry_after


def over_the_limit(request: HttpRequest, scope: str, **context: Any) -> HttpResponse | None:
    """`held_back`, answered with the page saying to wait a minute (429, Retry-After,
    `context` for its language switch), else None. Nothing is stored on a refusal."""
    from django.shortcuts import render

    wait = held_back(request, scope)
    if wait is None:
        return None
    response = render(request, "intake/too_many.html", context, status=429)
    response["Retry-After"] = str(wait)
    return response


def not_saved(request: HttpRequest) -> bool:
    """Whether this page is shown again after `back_not_saved` (its template's `not_saved`)."""
    return request.method == "GET" and request.GET.get(NOT_SAVED) == "1"


def posted_safety_answers(data: Mapping[str, Any]) -> dict[str, Any]:
    """A form's raw safety answers (PHQ-9 item 9, the ASQ), read even from a form that cannot
    be stored — its page ended or changed — so that the crisis resources never wait on storage.
    Only well-formed values count: item 9 as a whole number, the ASQ as posted."""
    from crossline.engine.instruments import ASQ_ACUITY, ASQ_ITEMS

    sent: dict[str, Any] = {item: data.get(item) for item in (*ASQ_ITEMS, ASQ_ACUITY)}
    item9 = data.get("phq9.9")
    if isinstance(item9, str) and item9.isascii() and item9.isdigit():
        sent["phq9.9"] = int(item9)
    return sent


def posted_risk(data: Mapping[str, Any]) -> bool:
    """Whether a form's raw answers show suicide risk (the engine's `shows_risk`: PHQ-9 item 9
    above 0, an ASQ yes or refused)."""
    from crossline.engine.instruments import shows_risk

    return shows_risk(posted_safety_answers(data))


# In the browser session of a person whose answers showed suicide risk: the crisis resources
# stay at the top of every page of the site from then on — after the result too, on Back, on the
# home and education pages, in another tab — until the session expires (a day). Nothing else
# about the person is kept with it.
CRISIS_SESSION_KEY = "crisis_resources"


def keep_crisis_resources(request: HttpRequest) -> None:
    session = getattr(request, "session", None)
    if session is not None and not session.get(CRISIS_SESSION_KEY):
        session[CRISIS_SESSION_KEY] = True


def crisis_context(request: HttpRequest) -> dict[str, Any]:
    """Every page gets the crisis banner and resources in the active language, and the crisis
    panel when this browser's answers have shown risk (`keep_crisis_resources`)."""
    k = load()
    lang = get_language() or "en"
    lang = lang if lang in ("en", "es") else "en"
    res = k.docs["resources.toml"]
    return {
        "crisis_banner": res["banner"][lang],
        "crisis_resources": [
            {"id": r.id, "label": r.label[lang], "short": r.short[lang], "contact": r.contact[lang]}
            for r in k.resources
        ],
        "lang": lang,
        "crisis_session": _crisis_session(request),
    }


def _crisis_session(request: HttpRequest) -> bool:
    from crossline.accounts.middleware import STAFF_PREFIXES

    if request.path.startswith(STAFF_PREFIXES):
        return False
    session = getattr(request, "session", None)
    return bool(session is not None and session.get(CRISIS_SESSION_KEY))


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """403 (handler403). On the staff side the workspace's own page — its navigation, in
    English like the rest of the workspace — naming the roles the account holds; anywhere else
    the site's page in the person's language. Both carry the crisis line."""
    from django.views import defaults

    from crossline.accounts.middleware import STAFF_PREFIXES

    if not request.path.startswith(STAFF_PREFIXES):
        return defaults.permission_denied(request, exception or Exception())
    from django.shortcuts import render

    from crossline.accounts.roles import roles_of

    roles = sorted(roles_of(getattr(request, "user", None)))
    return render(request, "staff/403.html", {"roles": roles}, status=403)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A form refused by the CSRF check (CSRF_FAILURE_VIEW): a page of the site — the crisis
    line on top, in the person's language — saying what happened and what to do, instead of
    Django's bare page. An answer that shows suicide risk brings the crisis resources first,
    on this very response, as when a form cannot be stored for any other reason."""
    from django.core.exceptions import RequestDataTooBig
    from django.http import UnreadablePostError
    from django.http.multipartparser import MultiPartParserError
    from django.shortcuts import render

    try:
        at_risk = posted_risk(request.POST)
    except (MultiPartParserError, RequestDataTooBig, UnreadablePostError):
        at_risk = False  # a body that cannot be read: the page still says where help is
    # The language switch leads to the start page: the refused address may take only a POST.
    context = {"at_risk": at_risk, "lang_next": "/"}
    return render(request, "intake/csrf_failure.html", context, status=403)


class CsrfMiddleware(NotOnStatelessPaths, CsrfViewMiddleware):
    """Django's CSRF protection, accepting the `Origin: null` that `Referrer-Policy:
    no-referrer` makes browsers send on same-site form posts.

    The token check (cookie secret + form token) still applies to every unsafe request;
    only the origin comparison, defence in depth, cannot be made for a null origin. Without
    this, no-referrer (which keeps private result links out of other sites' logs) would break
    every form. SameSite=Lax cookies keep cross-site posts from carrying the session.
    """

    def process_view(
        self,
        request: HttpRequest,
        callback: Callable[..., Any],
        callback_args: tuple[Any, ...],
        callback_kwargs: dict[str, Any],
    ) -> Any:
        if request.path_info.startswith(STATELESS_PREFIXES):
            return None
        return super().process_view(request, callback, callback_args, callback_kwargs)

    def _origin_verified(self, request: HttpRequest) -> bool:
        if request.META.get("HTTP_ORIGIN") == "null":
            return True
        return bool(super()._origin_verified(request))  # type: ignore[misc]


def wsgi_application() -> Any:
    """The WSGI application for `crossline serve`, warmed in the gunicorn master before it forks
    (`--preload`): Django set up, every view module imported and the knowledge base loaded once,
    shared by the workers copy-on-write. A new or restarted worker then answers its first
    request as fast as its hundredth. No database connection may cross the fork: none stays open.
    What was loaded is frozen out of the garbage collector (`gc.freeze`, as Python's documentation
    advises before a fork): collections in the workers skip it (docs/benchmarks.md)."""
    from django.core.wsgi import get_wsgi_application
    from django.db import connections
    from django.urls import get_resolver

    application = get_wsgi_application()
    get_resolver().url_patterns  # noqa: B018 - imports the URLconf and every view module
    load()
    connections.close_all()
    # Everything loaded so far lives as long as the process: moved out of the cyclic garbage
    # collector's reach, no worker's collection walks (and so writes to, un-sharing the pages
    # of) the ~180,000 objects it inherits. Requests' own garbage is collected as before.
    gc.collect()
    gc.freeze()
    return application


# --- logs without patient data or credentials -------------------------------------------------
# A private result link is a credential, and a client address can identify a person. Django logs
# "Internal Server Error: /r/<token>/…" and gunicorn logs "Error handling request GET /r/<token>/"
# (a worker timeout) or "Invalid request from ip=…": every log record passes through this filter.

_PRIVATE_LINK = re.compile(r"/r/(?!<)[^/\s'\"]+")  # not a route: /r/<str:token>/
_TOKEN = re.compile(r"(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])")  # token_urlsafe(32)
_CLIENT = re.compile(r"\bip=\S+")
_GUNICORN_URI = re.compile(r"^(Error handling request(?: [A-Z]+)?) \S+")


def redact(text: str) -> str:
    text = _PRIVATE_LINK.sub("/r/[private]", text)
    text = _TOKEN.sub("[private]", text)
    text = _CLIENT.sub("ip=[withheld]", text)
    return _GUNICORN_URI.sub(r"\1 [path withheld]", text)


class RedactingFilter(logging.Filter):
    """Rewrites each record: a request's path becomes the route it matched (`r/<str:token>/`),
    then anything shaped like a private link, a token or a client address is withheld —
    in the message and in the traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        request = getattr(record, "request", None)
        path = getattr(request, "path", None)
        if isinstance(path, str) and path:
            match = getattr(request, "resolver_match", None)
            route = f"/{match.route}" if match is not None else "[unmatched path]"
            escaped = path.encode("unicode_escape").decode("ascii")
            message = message.replace(escaped, route).replace(path, route)
        record.msg, record.args = redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


class WithoutTraceback(logging.Filter):
    """An expected refusal logged as one line, not a traceback: a request naming a host this
    site does not serve (scanners, a health check by address) is refused with 400 and logged
    by Django at ERROR with its whole stack, a screenful per request."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.exc_info, record.exc_text = None, None
        return True


class _Redacted:
    error_log: logging.Logger

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)  # type: ignore[misc]
        self.error_log.addFilter(RedactingFilter())


class GunicornLogger(_Redacted, GunicornBaseLogger):  # type: ignore[misc]
    """gunicorn's logger (`crossline serve --logger-class`), its error log filtered as above."""


class StatsdGunicornLogger(_Redacted, Statsd):  # type: ignore[misc]
    """The same, also sending gunicorn's request metrics to StatsD (CROSSLINE_STATSD_ADDRESS):
    a count and a duration per request and a count per status, with no path or client."""
