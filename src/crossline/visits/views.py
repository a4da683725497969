"""Staff pages of the visit: propose a time, see the answer, record the outcome, cancel.

Clinicians only (intake clinician, prescribing physician), MFA verified. Every page that shows
the patient's note is a read of PHI and is audited. Staff pages are English only.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from crossline.accounts.decorators import role_required
from crossline.accounts.roles import Role
from crossline.audit import Action, record_case
from crossline.clinic.models import Case
from crossline.visits import mail, scheduling
from crossline.visits.forms import DEFAULT_MINUTES, OutcomeForm, ProposalForm
from crossline.visits.models import Visit
from crossline.visits.zones import zone_for_state

CLINICIANS = (Role.INTAKE, Role.PHYSICIAN)


def case_for(public_id: UUID) -> Case:
    """The case, or 404. One program per deployment: every clinician sees every case."""
    return get_object_or_404(Case.objects.select_related("assessment"), public_id=public_id)


def visit_for(case: Case, visit_id: UUID) -> Visit:
    return get_object_or_404(Visit.objects.select_for_update(), case=case, public_id=visit_id)


@role_required(*CLINICIANS)
@require_http_methods(["GET", "POST"])
def visit_page(request: HttpRequest, public_id: UUID) -> HttpResponse:
    case = case_for(public_id)
    now = timezone.now()
    current = case.visits.filter(status__in=Visit.OPEN).first()
    form = ProposalForm(request.POST or None, now=now, initial=_initial(case, current))
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                scheduling.propose(
                    case,
                    starts_at=form.cleaned_data["starts_at"],
                    duration_minutes=form.cleaned_data["duration_minutes"],
                    time_zone=form.cleaned_data["time_zone"],
                    request=request,
                    now=now,
                )
        except scheduling.VisitError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _proposed(current))
            return redirect("visits:visit", public_id=case.public_id)
    with transaction.atomic():  # the page shows the patient's note: a read of PHI
        record_case(
            Action.RECORD_VIEWED,
            case.public_id,
            request=request,
            detail={"view": "visit"},
        )
    context = _context(case, current, form, now)
    return render(request, "visits/staff_visit.html", context, status=422 if form.errors else 200)


def _proposed(current: Visit | None) -> str:
    done = "Time proposed. The patient answers through their link."
    if current is not None and current.status == Visit.Status.CONFIRMED:
        return f"{done} The confirmed time is cancelled: both calendars get the cancellation."
    return done


def _initial(case: Case, current: Visit | None) -> dict[str, Any]:
    if current is not None:
        return {"time_zone": current.time_zone, "duration_minutes": current.duration_minutes}
    return {"time_zone": zone_for_state(case.state), "duration_minutes": DEFAULT_MINUTES}


def _context(case: Case, current: Visit | None, form: ProposalForm, now: Any) -> dict[str, Any]:
    from crossline.program.models import ProgramSettings

    return {
        "case": case,
        "form": form,
        "current": current,
        "current_when": mail.when(current) if current else "",
        "can_record_outcome": bool(
            current and current.status in scheduling.OUTCOME_FROM and now >= current.ends_at
        ),
        "has_email": mail.patient_address(current) is not None if current else None,
        "video_url": ProgramSettings.current().video_visit_url,
    }


@role_required(*CLINICIANS)
@require_POST
def outcome(request: HttpRequest, public_id: UUID, visit_id: UUID) -> HttpResponse:
    case = case_for(public_id)
    form = OutcomeForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose attended or no-show.")
        return redirect("visits:visit", public_id=case.public_id)
    return _change(request, case, visit_id, outcome=form.cleaned_data["outcome"])


@role_required(*CLINICIANS)
@require_POST
def cancel(request: HttpRequest, public_id: UUID, visit_id: UUID) -> HttpResponse:
    return _change(request, case_for(public_id), visit_id, outcome="cancelled")


def _change(request: HttpRequest, case: Case, visit_id: UUID, *, outcome: str) -> HttpResponse:
    now = timezone.now()
    try:
        with transaction.atomic():
            visit = visit_for(case, visit_id)
            if outcome == "cancelled":
                scheduling.cancel(visit, request=request, now=now)
            else:
                scheduling.record_outcome(
                    visit, attended=outcome == "attended", request=request, now=now
                )
    except scheduling.VisitError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"Visit marked {Visit.Status(outcome).label}.")
    return redirect("visits:visit", public_id=case.public_id)
