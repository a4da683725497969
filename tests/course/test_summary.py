"""The program view's numbers (crossline.course.summary), from plain data."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from crossline.accounts.roles import Role
from crossline.course import services
from crossline.course.summary import summarise
from crossline.engine.outcomes import Measure
from crossline.knowledge import load
from tests.course.conftest import COURSE_ZONE, Planned, weekly_answers
from tests.staff import signed_in, staff_user

K = load()
D = [date(2027, 1, d) for d in (4, 11, 18, 25)]


def m(day: date, phq9: int, gad7: int | None = None) -> Measure:
    scores = {"phq9": phq9} if gad7 is None else {"phq9": phq9, "gad7": gad7}
    return Measure(day, scores)


def test_states_rates_and_what_is_not_yet_measured() -> None:
    series = {
        "a": [m(D[0], 20, 12), m(D[1], 9, 5)],  # PHQ-9 55% drop: response, no remission
        "b": [m(D[0], 16, 10), m(D[3], 4, 4)],  # response and remission (PHQ-9 < 5)
        "c": [m(D[0], 14)],  # one measure: not yet measured
        "d": [m(D[0], 10, 8), m(D[3], 16, 9)],  # worse by 6: worsening; non-response at end
    }
    out = summarise(K, ["active", "active", "paused", "stopped"], series, {"d": D[2]})
    assert out["states"] == {"active": 2, "paused": 1, "suspended": 0, "stopped": 1}
    assert out["total"] == 4
    assert out["measured"] == {"phq9": 3, "gad7": 3}
    phq = out["rates"]["phq9"]
    assert (phq["response"].count, phq["response"].of) == (2, 3)
    assert phq["response"].percent == 66.7
    assert (phq["remission"].count, phq["remission"].of) == (1, 3)
    assert (phq["worsening"].count, phq["worsening"].of) == (1, 3)
    # Non-response is judged only where the end of induction has a measure on or after it.
    assert (phq["non_response"].count, phq["non_response"].of) == (1, 1)
    gad = out["rates"]["gad7"]
    assert (gad["remission"].count, gad["remission"].of) == (1, 3)  # GAD-7 < 5: 5 is not


def test_a_zero_baseline_is_left_out_of_the_response_rate() -> None:
    out = summarise(K, ["active"], {"a": [m(D[0], 0), m(D[1], 3)]}, {})
    assert out["rates"]["phq9"]["response"].of == 0
    assert out["rates"]["phq9"]["response"].percent is None
    assert out["rates"]["phq9"]["remission"].of == 1


@pytest.mark.django_db
def test_the_program_page_dates_each_weekly_by_its_due_day(planned: Planned) -> None:
    """As the course page does (services.measures, ADR 0006): the baseline is the questionnaire
    due on the start day even when it came in after the next one — dated by when it was sent,
    the late baseline became the latest measure, and a responder (PHQ-9 16 → 4) counted as
    worsening."""
    zone = ZoneInfo(COURSE_ZONE)
    second_due = planned.course.start_date + timedelta(days=7)
    first, second = planned.course.weeklies.get(number=0), planned.course.weeklies.get(number=1)
    on_time = datetime.combine(second_due, time(10), tzinfo=zone)
    late = datetime.combine(second_due, time(15), tzinfo=zone)  # its link is still open
    services.submit_weekly(second, weekly_answers([1] * 4 + [0] * 5, [1] * 7), "en", on_time)
    bladder = {"course.bladder": "no"} if first.bladder else {}
    services.submit_weekly(first, weekly_answers([2] * 8 + [0], [1] * 7, **bladder), "en", late)
    assert services.outcome(planned.course)["phq9"]["response"] is True

    page = signed_in(staff_user("ops.lead", Role.OPERATOR)).get("/clinic/program/courses/")
    phq9 = page.context["summary"]["rates"]["phq9"]
    assert (phq9["response"].count, phq9["response"].of) == (1, 1)
    assert (phq9["worsening"].count, phq9["worsening"].of) == (0, 1)
