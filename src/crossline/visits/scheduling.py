"""The visit's life: proposed → confirmed | reschedule_requested → (a new proposal) … →
attended | no_show | cancelled. A confirmed time is in both calendars: when it no longer stands
(the clinic cancels it or proposes another, the patient asks for another) both get the calendar
cancellation, and a new time is a new visit.

Each function changes the visit and appends its audit event in the caller's transaction, and
queues the e-mails it causes to be sent after the commit (a rolled-back change mails no one).
Audit details carry statuses and counters only: a visit's date is PHI.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.http import HttpRequest

from crossline.audit import Action, record
from crossline.clinic.models import Case
from crossline.program.models import ProgramSettings
from crossline.visits import tasks
from crossline.visits.models import Visit

Status = Visit.Status
OUTCOME_FROM = (Status.PROPOSED, Status.CONFIRMED)  # a patient may come without confirming


class VisitError(Exception):
    """A change the visit's state does not allow; the message is shown to the user."""


def open_visit(case: Case) -> Visit | None:
    """The case's visit still ahead (locked: the caller is in a transaction), if any."""
    return Visit.objects.select_for_update().filter(case=case, status__in=Visit.OPEN).first()


def propose(
    case: Case,
    *,
    starts_at: datetime,
    duration_minutes: int,
    time_zone: str,
    request: HttpRequest,
    now: datetime,
) -> Visit:
    """A new visit, or a new time for the case's open one (the patient answers again). Never
    on a closed case (checked under its lock): the person may have withdrawn."""
    if Case.objects.select_for_update().get(pk=case.pk).status == Case.Status.CLOSED:
        raise VisitError("The case is closed: reopen it on the applicant record first.")
    video_url = ProgramSettings.current().video_visit_url
    if not video_url:
        raise VisitError(
            "The program has no video-visit link yet: an operator sets it in the program settings."
        )
    fields: dict[str, Any] = {
        "starts_at": starts_at,
        "duration_minutes": duration_minutes,
        "time_zone": time_zone,
        "video_url": video_url,
        "proposed_by": request.user,
        "proposed_at": now,
        "status": Status.PROPOSED,
        "answered_at": None,
        "confirmed_at": None,
    }
    visit = open_visit(case)
    if visit is not None and visit.was_confirmed:
        _release_confirmed(visit, request=request, now=now)
        visit = None
    if visit is None:
        visit = Visit.objects.create(case=case, language=case.assessment.language, **fields)
        _audit(Action.VISIT_PROPOSED, visit, request, status=Status.PROPOSED)
    else:
        before = visit.status
        for name, value in fields.items():
            setattr(visit, name, value)
        visit.sequence += 1
        visit.save()
        _audit(Action.VISIT_CHANGED, visit, request, status=Status.PROPOSED, previous=before)
    _mail_after_commit(visit, "proposal", "patient")
    return visit


def _release_confirmed(visit: Visit, *, request: HttpRequest, now: datetime) -> None:
    """A new time for a visit the patient confirmed: that visit is cancelled — telling both
    sides and taking it out of their calendars, if they still hold it — and the new time is a
    visit of its own. The confirmed row's time never changes, so a cancellation still queued
    for it tells the time that was confirmed."""
    if visit.status == Status.CONFIRMED and visit.starts_at <= now:
        raise VisitError(
            "The confirmed visit's time has come: once it ends, record whether it took place"
            " (attended or no-show), then propose a new time."
        )
    cancel(visit, request=request, now=now, because="cancellation.new_time")


def answer(
    visit: Visit, *, confirm: bool, message: str, token: str, language: str, request: HttpRequest,
    now: datetime,
) -> None:  # fmt: skip
    """The patient's answer through their private link (the visit row is locked by the caller)."""
    if visit.starts_at <= now or not visit.is_open:
        raise VisitError("closed")
    if confirm and visit.status != Status.PROPOSED:
        raise VisitError("not proposed")
    if not confirm and visit.status not in (Status.PROPOSED, Status.CONFIRMED):
        raise VisitError("already asked")
    before = visit.status
    visit.status = Status.CONFIRMED if confirm else Status.RESCHEDULE_REQUESTED
    visit.answered_at = now
    if confirm:  # kept when they later ask for another time: this time went into the calendars
        visit.confirmed_at = now
    visit.language = language
    visit.result_token = token  # encrypted: the e-mails carry the link back to the result
    if not confirm:
        visit.patient_message = message or None
    visit.save()
    record(
        Action.VISIT_ANSWERED_BY_PATIENT,
        request=request,
        actor="anonymous",
        patient=visit.case.public_id,
        object_type="visit",
        object_id=visit.public_id,
        detail={"answer": "confirmed" if confirm else "reschedule"},
    )
    if confirm:
        _mail_after_commit(visit, "invitation", "patient")
        _mail_after_commit(visit, "invitation", "clinician")
    elif before == Status.CONFIRMED:  # the clinician's cancellation says they asked
        _withdraw_from_calendars(visit, "cancellation.patient_asked")
    else:
        _mail_after_commit(visit, "reschedule", "clinician")


def record_outcome(visit: Visit, *, attended: bool, request: HttpRequest, now: datetime) -> None:
    """Attended or no-show, once the visit's time is over."""
    if visit.status not in OUTCOME_FROM:
        raise VisitError("Only a proposed or confirmed visit can be marked attended or no-show.")
    if now < visit.ends_at:
        raise VisitError("The visit has not ended yet: record the outcome after its end time.")
    before = visit.status
    visit.status = Status.ATTENDED if attended else Status.NO_SHOW
    visit.outcome_by_id = request.user.pk
    visit.outcome_at = now
    visit.save()
    action = Action.VISIT_CHANGED if attended else Action.VISIT_NO_SHOW
    _audit(action, visit, request, status=visit.status, previous=before)


def cancel(
    visit: Visit, *, request: HttpRequest, now: datetime, because: str = "cancellation"
) -> None:
    """The visit will not take place; `because` is the e-mails' reason (mail.CANCELLATIONS)."""
    if not visit.is_open:
        raise VisitError("This visit is already over or cancelled.")
    before = visit.status
    visit.status = Status.CANCELLED
    visit.outcome_by_id = request.user.pk
    visit.outcome_at = now
    visit.save()
    _audit(Action.VISIT_CHANGED, visit, request, status=Status.CANCELLED, previous=before)
    if before == Status.CONFIRMED:
        _withdraw_from_calendars(visit, because)


def _withdraw_from_calendars(visit: Visit, because: str) -> None:
    """Both sides hold the confirmed event in their calendars: each gets its cancellation."""
    _mail_after_commit(visit, because, "patient")
    _mail_after_commit(visit, because, "clinician")


def _audit(
    action: Action, visit: Visit, request: HttpRequest, *, status: str, previous: str = ""
) -> None:
    detail: dict[str, Any] = {"status": status, "sequence": visit.sequence}
    if previous:
        detail["previous"] = previous
    record(
        action,
        request=request,
        patient=visit.case.public_id,
        object_type="visit",
        object_id=visit.public_id,
        detail=detail,
    )


def _mail_after_commit(visit: Visit, kind: str, recipient: str) -> None:
    args = (visit.pk, kind, recipient, visit.sequence)
    transaction.on_commit(lambda: tasks.send_visit_mail.enqueue(*args))
