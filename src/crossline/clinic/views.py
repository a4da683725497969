"""The clinician workspace: the urgency queue, claiming, and the applicant record.

Every view is for the clinical roles (intake, physician) with verified MFA (`role_required`),
renders in English (staff pages are not translated, whatever the browser asks for), and writes
an audit event for what it showed or changed.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from typing import Any
from uuid import UUID

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone, translation
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from crossline.accounts.decorators import role_required
from crossline.accounts.roles import Role
from crossline.api.fhir import CONTENT_TYPE as FHIR_JSON
from crossline.api.fhir import fhir_base
from crossline.audit import Action, record, record_case
from crossline.clinic import claims, fhir_export, queue
from crossline.clinic import record as applicant
from crossline.clinic.models import Case, CloseReason, ReopenReason
from crossline.knowledge import load

clinical = role_required(Role.INTAKE, Role.PHYSICIAN)
View = Callable[..., HttpResponse]


def in_english(view: View) -> View:
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        with translation.override("en"):
            return view(request, *args, **kwargs)

    return wrapper


def _case_or_404(request: HttpRequest, public_id: UUID) -> Case:
    case = applicant.case_for(request.user, public_id)
    if case is None:
        raise Http404("no such case")
    return case


def _record_url(case: Case) -> str:
    return reverse("clinic:record", args=[case.public_id])


# --- the queue -------------------------------------------------------------------------------


@require_GET
@clinical
@in_english
def queue_view(request: HttpRequest) -> HttpResponse:
    filters = queue.QueueFilter(request.GET or None)
    status, state = filters.values()
    page = queue.page_of(queue.cases(request.user, status, state), request.GET.get("page"))
    rows = queue.rows(page, timezone.now())
    record(
        Action.QUEUE_VIEWED,
        request=request,
        detail={
            "status": status or "active",
            "state": state,
            "page": page.number,
            "same_person": sum(1 for row in rows if row.same_person),  # rows marked
        },
    )
    return render(
        request,
        "clinic/queue.html",
        {
            "filters": filters,
            "page": page,
            "rows": rows,
            "queue_caption": queue.caption(page),
            "query": _query_without_page(request),
            "status": status,
            "state": state,
        },
    )


def _query_without_page(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


# --- claiming --------------------------------------------------------------------------------

_NOT_WON = {
    "claimed": "Another clinician has already claimed this case.",
    "busy": "Another clinician is claiming this case right now. Reload to see who has it.",
    "not_open": "This case is no longer open: it has been decided or closed.",
}


@require_POST
@clinical
def claim_view(request: HttpRequest, public_id: UUID) -> HttpResponse:
    case = _case_or_404(request, public_id)
    outcome = claims.claim(case.public_id, request.user, request)
    if outcome.won:
        messages.success(request, "You have claimed this case.")
    elif outcome.case is not None and claims.holds(outcome.case, request.user):
        messages.info(request, "You already hold this case.")
    else:
        messages.error(request, _NOT_WON[outcome.reason])
    return HttpResponseRedirect(_record_url(case))


@require_POST
@clinical
def claim_next_view(request: HttpRequest) -> HttpResponse:
    state = request.POST.get("state", "")
    outcome = claims.claim_next(request.user, request, state=state[:2].upper())
    if outcome.won and outcome.case is not None:
        messages.success(request, "You have claimed the most urgent open case.")
        return HttpResponseRedirect(_record_url(outcome.case))
    if outcome.reason == "busy":
        messages.error(request, "Every open case is being claimed right now. Try again.")
    else:
        messages.info(request, "There is no open case to claim.")
    return HttpResponseRedirect(reverse("clinic:queue"))


@require_POST
@clinical
def release_view(request: HttpRequest, public_id: UUID) -> HttpResponse:
    case = _case_or_404(request, public_id)
    if case.status != Case.Status.CLAIMED:
        messages.info(request, "This case is not claimed.")
        return HttpResponseRedirect(_record_url(case))
    if not claims.may_release(case, request.user):
        record_case(
            Action.PERMISSION_DENIED,
            case.public_id,
            request=request,
            detail={"view": "release_view"},
        )
        raise PermissionDenied
    if claims.release(case, request.user, request):
        messages.success(request, "The case is back in the queue.")
    else:
        messages.error(request, "The case changed meanwhile; nothing was released.")
    return HttpResponseRedirect(_record_url(case))


@require_POST
@clinical
def close_view(request: HttpRequest, public_id: UUID) -> HttpResponse:
    case = _case_or_404(request, public_id)
    why = claims.why_not_close(case, request.user)
    reason = request.POST.get("reason", "")
    if why is None and reason not in CloseReason.values:
        why = "Choose why the case is closed."
    if why is not None:
        messages.error(request, why)
        return HttpResponseRedirect(_record_url(case))
    if claims.close(case, request.user, reason, request, timezone.now()):
        messages.success(request, "The case is closed.")
    else:
        messages.error(request, "The case changed meanwhile; it was not closed.")
    return HttpResponseRedirect(_record_url(case))


@require_POST
@clinical
def reopen_view(request: HttpRequest, public_id: UUID) -> HttpResponse:
    """A closed case is reopened by any clinician, with a reason: the person got in touch
    again, or it was closed by mistake."""
    case = _case_or_404(request, public_id)
    reason = request.POST.get("reason", "")
    why = None
    if case.status != Case.Status.CLOSED:
        why = "The case is not closed."
    elif reason not in ReopenReason.values:
        why = "Choose why the case is reopened."
    if why is not None:
        messages.error(request, why)
    elif (status := claims.reopen(case, request.user, reason, request, timezone.now())) is None:
        messages.error(request, "The case changed meanwhile; it was not reopened.")
    elif status == Case.Status.CLAIMED:
        messages.success(request, "The case is open again, and you hold it.")
    else:
        messages.success(request, "The case is open again.")
    return HttpResponseRedirect(_record_url(case))


# --- the applicant record --------------------------------------------------------------------


@require_GET
@clinical
@in_english
def record_view(request: HttpRequest, public_id: UUID) -> HttpResponse:
    case = _case_or_404(request, public_id)
    assessment = case.assessment
    k = load()
    lang = assessment.language
    found = applicant.contacts(assessment)
    record_case(
        Action.RECORD_VIEWED,
        case.public_id,
        request=request,
    )
    record_case(
        Action.CONTACT_VIEWED,
        case.public_id,
        request=request,
        detail={"requests": len(found)},
    )
    user = request.user
    screens = applicant.screens_by_same_person(assessment, found)
    same_person = [s for s in screens if s.active_case]
    return render(
        request,
        "clinic/record.html",
        {
            "case": case,
            "assessment": assessment,
            "language": lang,
            "language_name": applicant.LANGUAGE_NAMES.get(lang, lang),
            "answers": applicant.answers_shown(
                k, assessment.answers, assessment.decision.get("items_asked", []), lang
            ),
            **applicant.decision_context(k, assessment),
            "contacts": [(applicant.kind_label(c.kind), c) for c in found],
            "screens": screens,
            "same_person": same_person,
            "same_person_text": queue.same_person_text(len(same_person)),
            "holds": claims.holds(case, user),
            "may_release": claims.may_release(case, user),
            "why_not_close": claims.why_not_close(case, user),
            "close_reasons": CloseReason.choices,
            "reopen_reasons": ReopenReason.choices,
            "history": applicant.history(case),
            "claimed_by_other": case.status == Case.Status.CLAIMED and not claims.holds(case, user),
            "evaluation_url": f"/clinic/cases/{case.public_id}/evaluation/",
        },
    )


@require_GET
@clinical
def fhir_export_view(request: HttpRequest, public_id: UUID) -> HttpResponse:
    """The record as a FHIR R4 Bundle download (`crossline.clinic.fhir_export`), audited as an
    export of the patient's data before a byte of it leaves."""
    case = _case_or_404(request, public_id)
    resource = fhir_export.record_bundle(case, fhir_base(request), timezone.now())
    record_case(
        Action.RECORD_EXPORTED,
        case.public_id,
        request=request,
        detail={"format": "fhir-r4", "resources": len(resource["entry"])},
    )
    body = json.dumps(resource, ensure_ascii=False, indent=1).encode()
    response = HttpResponse(body, content_type=FHIR_JSON)
    name = f"crossline-case-{case.public_id}.fhir.json"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


# --- finding a person's cases ----------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@clinical
@in_english
def find_view(request: HttpRequest) -> HttpResponse:
    """A person who calls or writes in is found by their e-mail or phone number — exactly, as
    they gave it at their request (the keyed blind indexes; names are stored only encrypted and
    cannot be searched). A POST, so what was searched for is never in a URL, a log or the
    browser's history; the audit event records that a search was made and how many cases it
    found, never what was searched for."""
    form = queue.FindForm(request.POST if request.method == "POST" else None)
    found = None
    if form.is_valid():
        found = queue.rows_for(queue.find(form.cleaned_data["contact"]), timezone.now())
        record(
            Action.CASE_SEARCHED,
            request=request,
            detail={"by": form.kind(), "found": len(found)},
        )
    caption = queue.found_caption(found) if found is not None else None
    return render(
        request, "clinic/find.html", {"form": form, "rows": found, "found_caption": caption}
    )
