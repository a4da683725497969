"""The result page's contact forms: request an evaluation, ask a clinician to contact me.

POST only, CSRF-protected. Bad input re-renders the result page with errors naming each field
(422) and stores nothing; success stores the request and redirects back to the result page
(POST/redirect/GET), which then shows a confirmation in place of the form.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.views.decorators.http import require_POST

from crossline.intake import contact
from crossline.intake.models import Assessment, ContactRequest
from crossline.intake.results import result_context
from crossline.program.policy import current_knowledge
from crossline.web import held_back


@require_POST
def request_evaluation(request: HttpRequest, token: str) -> HttpResponse:
    assessment = _submitted(token)
    if not contact.Offers.of(assessment.decision).evaluation:
        raise Http404  # only candidates may request an evaluation
    # Each contact request opens a case and may page the on-call roster: limited per client.
    wait = held_back(request, "contact")
    form = contact.evaluation_form(current_knowledge(), assessment, _language(), request.POST)
    if not form.is_valid() or wait is not None:
        return _result_page(request, assessment, token, wait, evaluation=form)
    return _store(token, assessment, ContactRequest.Kind.EVALUATION, form)


@require_POST
def contact_me(request: HttpRequest, token: str) -> HttpResponse:
    assessment = _submitted(token)
    if not contact.Offers.of(assessment.decision).contact_me:
        raise Http404  # offered on positive suicide-risk screens only
    wait = held_back(request, "contact")
    form = contact.contact_me_form(current_knowledge(), _language(), request.POST)
    if not form.is_valid() or wait is not None:
        return _result_page(request, assessment, token, wait, contact_me=form)
    return _store(token, assessment, ContactRequest.Kind.CONTACT_ME, form)


def _store(
    token: str, assessment: Assessment, kind: str, form: contact.ContactForm
) -> HttpResponse:
    try:
        with transaction.atomic():
            contact.record_request(assessment, kind, form, timezone.now())
    except Assessment.DoesNotExist:
        raise Http404 from None
    anchor = "evaluation-sent" if kind == ContactRequest.Kind.EVALUATION else "contact-me-sent"
    return redirect(reverse("intake:result", args=[token]) + f"#{anchor}")


def _back_to(token: str, **context: Any) -> dict[str, Any]:
    """A page shown in answer to a form's POST: its language switch leads back to the result
    page (this address takes only a POST: reopened with a GET it would be a 405)."""
    return context | {"lang_next": reverse("intake:result", args=[token])}


def _submitted(token: str) -> Assessment:
    assessment = Assessment.by_token(token)
    if assessment is None or assessment.status != Assessment.Status.SUBMITTED:
        raise Http404
    return assessment


def _language() -> str:
    lang = (get_language() or "en")[:2]
    return lang if lang in ("en", "es") else "en"


def _result_page(
    request: HttpRequest,
    assessment: Assessment,
    token: str,
    wait: int | None,
    evaluation: contact.EvaluationRequestForm | None = None,
    contact_me: contact.ContactForm | None = None,
) -> HttpResponse:
    """The result page as `views.result` renders it, with the submitted form as typed and its
    errors (422); over the per-minute limit (`wait`: seconds), saying so above the form (429,
    Retry-After) — nothing stored, nothing typed lost, the crisis resources where they were."""
    k, lang = current_knowledge(), _language()
    for form in (evaluation, contact_me):
        if form is not None:
            form.held_back = wait is not None
    context = _back_to(token) | result_context(k, assessment, lang)
    context["token"] = token
    context["result_url"] = request.build_absolute_uri(reverse("intake:result", args=[token]))
    context.update(contact.page_context(k, assessment, lang, evaluation, contact_me))
    acute = assessment.eligibility == "safety_first"
    template = "intake/safety.html" if acute else "intake/result.html"
    if wait is None:
        return render(request, template, context, status=422)
    response = render(request, template, context, status=429)
    response["Retry-After"] = str(wait)
    return response
