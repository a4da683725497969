"""A case's record as one FHIR R4 collection Bundle, for a clinician to hand to an EHR.

What it holds: the person (a Patient, from the contact details they gave — the latest request),
the screen (its answers as a QuestionnaireResponse to the assessment Questionnaire of the
knowledge version it was answered under, and its complete LOINC-coded totals as Observations
derived from it) and, once a course runs, each weekly PHQ-9 and GAD-7 total as an Observation.
The bundle is validated before it leaves; the view audits the export (`record.exported`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from crossline.clinic import record as applicant
from crossline.clinic.models import Case
from crossline.course.models import CheckIn
from crossline.fhir import bundle, observation, patient, response, validate
from crossline.fhir.codes import case_system
from crossline.knowledge import load

WEEKLY_TOTALS = ("phq9", "gad7")  # what a weekly check-in scores (crossline.engine.weekly)


def record_bundle(case: Case, base: str, now: datetime) -> dict[str, Any]:
    """The Bundle, assembled at `now`, with references under the FHIR base URL `base`."""
    assessment = case.assessment
    entries: list[tuple[str, dict[str, Any]]] = []
    subject = None
    found = applicant.contacts(assessment)
    if found:
        subject = bundle.full_url()
        person = patient.from_contact(
            found[-1].details, case_system(base), str(case.public_id), assessment.language
        )
        entries.append((subject, person))
    entries += _screen(case, base, subject)
    entries += _weekly_totals(case, subject)
    resource = bundle.collection(entries, _iso(now))
    validate(resource)
    return resource


def _screen(case: Case, base: str, subject: str | None) -> list[tuple[str, dict[str, Any]]]:
    k = load()
    assessment = case.assessment
    authored = _iso(assessment.submitted_at or assessment.created_at)
    qr = response.from_answers(
        k,
        assessment.answers,
        base,
        assessment.language,
        authored=authored,
        version=assessment.knowledge_version or None,
    )
    qr_url = bundle.full_url()
    if subject is not None:
        qr["subject"] = {"reference": subject}
    totals = observation.scores(k, assessment.decision, authored, qr_url, subject)
    return [(qr_url, qr)] + [(bundle.full_url(), o) for o in totals]


def _weekly_totals(case: Case, subject: str | None) -> list[tuple[str, dict[str, Any]]]:
    course = getattr(case, "course", None)
    if course is None:
        return []
    k = load()
    out = []
    for checkin in course.checkins.filter(kind=CheckIn.Kind.WEEKLY):
        scores = checkin.decision.get("scores", {})
        for scale in WEEKLY_TOTALS:
            value = scores.get(scale)
            if isinstance(value, int) and observation.coded(k, scale):
                found = observation.total(
                    k, scale, value, _iso(checkin.submitted_at), subject=subject
                )
                out.append((bundle.full_url(), found))
    return out


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")
