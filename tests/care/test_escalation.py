"""An alert nobody acknowledges escalates down the on-call roster, one step per
`escalate_after_minutes`, then to the team addresses once more; acknowledging stops it. Time is
moved by passing `now` to the sweep — nothing sleeps."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from django.test import Client

from crossline.audit.models import Event
from crossline.care.alerts import escalate_due
from crossline.care.models import Alert, AlertEvent, Notification
from crossline.program.models import OnCallEntry, ProgramSettings
from tests.care.support import ACUTE, TEAM, contact_me, on_call, staff, submitted
from tests.staff import signed_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def roster() -> list[Any]:
    users = [staff(name, "physician") for name in ("ada", "ben", "cy")]
    on_call(*users)
    program = ProgramSettings.current()
    program.notification_emails = TEAM
    program.save()
    return users


@pytest.fixture
def alert(roster: list[Any]) -> Alert:
    assessment, _ = submitted(ACUTE)
    contact_me(assessment)
    return Alert.objects.get()


def minutes(alert: Alert, n: float) -> datetime:
    return alert.created_at + timedelta(minutes=n)


def paged(alert: Alert, step: int) -> list[tuple[int | None, str]]:
    notes = Notification.objects.filter(alert=alert, step=step, channel="email")
    return sorted(((n.user_id or 0), n.address) for n in notes)


def test_nothing_escalates_before_escalate_after(alert: Alert) -> None:
    assert escalate_due(minutes(alert, 9.9)) == 0
    alert.refresh_from_db()
    assert alert.step == 0


def test_each_unacknowledged_step_pages_the_next_on_call_then_the_team(
    alert: Alert, roster: list[Any]
) -> None:
    assert escalate_due(minutes(alert, 10)) == 1
    alert.refresh_from_db()
    assert alert.step == 1
    assert alert.next_escalation_at == minutes(alert, 20)
    assert paged(alert, 1) == [(roster[1].pk, "")]
    audit = Event.objects.filter(action="alert.escalated").get()
    assert audit.actor == "worker" and audit.patient == str(alert.case.public_id)
    assert audit.detail == {"step": 1, "to_user": roster[1].pk, "team": False, "final": False}

    assert escalate_due(minutes(alert, 15)) == 0  # the next step is not due yet
    assert escalate_due(minutes(alert, 20)) == 1
    assert paged(alert, 2) == [(roster[2].pk, "")]
    assert escalate_due(minutes(alert, 30)) == 1  # past the last on the roster: the team
    assert paged(alert, 3) == [(0, TEAM)]
    alert.refresh_from_db()
    assert alert.next_escalation_at is None  # escalation ends there
    assert escalate_due(minutes(alert, 600)) == 0

    history = [(e.kind, e.step, e.user_id, e.team) for e in AlertEvent.objects.filter(alert=alert)]
    assert history == [
        ("created", 0, roster[0].pk, True),
        ("escalated", 1, roster[1].pk, False),
        ("escalated", 2, roster[2].pk, False),
        ("escalated", 3, None, True),
    ]
    assert Event.objects.filter(action="alert.escalated").count() == 3


def test_the_roster_as_it_stands_at_each_step_decides_who_is_next(
    alert: Alert, roster: list[Any]
) -> None:
    OnCallEntry.objects.filter(user=roster[1]).update(active=False)
    escalate_due(minutes(alert, 10))
    assert paged(alert, 1) == [(roster[2].pk, "")]


@pytest.mark.parametrize("change", ["roles_taken", "deactivated"])
def test_someone_who_can_no_longer_answer_an_alert_is_skipped(
    alert: Alert, roster: list[Any], change: str
) -> None:
    """Taking a clinician's clinical roles away in the admin (they stay an operator) or turning
    the account off leaves their roster entry: paging them would spend a whole escalation step
    on someone the alert's page refuses."""
    from django.contrib.auth.models import Group

    if change == "roles_taken":
        roster[1].groups.set(Group.objects.filter(name="operator"))
    else:
        roster[1].is_active = False
        roster[1].save()
    escalate_due(minutes(alert, 10))
    assert paged(alert, 1) == [(roster[2].pk, "")]


def test_an_empty_roster_pages_the_team_at_creation_and_once_more(settings: Any) -> None:
    program = ProgramSettings.current()
    program.notification_emails = TEAM
    program.save()
    assessment, _ = submitted(ACUTE)
    contact_me(assessment)
    alert = Alert.objects.get()
    assert paged(alert, 0) == [(0, TEAM)]
    assert escalate_due(minutes(alert, 10)) == 1
    assert paged(alert, 1) == [(0, TEAM)]
    alert.refresh_from_db()
    assert alert.next_escalation_at is None


def test_an_acknowledged_alert_does_not_escalate(alert: Alert, roster: list[Any]) -> None:
    client = signed_in(roster[0])
    response = client.post(f"/clinic/alerts/{alert.public_id}/acknowledge/")
    assert response.status_code == 302
    alert.refresh_from_db()
    assert alert.acknowledged_by == roster[0] and alert.next_escalation_at is None
    assert escalate_due(minutes(alert, 60)) == 0
    assert not Notification.objects.filter(step__gt=0).exists()
    audit = Event.objects.get(action="alert.acknowledged")
    assert audit.actor_id == roster[0].pk
    assert audit.patient == str(alert.case.public_id)


def test_acknowledging_twice_keeps_the_first(alert: Alert, roster: list[Any]) -> None:
    first, second = signed_in(roster[0]), signed_in(roster[1])
    first.post(f"/clinic/alerts/{alert.public_id}/acknowledge/")
    response = second.post(f"/clinic/alerts/{alert.public_id}/acknowledge/", follow=True)
    assert "Already acknowledged by Dr Ada" in response.content.decode()
    alert.refresh_from_db()
    assert alert.acknowledged_by == roster[0]
    assert Event.objects.filter(action="alert.acknowledged").count() == 1


def test_a_sweep_that_listed_an_alert_before_it_moved_on_does_not_escalate_it(
    alert: Alert, roster: list[Any]
) -> None:
    """The claim re-checks the row: a slower worker holding a stale list escalates nothing."""
    from crossline.care.alerts import _escalate_one

    now = minutes(alert, 10)
    assert _escalate_one(alert.pk, now) is True
    assert _escalate_one(alert.pk, now) is False  # step 1 is not due until minute 20
    Alert.objects.filter(pk=alert.pk).update(acknowledged_at=now)
    assert _escalate_one(alert.pk, minutes(alert, 20)) is False
    assert AlertEvent.objects.filter(kind="escalated").count() == 1


def test_acknowledge_page_requires_post(alert: Alert, roster: list[Any]) -> None:
    response = signed_in(roster[0]).get(f"/clinic/alerts/{alert.public_id}/acknowledge/")
    assert response.status_code == 405


def test_the_webhook_is_posted_at_every_step(alert: Alert, webhook: Any) -> None:
    escalate_due(minutes(alert, 10))
    steps = Notification.objects.filter(alert=alert, channel="webhook").values_list("step")
    assert list(steps) == [(1,)]  # the alert was raised before the webhook was configured


def test_anonymous_client_cannot_acknowledge(alert: Alert) -> None:
    response = Client().post(f"/clinic/alerts/{alert.public_id}/acknowledge/")
    assert response.status_code == 302 and response["Location"].startswith("/clinic/sign-in/")
    alert.refresh_from_db()
    assert alert.acknowledged_at is None
