"""The recovery plan: saved encrypted by intake or a physician (at least one part written),
audited, and — once it exists — the weekly questionnaire's one-line check is required and its
answers are shown on the page and in the `_recovery.html` partial."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pytest
from django.db import connection
from django.template.loader import render_to_string
from django.test import Client
from django.utils import timezone

from crossline.accounts.roles import Role
from crossline.audit.models import Event
from crossline.course import recovery, services
from crossline.course.models import RecoveryPlan, Weekly
from crossline.engine.errors import InvalidInput
from tests.course.conftest import Planned, course_today, weekly_answers
from tests.staff import signed_in, staff_user

pytestmark = pytest.mark.django_db

PLAN = {
    "therapy": "Weekly counselling with Dr. Okonkwo-Farrell",
    "rest": "No e-mail after 7 p.m.",
    "boundaries": "",
    "support": "",
    "agreed_on": "2026-03-02",
}


def url(p: Planned) -> str:
    return f"/clinic/courses/{p.course.public_id}/recovery/"


@pytest.fixture
def intake() -> Client:
    return signed_in(staff_user("intake@program.example", Role.INTAKE))


def baseline_answers(**extra: Any) -> dict[str, Any]:
    return weekly_answers([0] * 9, [0] * 7, **{"course.bladder": "no", **extra})


def test_intake_saves_a_plan(planned: Planned, intake: Client) -> None:
    assert intake.get(url(planned)).status_code == 200
    assert intake.post(url(planned), PLAN).status_code == 302
    plan = RecoveryPlan.objects.get(course=planned.course)
    assert plan.content == {"therapy": PLAN["therapy"], "rest": PLAN["rest"],
                            "boundaries": "", "support": ""}  # fmt: skip
    assert plan.agreed_on == date(2026, 3, 2)
    with connection.cursor() as cursor:
        cursor.execute("SELECT content FROM course_recoveryplan")
        assert "Okonkwo" not in str(cursor.fetchone()[0])  # encrypted at rest
    [event] = Event.objects.filter(action="recovery_plan.saved")
    assert event.detail == {"created": True, "parts": "therapy,rest"}
    page = intake.get(url(planned)).content.decode()
    assert "Okonkwo-Farrell" in page and "No weekly answers to the recovery line yet." in page
    assert Event.objects.filter(action="course.viewed").exists()


def opened(client: Client, p: Planned) -> str:
    """The version the page carries in its hidden field, as a browser posts it back."""
    page = client.get(url(p)).content.decode()
    match = re.search(r'name="version" value="([^"]*)"', page) or re.search(
        r'name="version"(?: id="[^"]*")?>', page
    )
    assert match is not None, "the form carries its version"
    return match.group(1) if match.groups() else ""


def test_a_physician_edits_it(planned: Planned) -> None:
    doctor = signed_in(planned.physician)
    doctor.post(url(planned), PLAN)
    edit = {**PLAN, "support": "My sister, Sundays", "version": opened(doctor, planned)}
    assert doctor.post(url(planned), edit).status_code == 302
    assert RecoveryPlan.objects.get().content["support"] == "My sister, Sundays"
    assert Event.objects.filter(action="recovery_plan.saved").last().detail["created"] is False


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({**PLAN, "therapy": " ", "rest": ""}, "Write at least one part of the plan."),
        ({**PLAN, "agreed_on": ""}, "Agreed on: This field is required."),
        ({**PLAN, "agreed_on": "next week"}, "Agreed on: Enter a valid date."),
    ],
)
def test_bad_plans_are_refused(
    planned: Planned, intake: Client, data: dict[str, str], message: str
) -> None:
    response = intake.post(url(planned), data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not RecoveryPlan.objects.exists()


@pytest.mark.parametrize("day", ["tomorrow", "2999-12-31"])
def test_a_plan_agreed_in_the_future_is_refused(planned: Planned, intake: Client, day: str) -> None:
    agreed = (course_today() + timedelta(days=1)).isoformat() if day == "tomorrow" else day
    response = intake.post(url(planned), {**PLAN, "agreed_on": agreed})
    assert response.status_code == 400
    assert "Agreed on: This date is in the future" in response.content.decode()
    assert not RecoveryPlan.objects.exists()


def test_a_plan_agreed_today_where_the_course_runs_is_taken(
    planned: Planned, intake: Client
) -> None:
    response = intake.post(url(planned), {**PLAN, "agreed_on": course_today().isoformat()})
    assert response.status_code == 302


def test_the_service_refuses_an_empty_plan(planned: Planned) -> None:
    with pytest.raises(services.CourseError, match="therapy"):
        recovery.save_plan(planned.course, content={}, agreed_on=date.today(),
                           user=planned.physician, request=None, now=timezone.now())  # fmt: skip


def test_the_weekly_line_is_required_once_a_plan_exists(planned: Planned, intake: Client) -> None:
    intake.post(url(planned), PLAN)
    weekly = Weekly.objects.get(course=planned.course, number=0)
    with pytest.raises(InvalidInput) as caught:
        services.submit_weekly(weekly, baseline_answers(), "en", timezone.now())
    assert "course.recovery" in [e.field for e in caught.value.errors]
    services.submit_weekly(
        weekly, baseline_answers(**{"course.recovery": "partly"}), "en", timezone.now()
    )
    assert recovery.weekly_answers(planned.course)[0]["answer"] == "partly"
    partial = render_to_string("course/_recovery.html", {"course": planned.course})
    assert "partly" in partial and "Okonkwo-Farrell" in partial
    assert "Agreed on 2026-03-02" in partial


def test_without_a_plan_the_line_is_not_asked(planned: Planned) -> None:
    weekly = Weekly.objects.get(course=planned.course, number=0)
    services.submit_weekly(weekly, baseline_answers(), "en", timezone.now())
    assert "No recovery plan yet." in render_to_string(
        "course/_recovery.html", {"course": planned.course}
    )


def test_anonymous_is_sent_to_sign_in(planned: Planned) -> None:
    response = Client().post(url(planned), PLAN)
    assert response.status_code == 302 and response["Location"].startswith("/clinic/sign-in/")
    assert not RecoveryPlan.objects.exists()


def test_an_operator_is_refused(planned: Planned) -> None:
    operator = signed_in(staff_user("ops@program.example", Role.OPERATOR))
    assert operator.get(url(planned)).status_code == 403


# --- two editors -------------------------------------------------------------------------------


def test_a_save_from_a_page_opened_before_anothers_save_overwrites_nothing(
    planned: Planned, intake: Client
) -> None:
    doctor = signed_in(planned.physician)
    doctor.post(url(planned), PLAN)
    seen_by_intake = opened(intake, planned)
    seen_by_doctor = opened(doctor, planned)
    mine = {**PLAN, "support": "My sister, Sundays", "version": seen_by_doctor}
    assert doctor.post(url(planned), mine).status_code == 302
    theirs = {**PLAN, "rest": "Two evenings off a week", "version": seen_by_intake}
    refused = intake.post(url(planned), theirs)
    assert refused.status_code == 400
    page = refused.content.decode()
    assert "changed by someone else (dr.alvarez at " in page and "since you opened it" in page
    assert "Nothing was saved" in page
    assert "My sister, Sundays" in page  # the current text, shown below the form
    assert "Two evenings off a week" in page  # their own text, still in the form
    plan = RecoveryPlan.objects.get()
    assert plan.content["support"] == "My sister, Sundays"
    assert plan.content["rest"] == PLAN["rest"]
    assert Event.objects.filter(action="recovery_plan.saved").count() == 2
    # Saving again from the refusal is a deliberate replacement of the current plan.
    again = re.search(r'name="version" value="([^"]*)"', page)
    assert again is not None and again.group(1) == recovery.version_of(plan)
    assert intake.post(url(planned), {**theirs, "version": again.group(1)}).status_code == 302
    assert RecoveryPlan.objects.get().content["rest"] == "Two evenings off a week"


def test_two_editors_of_a_new_plan(planned: Planned, intake: Client) -> None:
    doctor = signed_in(planned.physician)
    assert opened(doctor, planned) == opened(intake, planned) == ""
    assert doctor.post(url(planned), {**PLAN, "version": ""}).status_code == 302
    refused = intake.post(url(planned), {**PLAN, "therapy": "Group therapy", "version": ""})
    assert refused.status_code == 400
    assert RecoveryPlan.objects.get().content["therapy"] == PLAN["therapy"]


def test_the_service_refuses_a_stale_version(planned: Planned) -> None:
    kw: dict[str, Any] = {"user": planned.physician, "request": None, "agreed_on": date(2026, 3, 2)}
    first = recovery.save_plan(
        planned.course, content={"therapy": "CBT"}, now=timezone.now(), version="", **kw
    )
    with pytest.raises(recovery.StaleEdit) as refused:
        recovery.save_plan(
            planned.course, content={"therapy": "DBT"}, now=timezone.now(), version="", **kw
        )
    assert refused.value.current == first
    assert RecoveryPlan.objects.get().content["therapy"] == "CBT"
