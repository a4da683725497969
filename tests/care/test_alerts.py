"""A safety-positive screen whose person asks to be contacted raises one alert, with a
deadline by level, paging the first person on call and the team — by e-mail through a real SMTP
server and the webhook through a real HTTP receiver, neither carrying any patient data."""

from __future__ import annotations

import hmac
from datetime import timedelta
from typing import Any

import pytest
from django.db import transaction
from django.test import Client
from django_tasks_db.models import DBTaskResult, get_date_max

from crossline.audit.models import Event
from crossline.care import notify
from crossline.care.models import Alert, AlertEvent, Notification
from crossline.care.tasks import enqueue_notifications
from crossline.program.models import ProgramSettings
from tests.care.conftest import Receiver
from tests.care.support import (
    ACUTE,
    LEAKS,
    NON_ACUTE,
    TEAM,
    contact_me,
    contact_me_form,
    evaluation_form,
    on_call,
    staff,
    submitted,
)
from tests.mail import Mailbox
from tests.web.personas import CANDIDATE

pytestmark = pytest.mark.django_db


@pytest.fixture
def roster() -> list[Any]:
    users = [staff(name, "physician") for name in ("ada", "ben", "cy")]
    on_call(*users)
    program = ProgramSettings.current()
    program.notification_emails = f"{TEAM}\nnot an address\n"
    program.save()
    return users


def run_queued_tasks() -> None:
    """What `crossline worker` does with ready tasks (its loop, in this process)."""
    from crossline.care.tasks import deliver_notification

    for row in DBTaskResult.objects.ready().order_by("enqueued_at"):
        assert row.task_path.endswith("deliver_notification")
        deliver_notification.call(*row.args_kwargs["args"])
        row.delete()


def raise_alert(answers: dict[str, Any], capture: Any) -> Alert:
    assessment, token = submitted(answers)
    with capture(execute=True):
        response = Client().post(f"/r/{token}/contact", contact_me_form())
    assert response.status_code == 302
    return Alert.objects.get(case__assessment=assessment)


def test_an_acute_contact_request_raises_an_alert_due_in_30_minutes(
    roster: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    alert = raise_alert(ACUTE, django_capture_on_commit_callbacks)
    assert alert.level == "acute"
    assert alert.due_at - alert.created_at == timedelta(minutes=30)
    assert alert.due_at == alert.case.due_at
    assert alert.next_escalation_at == alert.created_at + timedelta(minutes=10)
    event = AlertEvent.objects.get(alert=alert)
    assert (event.kind, event.user, event.team) == ("created", roster[0], True)
    audit = Event.objects.get(action="alert.created")
    assert audit.patient == str(alert.case.public_id)
    assert audit.detail == {"level": "acute", "source": "screen", "to_user": roster[0].pk}
    notes = Notification.objects.filter(alert=alert)
    # The first on call and the team's one valid address; no webhook configured.
    assert sorted((n.channel, n.user_id or 0, n.address) for n in notes) == [
        ("email", 0, TEAM),
        ("email", roster[0].pk, ""),
    ]
    assert all(n.queued_at is not None for n in notes)
    assert DBTaskResult.objects.count() == 2


def test_a_non_acute_deadline_follows_the_program_settings(
    roster: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    program = ProgramSettings.current()
    program.non_acute_deadline_minutes = 120
    program.save()
    alert = raise_alert(NON_ACUTE, django_capture_on_commit_callbacks)
    assert alert.level == "non_acute"
    assert alert.due_at - alert.created_at == timedelta(hours=2)


def test_a_candidate_without_safety_risk_raises_no_alert(roster: list[Any]) -> None:
    _, token = submitted(CANDIDATE)
    assert Client().post(f"/r/{token}/request", evaluation_form()).status_code == 302
    assert not Alert.objects.exists()
    assert not Notification.objects.exists()


def test_a_second_request_on_the_same_screen_raises_no_second_alert(
    roster: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    _, token = submitted(NON_ACUTE)  # a candidate at risk: both forms are offered
    client = Client()
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(f"/r/{token}/contact", contact_me_form()).status_code == 302
        assert client.post(f"/r/{token}/request", evaluation_form()).status_code == 302
        assert client.post(f"/r/{token}/contact", contact_me_form()).status_code == 302
    assert Alert.objects.count() == 1
    assert Notification.objects.count() == 2
    assert Event.objects.filter(action="alert.created").count() == 1


def test_a_request_after_the_alert_was_acknowledged_pages_again_due_from_that_request(
    roster: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    """The person at risk got in touch again after a clinician answered the first alert (the
    case decided or closed since, say): a new alert, due from the new request, not silence."""
    from django.test import RequestFactory
    from django.utils import timezone

    from crossline.care.alerts import acknowledge

    _, token = submitted(NON_ACUTE)
    client = Client()
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(f"/r/{token}/contact", contact_me_form()).status_code == 302
    first = Alert.objects.get()
    request = RequestFactory().post("/")
    request.user = roster[0]
    assert acknowledge(first, request, timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(f"/r/{token}/request", evaluation_form()).status_code == 302
    second = Alert.objects.exclude(pk=first.pk).get()
    assert second.is_open and second.level == "non_acute" and second.source == "screen"
    assert second.due_at - second.created_at == timedelta(
        minutes=ProgramSettings.current().non_acute_deadline_minutes
    )
    assert Event.objects.filter(action="alert.created").count() == 2


def test_a_rolled_back_request_leaves_no_alert_and_queues_nothing(
    roster: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    assessment, _ = submitted(ACUTE)
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        contact_me(assessment)
        assert Alert.objects.count() == 1
        raise RuntimeError("the intake transaction fails after the alert")
    assert callbacks == []
    assert not Alert.objects.exists()
    assert not DBTaskResult.objects.exists()


# --- e-mail ---------------------------------------------------------------------------------


def test_the_email_reaches_the_smtp_server_with_the_link_and_no_patient_data(
    roster: list[Any], smtp: Mailbox, django_capture_on_commit_callbacks: Any
) -> None:
    alert = raise_alert(ACUTE, django_capture_on_commit_callbacks)
    run_queued_tasks()
    messages = smtp.wait_for(2)
    assert len(messages) == 2
    link = f"http://testserver/clinic/alerts/{alert.public_id}/"
    for message in messages:
        raw = message.as_string()
        assert link in message.get_content()
        assert "acute" in message["Subject"].lower()
        assert f"{alert.due_at:%Y-%m-%d %H:%M} UTC" in message.get_content()
        for leak in LEAKS:
            assert leak.lower() not in raw.lower(), leak
        assert str(alert.case.assessment.public_id) not in raw
    assert len(smtp.to(roster[0].email)) == 1
    assert len(smtp.to(TEAM)) == 1
    notes = Notification.objects.filter(alert=alert)
    assert {(n.status, n.attempts) for n in notes} == {("sent", 1)}
    assert Event.objects.filter(action="notification.sent").count() == 2


@pytest.fixture
def smtp_down(settings: Any) -> None:
    """The SMTP relay is unreachable: nothing listens on its port."""
    from web_server import free_port

    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()


def test_an_unreachable_smtp_server_is_recorded_and_retried_later(
    roster: list[Any], smtp_down: None, django_capture_on_commit_callbacks: Any
) -> None:
    alert = raise_alert(ACUTE, django_capture_on_commit_callbacks)
    note = Notification.objects.filter(alert=alert, user=roster[0]).get()
    with django_capture_on_commit_callbacks(execute=True):
        assert notify.deliver(note.pk, alert.created_at) == "retrying"
    note.refresh_from_db()
    assert (note.status, note.attempts) == ("retrying", 1)
    assert note.last_error == "ConnectionRefusedError"
    retry = DBTaskResult.objects.exclude(run_after=get_date_max()).get()
    assert retry.args_kwargs["args"] == [note.pk]
    assert retry.run_after == alert.created_at + timedelta(seconds=notify.FIRST_RETRY_SECONDS)
    failed = Event.objects.get(action="notification.failed")
    assert failed.detail["error"] == "ConnectionRefusedError" and failed.detail["retry"] is True


def test_delivery_gives_up_after_the_last_attempt(
    roster: list[Any], smtp_down: None, django_capture_on_commit_callbacks: Any
) -> None:
    alert = raise_alert(ACUTE, django_capture_on_commit_callbacks)
    note = Notification.objects.filter(alert=alert, user=roster[0]).get()
    for _ in range(notify.MAX_ATTEMPTS):
        status = notify.deliver(note.pk, alert.created_at)
    assert status == "failed"
    assert notify.deliver(note.pk, alert.created_at) == "failed"  # a stray retry does nothing
    note.refresh_from_db()
    assert note.attempts == notify.MAX_ATTEMPTS


def test_a_staff_account_without_an_email_address_is_a_failed_delivery(
    roster: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    roster[0].email = ""
    roster[0].save()
    alert = raise_alert(ACUTE, django_capture_on_commit_callbacks)
    note = Notification.objects.filter(alert=alert, user=roster[0]).get()
    notify.deliver(note.pk, alert.created_at)
    note.refresh_from_db()
    assert note.last_error == "NoAddress"


# --- webhook --------------------------------------------------------------------------------


def test_the_webhook_posts_signed_json_with_the_link_and_no_patient_data(
    roster: list[Any], smtp: Mailbox, webhook: Receiver, django_capture_on_commit_callbacks: Any
) -> None:
    alert = raise_alert(ACUTE, django_capture_on_commit_callbacks)
    run_queued_tasks()
    (received,) = webhook.requests
    assert received.headers["Content-Type"] == "application/json"
    assert received.json() == {
        "type": "crossline.safety_alert",
        "source": "screen",
        "event": "created",
        "alert": str(alert.public_id),
        "level": "acute",
        "step": 0,
        "due_at": alert.due_at.isoformat(timespec="seconds"),
        "url": f"http://testserver/clinic/alerts/{alert.public_id}/",
    }
    timestamp = received.headers["X-Crossline-Timestamp"]
    expected = notify.signature(webhook.secret, timestamp, received.body)
    assert hmac.compare_digest(received.headers["X-Crossline-Signature"], expected)
    # The documented check, spelled out as a receiver would write it.
    import hashlib

    mac = hmac.new(webhook.secret, f"{timestamp}.".encode() + received.body, hashlib.sha256)
    assert received.headers["X-Crossline-Signature"] == "sha256=" + mac.hexdigest()
    wrong = notify.signature(b"another secret", timestamp, received.body)
    assert not hmac.compare_digest(received.headers["X-Crossline-Signature"], wrong)
    for leak in LEAKS:
        assert leak.lower().encode() not in received.body.lower()
    note = Notification.objects.get(alert=alert, channel="webhook")
    assert received.headers["X-Crossline-Delivery"] == str(note.pk)
    assert (note.status, note.attempts) == ("sent", 1)


def test_a_webhook_500_is_recorded_retried_and_then_delivered(
    roster: list[Any], webhook: Receiver, django_capture_on_commit_callbacks: Any
) -> None:
    webhook.statuses = [500]
    alert = raise_alert(ACUTE, django_capture_on_commit_callbacks)
    note = Notification.objects.get(alert=alert, channel="webhook")
    with django_capture_on_commit_callbacks(execute=True):
        assert notify.deliver(note.pk, alert.created_at) == "retrying"
    note.refresh_from_db()
    assert (note.status, note.attempts, note.last_error) == ("retrying", 1, "HTTPError")
    retry = DBTaskResult.objects.exclude(run_after=get_date_max()).get()
    assert retry.args_kwargs["args"] == [note.pk]
    assert retry.run_after > alert.created_at

    assert notify.deliver(note.pk, alert.created_at) == "sent"
    note.refresh_from_db()
    assert (note.status, note.attempts) == ("sent", 2)
    assert len(webhook.requests) == 2
    first, second = webhook.requests
    assert first.headers["X-Crossline-Delivery"] == second.headers["X-Crossline-Delivery"]


def test_a_redirecting_webhook_counts_as_a_failure(
    roster: list[Any], webhook: Receiver, django_capture_on_commit_callbacks: Any
) -> None:
    webhook.statuses = [302]
    alert = raise_alert(ACUTE, django_capture_on_commit_callbacks)
    note = Notification.objects.get(alert=alert, channel="webhook")
    assert notify.deliver(note.pk, alert.created_at) == "retrying"
    assert len(webhook.requests) == 1


def test_lost_enqueues_are_queued_again_by_the_sweep(roster: list[Any]) -> None:
    """The process stopped between the commit and `on_commit`: nothing was queued."""
    from crossline.care.tasks import requeue_lost

    assessment, _ = submitted(ACUTE)
    contact_me(assessment)  # on_commit callbacks are not run in this test transaction
    alert = Alert.objects.get()
    assert not DBTaskResult.objects.exists()
    assert requeue_lost(alert.created_at + timedelta(minutes=1)) == 0  # still within grace
    assert requeue_lost(alert.created_at + timedelta(minutes=3)) == 2
    assert DBTaskResult.objects.count() == 2
    assert requeue_lost(alert.created_at + timedelta(minutes=4)) == 0


def test_enqueue_marks_notifications_queued(roster: list[Any]) -> None:
    assessment, _ = submitted(ACUTE)
    contact_me(assessment)
    ids = list(Notification.objects.values_list("pk", flat=True))
    enqueue_notifications(ids)
    assert not Notification.objects.filter(queued_at__isnull=True).exists()
