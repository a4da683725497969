"""A course's weekly PHQ-9 and GAD-7 totals in the record's FHIR download, one Observation
each, dated when the person answered, about the same Patient as the screen."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from crossline.course import services
from crossline.fhir import validate
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
