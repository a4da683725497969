"""Opening a case when a person leaves contact details; the queue's urgency and deadline."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.dispatch import Signal

from crossline.audit import Action, record_case
from crossline.clinic.models import Case, ReopenReason, Urgency
from crossline.intake.models import Assessment, ContactRequest
from crossline.program.models import ProgramSettings

# Sent inside the transaction that opened or updated the case: `case`, `request`, `created`.
case_opened = Signal()


def urgency_of(safety_level: str) -> Urgency:
    return {"acute": Urgency.ACUTE, "non_acute": Urgency.NON_ACUTE}.get(
        safety_level, Urgency.ROUTINE
    )


def deadline(urgency: Urgency, opened_at: datetime, program: ProgramSettings) -> datetime | None:
    if urgency == Urgency.ACUTE:
        return opened_at + timedelta(minutes=program.acute_deadline_minutes)
    if urgency == Urgency.NON_ACUTE:
        return opened_at + timedelta(minutes=program.non_acute_deadline_minutes)
    return None


def open_case(request: ContactRequest, now: datetime) -> Case:
    """The case for this request's screen, opened or updated. The caller owns the transaction."""
    assessment: Assessment = request.assessment
    is_evaluation = request.kind == ContactRequest.Kind.EVALUATION
    case = Case.objects.select_for_update().filter(assessment=assessment).first()
    created = case is None
    if case is None:
        urgency = urgency_of(assessment.safety_level)
        case = Case.objects.create(
            assessment=assessment,
            urgency=urgency,
            eligibility=assessment.eligibility,
            safety_level=assessment.safety_level,
            state=assessment.state,
            opened_at=now,
            due_at=deadline(urgency, now, ProgramSettings.current()),
            evaluation_requested=is_evaluation,
            contact_requested=not is_evaluation,
        )
    else:
        case.evaluation_requested |= is_evaluation
        case.contact_requested |= not is_evaluation
        case.save(update_fields=["evaluation_requested", "contact_requested"])
        if case.status == Case.Status.CLOSED:
            _back_to_queue(case, now)
    case_opened.send(Case, case=case, request=request, created=created)
    return case


def _back_to_queue(case: Case, now: datetime) -> None:
    """A closed case whose person asks again (the other request of the same screen, say "ask a
    clinician to contact me" after an evaluation request was withdrawn) goes back to the queue,
    open, with a deadline counted from this request: filed on a closed case, no one would see
    it. Audited as a reopening because the person got in touch again."""
    case.status, case.close_reason, case.closed_at = Case.Status.OPEN, "", None
    case.claimed_by, case.claimed_at = None, None
    case.due_at = deadline(Urgency(case.urgency), now, ProgramSettings.current())
    case.save(
        update_fields=["status", "close_reason", "closed_at", "claimed_by", "claimed_at", "due_at"]
    )
    record_case(
        Action.CASE_REOPENED,
        case.public_id,
        actor="anonymous",
        detail={"reason": ReopenReason.GOT_IN_TOUCH.value, "status": Case.Status.OPEN.value},
    )
