"""Saving an evaluation and recording its decision: the change and its audit events together.

The caller (the view) has validated the form and, for an approval, checked the rules; this
module writes, inside one transaction: the encrypted content, the plain status columns, the
case's status, the letter for a decline or a referral, and their audit events.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from crossline.audit import Action, record
from crossline.clinic.models import Case
from crossline.evaluation.models import Addendum, Decision, Evaluation, Letter


class AlreadyDecided(Exception):
    """The evaluation was decided (perhaps by someone else a moment ago): it is final."""


class NotDecided(Exception):
    """An addendum belongs to a decided evaluation; a draft is simply edited."""


class Stale(Exception):
    """The draft was saved by someone else (or another tab) since this form was loaded."""

    def __init__(self, current: Evaluation | None) -> None:
        super().__init__("the evaluation changed since the form was loaded")
        self.current = current


class CaseClosed(Exception):
    """The case is closed (perhaps a moment ago): its evaluation is read-only until a clinician
    reopens the case, with a reason (clinic.claims.reopen)."""


def save(
    request: HttpRequest, case: Case, content: dict[str, Any], decide: bool, seen: int
) -> Evaluation:
    """Write the evaluation as loaded at version `seen` (0: none saved yet); Stale when it has
    moved on since, so a save never silently overwrites entries its author did not see."""
    with transaction.atomic():
        locked = Case.objects.select_for_update().get(pk=case.pk)  # serialises two clinicians
        evaluation = Evaluation.objects.filter(case=locked).first()
        if evaluation is not None and evaluation.status == Evaluation.Status.DECIDED:
            raise AlreadyDecided
        if locked.status == Case.Status.CLOSED:
            # Checked under the lock: a case closed after the page was shown is not written to,
            # and deciding would silently turn it back into "decided" and send a letter.
            raise CaseClosed
        if evaluation is None:
            evaluation = Evaluation(case=locked)
        if not _next_version(evaluation, seen):
            raise Stale(evaluation if evaluation.pk else None)
        evaluation.version = seen + 1
        evaluation.content = content
        evaluation.updated_by = request.user  # type: ignore[assignment]
        if decide:
            _decide(evaluation, locked, content, request)
        evaluation.save()
        _audit(request, Action.EVALUATION_SAVED, locked, evaluation, {"status": evaluation.status})
        if decide:
            _audit(
                request,
                Action.EVALUATION_DECIDED,
                locked,
                evaluation,
                {"decision": evaluation.decision},
            )
            if evaluation.decision != Decision.APPROVE:
                letter = _letter(evaluation, locked, content)
                _audit(request, Action.LETTER_ISSUED, locked, evaluation, {"kind": letter.kind})
    return evaluation


def _next_version(evaluation: Evaluation, seen: int) -> bool:
    """The conditional update whose row count decides, as for a claim (clinic.claims): the
    version moves from `seen` to the next only if it is still `seen`. The case's row lock
    already serialises two saves; this holds even without it. A new evaluation starts from 0
    (and the one-to-one on the case refuses a second)."""
    if evaluation.pk is None:
        return seen == 0
    moved = Evaluation.objects.filter(pk=evaluation.pk, version=seen).update(version=seen + 1)
    return moved == 1


def add_addendum(request: HttpRequest, case: Case, text: str) -> Addendum:
    """Append an addendum to the case's decided evaluation, with its audit event."""
    with transaction.atomic():
        locked = Case.objects.select_for_update().get(pk=case.pk)
        evaluation = Evaluation.objects.filter(case=locked).first()
        if evaluation is None or evaluation.status != Evaluation.Status.DECIDED:
            raise NotDecided
        addendum = Addendum.objects.create(
            evaluation=evaluation,
            text={"text": text},
            author=request.user,  # type: ignore[misc]
        )
        _audit(request, Action.EVALUATION_AMENDED, locked, evaluation, {"addendum": addendum.pk})
    return addendum


def _decide(
    evaluation: Evaluation, case: Case, content: dict[str, Any], request: HttpRequest
) -> None:
    now = timezone.now()
    evaluation.status = Evaluation.Status.DECIDED
    evaluation.decision = content["decision"]["kind"]
    evaluation.decided_at = now
    evaluation.decided_by = request.user  # type: ignore[assignment]
    case.status = Case.Status.DECIDED
    case.save(update_fields=["status"])


def _letter(evaluation: Evaluation, case: Case, content: dict[str, Any]) -> Letter:
    kind = evaluation.decision
    words = content["decision"]["reason" if kind == Decision.DECLINE else "where"]
    return Letter.objects.create(
        evaluation=evaluation,
        assessment=case.assessment,
        kind=kind,
        language=case.assessment.language,
        text={"reason" if kind == Decision.DECLINE else "where": words},
        issued_at=evaluation.decided_at or timezone.now(),
    )


def _audit(
    request: HttpRequest, action: Action, case: Case, evaluation: Evaluation, detail: dict[str, Any]
) -> None:
    record(
        action,
        request=request,
        patient=case.public_id,
        object_type="evaluation",
        object_id=evaluation.pk,
        detail=detail,
    )
