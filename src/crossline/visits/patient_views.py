"""The patient's visit page, reached through their private result link. No account, no
JavaScript: two small forms (confirm / ask for another time), each posting back here."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from crossline.clinic.models import Case
from crossline.intake.models import Assessment
from crossline.visits import mail, scheduling
from crossline.visits.forms import AnswerForm, shown_value
from crossline.visits.models import Visit
from crossline.web import back_not_saved, not_saved, patient_language


def _assessment(token: str) -> Assessment:
    assessment = Assessment.by_token(token)
    if assessment is None or assessment.status != Assessment.Status.SUBMITTED:
        raise Http404
    return assessment


def latest_visit(assessment: Assessment) -> Visit | None:
    case = Case.objects.filter(assessment=assessment).first()
    return case.visits.select_related("case").first() if case is not None else None


def _language(request: HttpRequest, assessment: Assessment) -> str:
    return patient_language(request, assessment.language)


@require_http_methods(["GET", "POST"])
def visit(request: HttpRequest, token: str) -> HttpResponse:
    assessment = _assessment(token)
    lang = _language(request, assessment)
    current = latest_visit(assessment)
    form = AnswerForm(request.POST or None)
    if request.method == "POST":
        if current is None:
            raise Http404
        if form.is_valid():
            if _answer(request, current, form, token, lang):
                return redirect("patient_visit:visit", token=token)
            return back_not_saved("patient_visit:visit", token)
    return render(
        request,
        "visits/patient_visit.html",
        _context(current, form, token) | {"not_saved": not_saved(request)},
        status=422 if form.errors else 200,
    )


def _answer(request: HttpRequest, current: Visit, form: AnswerForm, token: str, lang: str) -> bool:
    """Record the person's answer; False when the visit no longer takes one (answered from
    another tab, changed or cancelled by the clinic, or over) or the page showed an earlier
    proposal: nothing stored."""
    confirm = form.cleaned_data["answer"] == "confirm"
    try:
        with transaction.atomic():
            locked = Visit.objects.select_for_update().select_related("case").get(pk=current.pk)
            if form.cleaned_data["shown"] != shown_value(locked):
                return False  # the page showed another proposal: this answer is not to this one
            if confirm and locked.status == Visit.Status.CONFIRMED:
                return True  # the same answer twice (a double tap, a second tab): it stands
            scheduling.answer(
                locked,
                confirm=confirm,
                message=form.cleaned_data["message"],
                token=token,
                language=lang,
                request=request,
                now=timezone.now(),
            )
    except scheduling.VisitError:
        return False
    return True


def _context(current: Visit | None, form: AnswerForm, token: str) -> dict[str, Any]:
    now = timezone.now()
    ahead = current is not None and current.starts_at > now
    status = current.status if current else None
    return {
        "token": token,
        "visit": current,
        "when": mail.when(current) if current else "",
        "form": form,
        "shown": shown_value(current) if current else "",
        "can_confirm": ahead and status == Visit.Status.PROPOSED,
        "can_reschedule": ahead and status in (Visit.Status.PROPOSED, Visit.Status.CONFIRMED),
        "ahead": ahead,
    }
