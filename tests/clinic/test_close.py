"""Closing a case: its holder or a physician closes it with a reason; never while one of its
alerts is unacknowledged or a treatment course is under way; audited."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from crossline.audit.models import Event
from crossline.care.models import Alert
from crossline.clinic.models import Case
from tests.clinic.conftest import NON_ACUTE, OpenCase
from tests.clinic.test_claims import claim

pytestmark = pytest.mark.django_db


def close(client: Client, case: Case, reason: str = "contacted") -> str:
    response = client.post(
        f"/clinic/cases/{case.public_id}/close/", {"reason": reason}, follow=True
    )
    assert response.status_code == 200
    return response.content.decode()


def test_the_holder_closes_a_case_with_a_reason(intake: Client, new_case: OpenCase) -> None:
    case = new_case()
    html = claim(intake, case)
    assert "Close the case" in html
    assert "The case is closed." in close(intake, case, "unreachable")
    case.refresh_from_db()
    assert (case.status, case.close_reason) == ("closed", "unreachable")
    assert case.closed_at is not None
    event = Event.objects.get(action="case.closed")
    assert event.patient == str(case.public_id) and event.detail == {"reason": "unreachable"}


def test_a_reason_is_required_and_only_the_holder_or_a_physician_closes(
    intake: Client, other_intake: Client, physician: Client, new_case: OpenCase
) -> None:
    case = new_case()
    claim(intake, case)
    assert "Choose why the case is closed." in close(intake, case, "bored")
    assert "Only the clinician who holds the case" in close(other_intake, case)
    assert (
        "Close the case"
        not in other_intake.get(f"/clinic/cases/{case.public_id}/").content.decode()
    )
    case.refresh_from_db()
    assert case.status == "claimed"
    assert "The case is closed." in close(physician, case, "withdrawn")
    assert Event.objects.filter(action="case.closed").count() == 1


def test_not_while_an_alert_is_unacknowledged(
    physician: Client, physician_user: User, new_case: OpenCase
) -> None:
    case = new_case(NON_ACUTE)
    alert = Alert.objects.get(case=case)
    assert "not acknowledged yet" in close(physician, case)
    Alert.objects.filter(pk=alert.pk).update(
        acknowledged_at=timezone.now(), acknowledged_by=physician_user
    )
    assert "The case is closed." in close(physician, case)


def test_not_while_a_treatment_course_is_under_way(
    physician: Client, physician_user: User, new_case: OpenCase
) -> None:
    from tests.course.conftest import approve, plan

    case = new_case()
    approve(case, physician_user)
    course = plan(case, physician_user, None)
    assert "the physician stops it first" in close(physician, case)
    course.status = "stopped"
    course.save()
    assert "The case is closed." in close(physician, case)
