"""The patient's course pages take whatever a browser (or anything else) posts: one field of a
valid form changed to any value, dropped, or repeated. Every answer is a page — the form again
naming the field, the next step, or "not saved" — never a server error, and a stored check-in
is only ever one the engine accepted."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from hypothesis import event, given
from hypothesis import strategies as st

from crossline.course.models import CheckIn, Course
from tests.course.conftest import SAFE_PRE, Planned, approve, plan, schedule, sign, weekly_answers
from tests.course.test_dispensing import form as supply_form
from tests.course.test_patient_pages import form, weekly_link
from tests.forms_fuzz import PAGES, damaged, fuzz, values
from tests.staff import signed_in
from tests.visits.conftest import make_patient

pytestmark = pytest.mark.django_db

OK = PAGES
VALUES = values("refused")
FUZZ = fuzz(60)


def another_course(p: Planned) -> Planned:
    patient = make_patient()
    approve(patient.case, p.physician)
    return Planned(
        plan(patient.case, p.physician, patient.token), patient.case, patient.token, p.physician
    )


@FUZZ
@given(data=st.data())
def test_a_damaged_pre_session_check_in_is_never_a_server_error(
    planned: Planned, data: Any
) -> None:
    fresh = another_course(planned)  # each example its own course and session
    sign(fresh)
    _, token = schedule(fresh)
    sent = damaged(data.draw, form(SAFE_PRE, step="pre", **{"phq9.9": "0"}), VALUES)
    response = Client().post(f"/s/{token}/", sent)
    assert response.status_code in OK, response.status_code
    for stored in CheckIn.objects.all():
        assert stored.decision  # only what the engine decided is kept


@FUZZ
@given(data=st.data())
def test_a_damaged_weekly_questionnaire_is_never_a_server_error(
    planned: Planned, data: Any
) -> None:
    w, token = weekly_link(another_course(planned))
    extra = {"course.bladder": "no"} if w.bladder else {}
    valid = form(weekly_answers([0] * 9, [0] * 7, **extra), step="weekly")
    response = Client().post(f"/w/{token}/", damaged(data.draw, valid, VALUES))
    assert response.status_code in OK, response.status_code


@FUZZ
@given(data=st.data())
def test_a_damaged_course_plan_is_never_a_server_error(planned: Planned, data: Any) -> None:
    """The physician's plan form: the page naming the field, or the planned course — and a
    stored plan is only ever one every field of which was valid."""
    from tests.course.test_staff_pages import plan_form

    patient = make_patient()
    approve(patient.case, planned.physician)
    url = f"/clinic/cases/{patient.case.public_id}/course/new/"
    response = signed_in(planned.physician).post(url, damaged(data.draw, plan_form(), VALUES))
    assert response.status_code in OK | {403}, response.status_code
    event(f"status {response.status_code}")
    for course in Course.objects.filter(case=patient.case):
        assert course.sessions_planned >= 1 and course.plan["prescription_text"]


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01"])
def test_a_course_cannot_start_on_a_day_crossline_cannot_count_from(
    planned: Planned, day: str
) -> None:
    """A start of 9999-12-31 was a server error (its induction end is no date)."""
    from tests.course.test_staff_pages import plan_form

    patient = make_patient()
    approve(patient.case, planned.physician)
    url = f"/clinic/cases/{patient.case.public_id}/course/new/"
    response = signed_in(planned.physician).post(url, plan_form(start_date=day))
    assert response.status_code == 422
    assert "Enter a day between 2000-01-01 and 2999-12-31." in response.content.decode()
    assert not Course.objects.filter(case=patient.case).exists()


@FUZZ
@given(data=st.data())
def test_a_damaged_supply_record_is_never_a_server_error(planned: Planned, data: Any) -> None:
    patient = make_patient()
    approve(patient.case, planned.physician)
    course = plan(patient.case, planned.physician, patient.token)
    response = signed_in(planned.physician).post(
        f"/clinic/courses/{course.public_id}/supplies/",
        damaged(data.draw, supply_form(seen="0"), VALUES),
    )
    assert response.status_code in OK, response.status_code
