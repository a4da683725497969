"""Property: over any sequence of what patients and clinicians do, through the real services and
database, a held session is never done without a clinician's clearance, a course never has two
open sessions, the next session never starts before the previous after-check or an override,
none is scheduled after an emergency in an after-session check, and no session starts (a pre
check-in taken, a hold cleared to go ahead) while a physician's decision is owed — after an
emergency, a documented high risk or the block's end, through any safety suspension and the risk
assessments that lift it (no physician decides here, so once owed it stays owed).
"""

from __future__ import annotations

from contextlib import suppress
from itertools import pairwise

import pytest
from django.contrib.auth.models import User
from django.utils import timezone
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from crossline.audit.models import Event
from crossline.care.models import Alert
from crossline.course import services
from crossline.course.models import CheckIn, Course, RiskAssessment
from crossline.engine import course as rules
from tests.course.conftest import HIGH_BP_PRE, SAFE_POST, SAFE_PRE, approve, later_today, plan
from tests.visits.conftest import make_patient

pytestmark = pytest.mark.django_db
EMERGENCY_POST = {**SAFE_POST, "post.emergency_symptoms": ["seizure"]}
# Weekly answers showing suicide risk that the patient's page could not store: the course is
# suspended as for a stored one (`services.risk_reported_unsaved`), with no questionnaire used up.
RISK_ANSWERS = {"phq9.9": 1, "asq.1": "yes", "asq.2": "no", "asq.3": "no", "asq.4": "no",
                "asq.5": "no"}  # fmt: skip

ACTIONS = (
    "schedule",
    "schedule_override",
    "pre_safe",
    "pre_high",
    "post",
    "post_emergency",
    "clear",
    "cancel",
    "done",
    "suspend",
    "risk_low",
    "risk_high",
)


def _act(course: Course, action: str, physician: User) -> None:
    now = timezone.now()
    current = course.sessions.order_by("-number").first()
    common = {"user": physician, "request": None, "now": now}
    if action.startswith("schedule"):
        reason = "Taken by phone" if action == "schedule_override" else ""
        services.schedule_session(course, later_today(now), override_reason=reason, **common)
    elif action == "suspend":
        services.risk_reported_unsaved(course, Alert.Source.WEEKLY, RISK_ANSWERS, now)
    elif action.startswith("risk_"):
        course.refresh_from_db()
        if _risk_form_shown(course):
            risk = action.removeprefix("risk_")
            services.document_risk(course, risk=risk, note="Assessed by phone.", **common)
    elif current is None:
        return
    elif action in ("pre_safe", "pre_high"):
        answers = SAFE_PRE if action == "pre_safe" else HIGH_BP_PRE
        services.submit_session_checkin(current, "pre", answers, "en", now)
    elif action.startswith("post"):
        answers = SAFE_POST if action == "post" else EMERGENCY_POST
        services.submit_session_checkin(current, "post", answers, "en", now, doses_taken=1)
    elif action in ("clear", "cancel"):
        services.clear_hold(current, proceed=action == "clear", note="checked", **common)
    else:
        services.mark_done(current, **common)


def _risk_form_shown(course: Course) -> bool:
    """A risk assessment is documented where the course page offers its form: on a suspended
    course, or one paused for a high risk (continue waits for a new assessment)."""
    paused_high = course.status == rules.PAUSED and course.status_reason == "risk_high"
    return course.status == rules.SUSPENDED or paused_high


def _decision_owed(course: Course) -> bool:
    """The test's own account of a physician's decision owed (none is ever recorded here): an
    emergency after a session, a documented high risk, or the block's sessions all done."""
    emergency = CheckIn.objects.filter(course=course, kind="post", action="emergency").exists()
    high = RiskAssessment.objects.filter(course=course, risk="high").exists()
    done = course.sessions.filter(status=rules.DONE).count() >= course.sessions_planned
    return emergency or high or done


def _starts(course: Course) -> int:
    """Sessions let go ahead so far: pre check-ins taken, holds cleared to go ahead."""
    pre = CheckIn.objects.filter(course=course, kind="pre").count()
    cleared = Event.objects.filter(action="session.cleared", object_type="session")
    return pre + sum(1 for e in cleared if e.detail.get("proceed"))


# Mostly meaningful stretches (a whole session, a hold and what follows it) mixed with single
# actions in any order, so the sequences reach holds, clearances and the re-evaluation pause.
STRETCHES = (
    ("schedule", "pre_safe", "post"),
    ("schedule", "pre_safe", "post_emergency", "schedule"),
    ("schedule", "pre_high", "done"),
    ("schedule", "pre_high", "post"),
    ("schedule", "pre_high", "clear", "post"),
    ("schedule", "pre_high", "clear", "done"),
    ("schedule", "pre_high", "cancel"),
    ("schedule", "pre_safe", "schedule", "schedule_override"),
    ("suspend", "risk_low"),
    ("suspend", "risk_high", "suspend", "risk_low"),
    ("schedule", "pre_high", "suspend", "risk_low", "clear"),
    ("schedule", "pre_safe", "suspend", "post", "risk_low", "schedule", "pre_safe"),
)
SEQUENCES = st.lists(
    st.one_of(st.sampled_from(STRETCHES), st.sampled_from(ACTIONS).map(lambda a: (a,))),
    max_size=8,
).map(lambda parts: [a for part in parts for a in part])


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(SEQUENCES)
def test_the_course_rules_hold_over_any_sequence(physician: User, actions: list[str]) -> None:
    patient = make_patient()
    approve(patient.case, physician)
    course = plan(patient.case, physician, patient.token, sessions_planned=3)
    services.sign_consent(course, "Zephyrine Quillfeather", "en", timezone.now())
    for action in actions:
        owed, starts = _decision_owed(course), _starts(course)
        with suppress(services.CourseError):  # refused: the rules said no, nothing stored
            _act(course, action, physician)
        if owed:
            event("a physician's decision owed")
            assert _starts(course) == starts, action
    sessions = list(course.sessions.order_by("number"))
    assert sum(1 for s in sessions if s.status not in rules.FINISHED) <= 1
    for s in sessions:
        if s.status == rules.DONE and s.held_at is not None:
            event("a held session was cleared and then done")
            assert s.cleared_at is not None and s.cleared_at >= s.held_at, s.number
        holds = CheckIn.objects.filter(session=s, kind="pre", action="hold").count()
        if holds and s.status == rules.DONE:
            assert s.cleared_by_id is not None
    for before, after in pairwise(sessions):
        after_check = CheckIn.objects.filter(session=before, kind="post").exists()
        assert after_check or before.status == rules.CANCELLED or after.override_reason, (
            before.number
        )
    course.refresh_from_db()
    emergencies = CheckIn.objects.filter(course=course, kind="post", action="emergency")
    if first := emergencies.order_by("session__number").first():
        event("an emergency after a session")
        assert course.status in (rules.PAUSED, rules.SUSPENDED)
        assert not any(s.number > first.session.number for s in sessions)
    done = sum(1 for s in sessions if s.status == rules.DONE)
    event(f"sessions done: {done}")
    event(f"course {course.status}")
    if _decision_owed(course):
        assert course.status in (rules.PAUSED, rules.SUSPENDED)
