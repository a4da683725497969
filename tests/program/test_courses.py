"""The program's courses page (/clinic/program/courses/): its outcome rates agree with each
course's own page, in a number of queries that does not grow with the questionnaires."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from crossline.course import services
from crossline.course.models import Course
from crossline.course.summary import summarise
from crossline.program.policy import current_knowledge
from tests.course.conftest import approve, plan, weekly_answers
from tests.staff import signed_in, staff_user
from tests.visits.conftest import make_patient

pytestmark = pytest.mark.django_db

NO_CHANGE = [2] * 8 + [0]  # PHQ-9 16, item 9 at 0


def new_course() -> Course:
    physician = User.objects.filter(username="dr.alvarez").first() or staff_user(
        "dr.alvarez", "physician", email="dr.alvarez@program.example"
    )
    patient = make_patient()
    approve(patient.case, physician)
    return plan(patient.case, physician, patient.token)


def answer(course: Course, number: int, at: datetime, phq9: list[int] = NO_CHANGE) -> None:
    weekly = course.weeklies.get(number=number)
    extra = {"course.bladder": "no"} if weekly.bladder else {}
    services.submit_weekly(weekly, weekly_answers(phq9, [1] * 7, **extra), "en", at)


def rates(client: Client) -> dict[str, Any]:
    response = client.get("/clinic/program/courses/")
    assert response.status_code == 200
    return dict(response.context["summary"]["rates"]["phq9"])


@pytest.fixture
def operator() -> Client:
    return signed_in(staff_user("olive.operator", "operator"))


def test_a_late_answer_is_dated_by_its_due_day_as_on_the_course_page(operator: Client) -> None:
    """Non-response is judged at a questionnaire due on or after the end of induction (ADR
    0006): one due before it but answered after it does not count, on either page."""
    course = new_course()
    start = datetime.combine(course.start_date, time(12), tzinfo=UTC)
    answer(course, 0, start)
    before_end = course.weeklies.filter(due_on__lt=course.induction_end).latest("due_on")
    answer(course, before_end.number, datetime.combine(course.induction_end, time(12), tzinfo=UTC))
    assert services.outcome(course)["phq9"]["non_response"] is None
    found = rates(operator)
    assert (found["non_response"].count, found["non_response"].of) == (0, 0)
    assert (found["worsening"].count, found["worsening"].of) == (0, 1)


def test_the_page_costs_the_same_queries_however_many_questionnaires_came_in(
    operator: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The program settings are re-read every few seconds: not inside the counts below.
    monkeypatch.setattr("crossline.program.policy.TTL_SECONDS", 3600.0)
    courses = [new_course() for _ in range(3)]
    for i, course in enumerate(courses):
        start = datetime.combine(course.start_date, time(12), tzinfo=UTC)
        answer(course, 0, start, [2] * 8 + [0])
        answer(course, 1, start + timedelta(days=7), [1] * (i + 2) + [0] * (7 - i))

    def load() -> tuple[int, dict[str, Any]]:
        with CaptureQueriesContext(connection) as queries:
            found = rates(operator)
        return len(queries.captured_queries), found

    rates(operator)  # the session's first workspace page records when the session started
    few, _ = load()
    for i, course in enumerate(courses):  # every course answers its remaining weeks
        start = datetime.combine(course.start_date, time(12), tzinfo=UTC)
        for number in range(2, course.weeklies.count()):
            answer(course, number, start + timedelta(days=7 * number), [i] * 8 + [0])
    count, found = load()
    assert count == few
    # The rates of each course's own outcome (its page's).
    every = summarise(
        current_knowledge(),
        [c.status for c in courses],
        {c.pk: services.measures(c) for c in courses},
        {c.pk: c.induction_end for c in courses},
    )
    assert found == every["rates"]["phq9"]
