"""The patient's assessment: one question per screen, crisis first, a private result link.

In-progress answers live in the Assessment row (encrypted), found through the server-side
session; the browser holds only the session cookie. Every POST redirects (no resubmission on
reload), every screen has its own URL (the browser's back button works), and nothing here
needs JavaScript.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.views.decorators.http import require_http_methods, require_POST

from crossline.engine import InvalidInput
from crossline.intake import flow
from crossline.intake.models import Assessment
from crossline.intake.screens import screen_context
from crossline.program.policy import current_knowledge
from crossline.web import keep_crisis_resources, over_the_limit, posted_risk

SESSION_TOKEN = "assessment_token"
# The private token of a screen in progress lives in the person's session (server-side, never in
# a cookie) for a day after the start, then the session expires and the worker deletes it; it
# is taken out of the session as the screen is submitted. A day covers a reload, a lost
# connection or coming back in the evening; anything longer would only keep a secret around.
IN_PROGRESS_SECONDS = 24 * 60 * 60


def _language(request: HttpRequest) -> str:
    lang = (get_language() or "en")[:2]
    return lang if lang in ("en", "es") else "en"


def _current(request: HttpRequest) -> Assessment | None:
    token = request.session.get(SESSION_TOKEN)
    if not token:
        return None
    assessment = Assessment.by_token(token)
    if assessment is None or assessment.status != Assessment.Status.IN_PROGRESS:
        return None
    return assessment


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "intake/home.html", {"resume": _current(request) is not None})


@require_POST
def start(request: HttpRequest) -> HttpResponse:
    # Starting an assessment creates a row: limited per client like API submissions (the
    # counter is shared by every worker process through the api_ratecounter table).
    refused = over_the_limit(request, "start", lang_next=reverse("intake:home"))  # POST only
    if refused is not None:
        return refused
    _, token = Assessment.start(_language(request))
    request.session.cycle_key()
    request.session[SESSION_TOKEN] = token
    request.session.set_expiry(IN_PROGRESS_SECONDS)
    return redirect("intake:resume")


def resume(request: HttpRequest) -> HttpResponse:
    assessment = _current(request)
    if assessment is None:
        return redirect("intake:home")
    return _go_next(request, assessment)


@require_http_methods(["GET", "POST"])
def screen(request: HttpRequest, screen_id: str) -> HttpResponse:
    assessment = _current(request)
    if assessment is None:
        if request.method == "POST":  # an answer to a check that has ended: say so, not a
            return _ended(request)  # silent trip to the home page
        return redirect("intake:home")
    k = current_knowledge()
    state = flow.state_of(k, assessment.answers)
    allowed = set(state.screens) | ({flow.screen_id(state.next)} if state.next else set())
    if screen_id not in allowed:
        return _go_next(request, assessment)  # not reachable yet: back to where the person is
    errors: list[dict[str, str]] = []
    if request.method == "POST":
        try:
            answers = flow.parse_screen(k, screen_id, request.POST)
        except InvalidInput as exc:
            errors = [e.to_dict() for e in exc.errors]
        else:
            _save(assessment, answers)
            return _go_next(request, assessment)
    posted = request.POST if errors else None  # a refused form shows what was posted
    context = screen_context(k, screen_id, assessment.answers, state, _language(request), posted)
    context["errors"] = errors
    # Each message in the summary links to its field, which names the message (aria-describedby).
    context["error_fields"] = {e["field"] for e in errors}
    return render(request, "intake/screen.html", context, status=422 if errors else 200)


def _ended(request: HttpRequest) -> HttpResponse:
    """The person answered a screen of a check that is no longer in progress (a day after its
    start, or submitted in another tab): nothing is stored, and the page says so. An answer that
    shows suicide risk brings the crisis resources first, on this very response."""
    at_risk = posted_risk(request.POST)
    if at_risk:
        keep_crisis_resources(request)
    return render(request, "intake/ended.html", {"at_risk": at_risk}, status=409)


def _save(assessment: Assessment, answers: dict[str, Any]) -> None:
    with transaction.atomic():
        locked = Assessment.objects.select_for_update().get(pk=assessment.pk)
        locked.answers = {**locked.answers, **answers}
        locked.save(update_fields=["answers", "updated_at"])
    assessment.answers = locked.answers


def _go_next(request: HttpRequest, assessment: Assessment) -> HttpResponse:
    k = current_knowledge()
    state = flow.state_of(k, assessment.answers)
    if state.at_risk:
        keep_crisis_resources(request)
    if state.done:
        token = _finish(request, assessment)
        return redirect("intake:result", token=token)
    assert state.next is not None
    return redirect("intake:screen", screen_id=flow.screen_id(state.next))


def _finish(request: HttpRequest, assessment: Assessment) -> str:
    """Submit: the decision snapshot from the asked answers, stored with its versions."""
    k = current_knowledge()
    token = request.session[SESSION_TOKEN]
    with transaction.atomic():
        locked = Assessment.objects.select_for_update().get(pk=assessment.pk)
        locked.language = _language(request)
        locked.record(flow.decide(k, locked.answers, locked.language))
        locked.status = Assessment.Status.SUBMITTED
        locked.submitted_at = timezone.now()
        locked.save()
        locked.submitted_event(request, "web").append()
    request.session.pop(SESSION_TOKEN, None)  # the result link is the person's to keep, not ours
    return str(token)


def _submitted(token: str) -> Assessment:
    assessment = Assessment.by_token(token)
    if assessment is None or assessment.status != Assessment.Status.SUBMITTED:
        raise Http404
    return assessment


def result(request: HttpRequest, token: str) -> HttpResponse:
    from crossline.intake.contact import page_context
    from crossline.intake.results import result_context

    assessment = _submitted(token)
    context = result_context(current_knowledge(), assessment, _language(request))
    context["token"] = token
    context["result_url"] = request.build_absolute_uri(reverse("intake:result", args=[token]))
    # the contact forms
    context.update(page_context(current_knowledge(), assessment, _language(request)))
    acute = assessment.eligibility == "safety_first"
    return render(request, "intake/safety.html" if acute else "intake/result.html", context)


def result_print(request: HttpRequest, token: str) -> HttpResponse:
    from crossline.intake.results import result_context

    assessment = _submitted(token)
    context = result_context(current_knowledge(), assessment, _language(request))
    return render(request, "intake/print.html", context)


def crisis(request: HttpRequest) -> HttpResponse:
    return render(request, "intake/crisis.html")


def learn(request: HttpRequest) -> HttpResponse:
    from crossline.intake.education import education_context

    context = education_context(current_knowledge(), _language(request))
    return render(request, "intake/learn.html", context)
