"""A course's weekly questionnaires in the record's FHIR download: the answers as a
QuestionnaireResponse and the PHQ-9 and GAD-7 totals as Observations derived from it, dated when
the person answered, about the same Patient as the screen."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from crossline.course import services
from crossline.engine import parse_answers
from crossline.fhir import response, validate
from crossline.knowledge import load
from tests.course.conftest import Planned, weekly_answers
from tests.staff import signed_in

pytestmark = pytest.mark.django_db


def test_weekly_totals_are_observations_about_the_patient(planned: Planned) -> None:
    answered = timezone.now() - timedelta(days=1)
    weekly = planned.course.weeklies.get(number=0)
    answers = weekly_answers([2] * 8 + [0], [1] * 7, **{"course.bladder": "no"})
    services.submit_weekly(weekly, answers, "en", answered)

    got = signed_in(planned.physician).get(f"/clinic/cases/{planned.case.public_id}/fhir.json")
    assert got.status_code == 200
    bundle = got.json()
    validate(bundle)
    patient_url = next(
        e["fullUrl"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient"
    )
    weekly_totals = [
        e["resource"]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == "Observation"
        and e["resource"]["effectiveDateTime"] == answered.isoformat(timespec="seconds")
    ]
    by_code = {o["code"]["coding"][0]["code"]: o for o in weekly_totals}
    assert by_code["44261-6"]["valueQuantity"]["value"] == 16  # PHQ-9
    assert by_code["70274-6"]["valueQuantity"]["value"] == 7  # GAD-7
    assert all(o["subject"] == {"reference": patient_url} for o in weekly_totals)


def test_each_weekly_questionnaire_is_a_response_the_totals_derive_from(planned: Planned) -> None:
    first, second = timezone.now() - timedelta(days=8), timezone.now() - timedelta(days=1)
    risky = {"asq.1": "yes", "asq.2": "no", "asq.3": "no", "asq.4": "no", "asq.5": "no"}
    given = [
        weekly_answers([2] * 8 + [0], [1] * 7, **{"course.bladder": "no"}),
        weekly_answers([1] * 8 + [1], [0] * 7, **risky),
    ]
    for number, (answers, at) in enumerate(zip(given, (first, second), strict=True)):
        services.submit_weekly(planned.course.weeklies.get(number=number), answers, "es", at)

    got = signed_in(planned.physician).get(f"/clinic/cases/{planned.case.public_id}/fhir.json")
    bundle = got.json()
    validate(bundle)
    by_url = {e["fullUrl"]: e["resource"] for e in bundle["entry"]}
    patient_url = next(u for u, r in by_url.items() if r["resourceType"] == "Patient")
    k = load()
    for answers, at in zip(given, (first, second), strict=True):
        when = at.isoformat(timespec="seconds")
        (qr_url,) = [
            u
            for u, r in by_url.items()
            if r["resourceType"] == "QuestionnaireResponse" and r.get("authored") == when
        ]
        qr = by_url[qr_url]
        assert (qr["subject"], qr["language"]) == ({"reference": patient_url}, "es")
        # Item 9 and the ASQ travel with the totals; the course's own bladder question is not
        # in the assessment Questionnaire, so not in its response (an Observation of its own).
        expected = {i: v for i, v in answers.items() if not i.startswith("course.")}
        assert parse_answers(k, response.to_answers(k, qr, "http://testserver/fhir/r4")) == (
            parse_answers(k, expected)
        )
        totals = [
            r
            for r in by_url.values()
            if r["resourceType"] == "Observation"
            and r["effectiveDateTime"] == when
            and r["code"]["coding"][0]["system"] == "http://loinc.org"
        ]
        assert {o["code"]["coding"][0]["code"] for o in totals} == {"44261-6", "70274-6"}
        assert all(o["derivedFrom"] == [{"reference": qr_url}] for o in totals)


def test_the_courses_own_weekly_answers_are_observations_in_english(planned: Planned) -> None:
    """New bladder symptoms (a reason for an alert) and the recovery-plan line are in no
    Questionnaire: each answer is an Observation coded in crossline's systems, with the
    question as asked, in English whatever language the person answered in."""
    from crossline.course import recovery

    recovery.save_plan(
        planned.course,
        content={"therapy": "Weekly counselling"},
        agreed_on=timezone.localdate(),
        user=planned.physician,
        request=None,
        now=timezone.now(),
    )
    answered = timezone.now() - timedelta(days=1)
    answers = weekly_answers(
        [1] * 8 + [0], [1] * 7, **{"course.bladder": "yes", "course.recovery": "partly"}
    )
    services.submit_weekly(planned.course.weeklies.get(number=0), answers, "es", answered)

    bundle = (
        signed_in(planned.physician).get(f"/clinic/cases/{planned.case.public_id}/fhir.json").json()
    )
    validate(bundle)
    base = "http://testserver/fhir/r4"
    patient_url = next(
        e["fullUrl"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient"
    )
    own = {
        o["code"]["coding"][0]["code"]: o
        for o in (e["resource"] for e in bundle["entry"])
        if o["resourceType"] == "Observation"
        and o["code"]["coding"][0]["system"] == f"{base}/CodeSystem/crossline-question"
    }
    assert set(own) == {"course.bladder", "course.recovery"}
    bladder = own["course.bladder"]
    assert bladder["code"]["text"].startswith("Since the last check, any new or worse bladder")
    assert bladder["valueCodeableConcept"] == {
        "coding": [{"system": f"{base}/CodeSystem/crossline-answer", "code": "yes"}],
        "text": "Yes",
    }
    assert own["course.recovery"]["valueCodeableConcept"]["text"] == "Partly"
    assert all(
        o["subject"] == {"reference": patient_url}
        and o["effectiveDateTime"] == answered.isoformat(timespec="seconds")
        and o["category"][0]["coding"][0]["code"] == "survey"
        for o in own.values()
    )
