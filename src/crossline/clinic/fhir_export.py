"""A case's record as one FHIR R4 collection Bundle, for a clinician to hand to an EHR.

What it holds: the person (a Patient, from the contact details they gave — the latest request),
the screen (its answers as a QuestionnaireResponse to the assessment Questionnaire of the
knowledge version it was answered under, and its complete LOINC-coded totals as Observations
derived from it) and, once a course runs, each weekly questionnaire the same way: its PHQ-9,
GAD-7 and (when item 9 was above 0) ASQ answers as a QuestionnaireResponse to that
Questionnaire — which requires no question, so a response may answer some groups only — and its
PHQ-9 and GAD-7 totals as Observations derived from it. The course's own weekly questions (new
bladder symptoms, the recovery plan) are in no Questionnaire: each answer is an Observation of
its own, coded in crossline's question and answer code systems, with the question's words.
The bundle is validated before it leaves; the view audits the export (`record.exported`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import translation

from crossline.clinic import record as applicant
from crossline.clinic.models import Case
from crossline.course.models import CheckIn
from crossline.course.questions import COURSE_QUESTIONS
from crossline.engine.knowledge import Knowledge
from crossline.fhir import bundle, observation, patient, response, validate
from crossline.fhir.codes import case_system
from crossline.intake.models import Assessment
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
    entries += _weekly(case, base, subject)
    resource = bundle.collection(entries, _iso(now))
    validate(resource)
    return resource


def _screen(case: Case, base: str, subject: str | None) -> list[tuple[str, dict[str, Any]]]:
    k = load()
    assessment = case.assessment
    authored = _iso(assessment.submitted_at or assessment.created_at)
    qr_url, qr = _response(k, assessment, base, subject, authored)
    totals = observation.scores(k, assessment.decision, authored, qr_url, subject)
    return [(qr_url, qr)] + [(bundle.full_url(), o) for o in totals]


def _weekly(case: Case, base: str, subject: str | None) -> list[tuple[str, dict[str, Any]]]:
    """Each weekly questionnaire of the course: its answers as a QuestionnaireResponse and its
    PHQ-9 and GAD-7 totals as Observations derived from it."""
    course = getattr(case, "course", None)
    if course is None:
        return []
    k = load()
    out = []
    weeklies = course.checkins.filter(kind=CheckIn.Kind.WEEKLY).order_by("submitted_at", "pk")
    for checkin in weeklies:
        authored = _iso(checkin.submitted_at)
        url, qr = _response(k, checkin, base, subject, authored)
        # With nothing the Questionnaire asks, there is no response to derive the totals from.
        qr_url = url if qr["item"] else None
        if qr_url is not None:
            out.append((qr_url, qr))
        scores = checkin.decision.get("scores", {})
        for scale in WEEKLY_TOTALS:
            value = scores.get(scale)
            if isinstance(value, int) and observation.coded(k, scale):
                found = observation.total(k, scale, value, authored, qr_url, subject)
                out.append((bundle.full_url(), found))
        out += _course_answers(checkin.answers or {}, base, authored, subject)
    return out


def _course_answers(
    answers: dict[str, Any], base: str, authored: str, subject: str | None
) -> list[tuple[str, dict[str, Any]]]:
    """A weekly questionnaire's answers to the course's own questions (new bladder symptoms,
    the recovery plan), each an Observation coded in crossline's question and answer systems,
    with the question and answer as the person was asked them, in English."""
    out = []
    with translation.override("en"):
        for item, (question, choices) in COURSE_QUESTIONS.items():
            value = answers.get(item)
            label = dict(choices).get(value) if isinstance(value, str) else None
            if label is not None:
                found = observation.answer(
                    base, (item, str(question)), (str(value), str(label)), authored, subject
                )
                out.append((bundle.full_url(), found))
    return out


def _response(
    k: Knowledge, answered: Assessment | CheckIn, base: str, subject: str | None, authored: str
) -> tuple[str, dict[str, Any]]:
    """A screen's or a weekly questionnaire's answers as a QuestionnaireResponse to the
    Questionnaire of the knowledge version they were answered under, with its entry's URL."""
    qr = response.from_answers(
        k,
        answered.answers,
        base,
        answered.language,
        authored=authored,
        version=answered.knowledge_version or None,
    )
    if subject is not None:
        qr["subject"] = {"reference": subject}
    return bundle.full_url(), qr


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")
