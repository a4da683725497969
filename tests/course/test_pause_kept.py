"""A course paused for the physician's decision stays paused through a safety suspension: the
risk assessment that lifts the suspension returns it to the pause, never to active, while the
decision (continue, change or stop) is still owed — the re-evaluation point, a documented high
risk, an emergency, new bladder symptoms (services.decision_owed, ADR 0006). And a pause for a
high risk a later assessment rated lower says so, rather than "high risk"."""

from __future__ import annotations

from html import unescape

import pytest
from django.utils import timezone

from crossline.accounts.roles import Role
from crossline.audit.models import Event
from crossline.course import services
from crossline.engine import course as rules
from tests.course.conftest import SAFE_POST, SAFE_PRE, Planned, schedule, sign
from tests.course.test_emergency_pause import left_open
from tests.course.test_reactivation import POSITIVE_WEEKLY, decide, document
from tests.staff import signed_in, staff_user

pytestmark = pytest.mark.django_db


def status(p: Planned) -> tuple[str, str]:
    p.course.refresh_from_db()
    return p.course.status, p.course.status_reason


def suspend(p: Planned, week: int = 0) -> None:
    """Weekly item 9 = 1 (an ASQ yes): the course is suspended."""
    weekly = p.course.weeklies.get(number=week)
    answers = {k: v for k, v in POSITIVE_WEEKLY.items() if weekly.bladder or k != "course.bladder"}
    services.submit_weekly(weekly, answers, "en", timezone.now())
    assert status(p) == (rules.SUSPENDED, "safety")


def one_session_block(p: Planned) -> None:
    p.course.sessions_planned = p.course.reevaluation_after = 1
    p.course.save()


def session_done(p: Planned) -> None:
    """The block's (only) session went ahead and its after-check is in."""
    sign(p)
    session, _ = schedule(p)
    services.submit_session_checkin(session, "pre", SAFE_PRE, "en", timezone.now())
    services.submit_session_checkin(session, "post", SAFE_POST, "en", timezone.now(), 1)


@pytest.mark.parametrize("risk", ["low", "moderate"])
def test_a_course_paused_for_re_evaluation_stays_paused_through_a_suspension(
    planned: Planned, risk: str
) -> None:
    """The block ends (paused for re-evaluation), weekly item 9 = 1 (suspended), the risk is
    assessed low: paused for re-evaluation again, and no session is scheduled or starts."""
    one_session_block(planned)
    session_done(planned)
    assert status(planned) == (rules.PAUSED, "reevaluation")
    suspend(planned)
    document(planned, risk)
    assert status(planned) == (rules.PAUSED, "reevaluation")
    with pytest.raises(services.CourseError, match="paused until the physician decides"):
        schedule(planned)
    waiting, _ = left_open(planned)
    with pytest.raises(services.CourseError, match="the course is paused"):
        services.submit_session_checkin(waiting, "pre", SAFE_PRE, "en", timezone.now())
    documented = Event.objects.get(action="risk.documented")
    assert documented.detail == {"risk": risk, "sessions_cancelled": 0}
    waiting.delete()
    decide(planned)
    assert status(planned) == (rules.ACTIVE, "") and planned.course.block == 2


def test_a_block_that_ends_during_a_suspension_waits_for_the_re_evaluation(
    planned: Planned,
) -> None:
    """The weekly answer suspended the course between the last session's go-ahead and its
    after-check: the block ended while suspended (no pause then), and the assessment that lifts
    the suspension pauses for the re-evaluation — before, it left an active course that could
    neither schedule nor be continued."""
    one_session_block(planned)
    sign(planned)
    session, _ = schedule(planned)
    services.submit_session_checkin(session, "pre", SAFE_PRE, "en", timezone.now())
    suspend(planned)
    services.submit_session_checkin(session, "post", SAFE_POST, "en", timezone.now(), 1)
    assert status(planned) == (rules.SUSPENDED, "safety")
    document(planned, "low")
    assert status(planned) == (rules.PAUSED, "reevaluation")
    decide(planned)
    assert status(planned) == (rules.ACTIVE, "")


def test_a_course_paused_for_high_risk_then_suspended_and_assessed_low_stays_paused(
    planned: Planned,
) -> None:
    suspend(planned)
    document(planned, "high")
    assert status(planned) == (rules.PAUSED, "risk_high")
    suspend(planned, week=1)
    document(planned, "low")
    assert status(planned) == (rules.PAUSED, "risk_reassessed")
    with pytest.raises(services.CourseError, match="paused until the physician decides"):
        schedule(planned)
    decide(planned)  # the latest risk is not high: continue is the physician's to decide
    assert status(planned) == (rules.ACTIVE, "")


def test_a_pause_for_high_risk_re_assessed_lower_says_so(planned: Planned) -> None:
    """Still paused (the physician decides), but no longer "high risk": the course page says
    the decision follows a high risk the latest assessment does not confirm."""
    suspend(planned)
    document(planned, "high")
    nurse = signed_in(staff_user("nurse.ivy", Role.INTAKE))
    url = f"/clinic/courses/{planned.course.public_id}/"
    page = nurse.get(url).content.decode()
    assert "a documented high suicide risk keeps home sessions off" in page
    assert 'id="risk-title"' in page  # continue waits for a new assessment: the form is here
    document(planned, "moderate")
    assert status(planned) == (rules.PAUSED, "risk_reassessed")
    page = nurse.get(url).content.decode()
    assert "a documented high suicide risk keeps home sessions off" not in page
    assert "after a documented high suicide risk (the latest assessment is not high)" in page
    assert 'id="risk-title"' not in page
    document(planned, "high")
    assert status(planned) == (rules.PAUSED, "risk_high")


def test_a_pause_for_re_evaluation_assessed_high_is_named_for_the_risk(planned: Planned) -> None:
    one_session_block(planned)
    session_done(planned)
    suspend(planned)
    document(planned, "high")
    assert status(planned) == (rules.PAUSED, "risk_high")
    document(planned, "low")
    assert status(planned) == (rules.PAUSED, "risk_reassessed")


def test_an_active_course_suspended_and_assessed_low_is_active_again(planned: Planned) -> None:
    suspend(planned)
    document(planned, "low")
    assert status(planned) == (rules.ACTIVE, "")
    assert services.decision_owed(planned.course) == []
    schedule(planned)


def test_a_decision_answers_what_was_owed_before_it(planned: Planned) -> None:
    """After the physician's decision, a later suspension lifted by a low risk is active again:
    the high risk and the block's end it answered are owed no more."""
    one_session_block(planned)
    session_done(planned)
    suspend(planned)
    document(planned, "high")
    document(planned, "low")
    assert set(services.decision_owed(planned.course)) == {"risk_high", "reevaluation"}
    decide(planned)
    assert services.decision_owed(planned.course) == []
    suspend(planned, week=1)
    document(planned, "low")
    assert status(planned) == (rules.ACTIVE, "")


def test_the_suspended_course_page_says_the_course_will_stay_paused(planned: Planned) -> None:
    one_session_block(planned)
    session_done(planned)
    suspend(planned)
    nurse = signed_in(staff_user("nurse.ivy", Role.INTAKE))
    url = f"/clinic/courses/{planned.course.public_id}/"
    page = nurse.get(url).content.decode()
    assert 'id="paused-after-assessment"' in page
    assert "the course stays paused for the physician's re-evaluation decision" in unescape(page)


def test_an_active_course_suspended_says_nothing_of_a_pause(planned: Planned) -> None:
    suspend(planned)
    nurse = signed_in(staff_user("nurse.ivy", Role.INTAKE))
    page = nurse.get(f"/clinic/courses/{planned.course.public_id}/").content.decode()
    assert 'id="risk-title"' in page and 'id="paused-after-assessment"' not in page


def test_the_decision_box_and_its_refusal_speak_of_any_pause(planned: Planned) -> None:
    suspend(planned)
    document(planned, "high")
    doctor = signed_in(planned.physician)
    page = doctor.get(f"/clinic/courses/{planned.course.public_id}/").content.decode()
    assert "The physician's decision: continue, change or stop" in page
    assert "Re-evaluation decision" not in page
    suspend(planned, week=1)
    with pytest.raises(services.CourseError, match="paused for the physician's decision"):
        decide(planned)


def test_a_high_risk_documented_on_an_active_course_pauses_it(planned: Planned) -> None:
    """The page offers the assessment on suspended and paused courses, but a high risk is a
    high risk whenever it is recorded: no session may start or be scheduled while it stands."""
    sign(planned)
    assert status(planned) == (rules.ACTIVE, "")
    document(planned, "high")
    assert status(planned) == (rules.PAUSED, "risk_high")
    with pytest.raises(services.CourseError, match="paused until the physician decides"):
        schedule(planned)
