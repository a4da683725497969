"""Every suspension of a course by a safety answer leaves one `course.suspended` audit event, as
every other change of a course's state leaves its own: whether the answer came in a stored
check-in, a check-in's first step, or a page that could not store it (where only a new alert was
logged before — nothing at all when an open alert covered it). A course already suspended does
not change, and leaves none."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from crossline.audit.models import Event
from crossline.care.models import Alert
from crossline.course import services
from crossline.engine import course as rules
from tests.course.conftest import SAFE_PRE, Planned, schedule, sign
from tests.course.test_emergency_pause import CHEST_PAIN, after_session
from tests.course.test_first_step import NON_ACUTE, SOURCE, sitting, sweep, waiting
from tests.course.test_patient_pages import client
from tests.course.test_reactivation import POSITIVE_WEEKLY

pytestmark = pytest.mark.django_db

POSITIVE_PRE = {**SAFE_PRE, "phq9.9": 1, **NON_ACUTE}


def suspensions() -> list[Event]:
    return list(Event.objects.filter(action="course.suspended").order_by("seq"))


def the_suspension(p: Planned) -> dict[str, Any]:
    """The one suspension event: about this course and its patient; its detail."""
    [event] = suspensions()
    assert (event.object_type, event.object_id) == ("course", str(p.course.public_id))
    assert event.patient == str(p.case.public_id)
    p.course.refresh_from_db()
    assert (p.course.status, p.course.status_reason) == (rules.SUSPENDED, "safety")
    return {"actor": event.actor, **event.detail}


def positive_weekly(p: Planned, number: int = 0) -> dict[str, Any]:
    weekly = p.course.weeklies.get(number=number)
    return {k: v for k, v in POSITIVE_WEEKLY.items() if weekly.bladder or k != "course.bladder"}


ACTIVE = {"actor": "patient", "reason": "safety", "was": rules.ACTIVE, "was_reason": ""}


def test_a_stored_pre_check_in_with_a_safety_answer(planned: Planned) -> None:
    sign(planned)
    session, _ = schedule(planned)
    services.submit_session_checkin(session, "pre", POSITIVE_PRE, "en", timezone.now())
    assert the_suspension(planned) == {**ACTIVE, "session": session.number, "from": "checkin"}


def test_a_stored_weekly_with_a_safety_answer(planned: Planned) -> None:
    weekly = planned.course.weeklies.get(number=0)
    services.submit_weekly(weekly, positive_weekly(planned), "en", timezone.now())
    assert the_suspension(planned) == {**ACTIVE, "weekly": 0, "from": "checkin"}


@pytest.mark.parametrize("kind", ["pre", "weekly"])
def test_a_first_step_then_its_asq_step_or_the_worker_leaves_one(
    planned: Planned, kind: str
) -> None:
    """The first step suspends (one event); its ASQ step, or the worker's report of the step left
    there, finds the course suspended already: no second event."""
    s = sitting(planned, kind)
    browser = client("en")
    s.first_step(browser)
    where = {"session": s.session.number} if kind == "pre" else {"weekly": 0}
    assert the_suspension(planned) == {**ACTIVE, **where, "from": "first_step"}
    sweep(waiting().sent_at + services.ASQ_STEP_GRACE)
    s.asq_step(browser, NON_ACUTE)
    assert Alert.objects.count() == 1 and len(suspensions()) == 1


@pytest.mark.parametrize("kind", ["pre", "weekly"])
def test_answers_a_page_could_not_store(planned: Planned, kind: str) -> None:
    """`risk_reported_unsaved`: before, only the alert it raised was logged. Sent again, the
    open alert covers it and the course is suspended already: nothing new."""
    sign(planned)
    session, _ = schedule(planned)
    weekly = planned.course.weeklies.get(number=0)
    if kind == "pre":
        answers, where = POSITIVE_PRE, {"session": session}
    else:
        answers, where = positive_weekly(planned), {"weekly": weekly}
    for _ in range(2):
        services.risk_reported_unsaved(
            planned.course, SOURCE[kind], answers, timezone.now(), **where
        )
    number = {"session": session.number} if kind == "pre" else {"weekly": 0}
    assert the_suspension(planned) == {**ACTIVE, **number, "from": "not_stored"}
    assert Alert.objects.count() == 1


def test_a_paused_course_names_the_pause_the_suspension_interrupts(planned: Planned) -> None:
    """The suspension overwrites the pause's reason on the course (the records still hold it,
    `decision_owed`); its event keeps it too."""
    after_session(planned, CHEST_PAIN)
    weekly = planned.course.weeklies.get(number=0)
    services.submit_weekly(weekly, positive_weekly(planned), "en", timezone.now())
    detail = the_suspension(planned)
    assert (detail["was"], detail["was_reason"]) == (rules.PAUSED, "emergency")


def test_a_course_suspended_already_leaves_no_second_event(planned: Planned) -> None:
    sign(planned)
    session, _ = schedule(planned)
    services.submit_session_checkin(session, "pre", POSITIVE_PRE, "en", timezone.now())
    weekly = planned.course.weeklies.get(number=0)
    services.submit_weekly(weekly, positive_weekly(planned), "en", timezone.now())
    assert len(suspensions()) == 1
