"""The alerts pages: for intake clinicians and physicians with MFA verified; operators get 403
(recorded), anonymous visitors the sign-in page, unknown alerts 404. No PHI on the pages."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from crossline.audit.models import Event
from crossline.care.alerts import escalate_due
from crossline.care.models import Alert, Notification
from tests.care.support import ACUTE, LEAKS, NON_ACUTE, contact_me, on_call, staff, submitted
from tests.staff import signed_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def alerts() -> list[Alert]:
    on_call(staff("ada", "physician"))
    for answers in (NON_ACUTE, ACUTE):
        assessment, _ = submitted(answers)
        contact_me(assessment)
    return list(Alert.objects.order_by("due_at"))


def urls(alert: Alert) -> list[str]:
    return ["/clinic/alerts/", f"/clinic/alerts/{alert.public_id}/"]


@pytest.mark.parametrize("role", ["intake", "physician"])
def test_clinicians_see_the_list_open_first_by_deadline(alerts: list[Alert], role: str) -> None:
    client = signed_in(staff("nurse", role))
    html = client.get("/clinic/alerts/").content.decode()
    acute, non_acute = alerts  # the acute one is due first
    assert html.index(str(acute.public_id)) < html.index(str(non_acute.public_id))
    assert "min left" in html
    for leak in LEAKS:
        assert leak not in html


def test_without_javascript_the_list_says_how_fresh_it_is(alerts: list[Alert]) -> None:
    """The list updates itself only with JavaScript (alerts.js): without it, the page says
    when it was drawn and offers a reload."""
    html = signed_in(staff("nurse", "intake")).get("/clinic/alerts/").content.decode()
    notice = html.split('id="alerts-static">')[1].split("</p>")[0]
    assert "does not update by itself" in notice
    assert '<a href="/clinic/alerts/">reload it</a>' in notice
    assert "<time datetime=" in notice


def test_the_list_shows_overdue_and_who_acknowledged(alerts: list[Alert]) -> None:
    acute, non_acute = alerts
    Alert.objects.filter(pk=acute.pk).update(due_at=timezone.now() - timedelta(minutes=5))
    client = signed_in(staff("nurse", "intake"))
    client.post(f"/clinic/alerts/{non_acute.public_id}/acknowledge/")
    html = client.get("/clinic/alerts/").content.decode()
    assert "overdue by 5 min" in html or "overdue by 4 min" in html
    done = html.split('id="done-alerts"')[1]
    assert str(non_acute.public_id) in done and "Dr Nurse" in done


def test_the_alert_page_links_the_case_and_shows_deliveries(alerts: list[Alert]) -> None:
    acute = alerts[0]
    note = Notification.objects.filter(alert=acute, user__isnull=False).get()
    Notification.objects.filter(pk=note.pk).update(
        status="sent", attempts=1, sent_at=timezone.now()
    )
    escalate_due(acute.created_at + timedelta(minutes=10))
    client = signed_in(staff("nurse", "intake"))
    html = client.get(f"/clinic/alerts/{acute.public_id}/").content.decode()
    assert f'href="/clinic/cases/{acute.case.public_id}/"' in html
    assert "e-mail to Dr Ada" in html and "e-mailed at" in html
    assert "Escalated (step 1)" in html
    assert 'action="/clinic/alerts/' in html and "Acknowledge" in html
    for leak in LEAKS:
        assert leak not in html


def test_operators_are_refused_and_the_refusal_is_recorded(alerts: list[Alert]) -> None:
    client = signed_in(staff("op", "operator"))
    for url in urls(alerts[0]):
        assert client.get(url).status_code == 403
    assert client.post(f"/clinic/alerts/{alerts[0].public_id}/acknowledge/").status_code == 403
    assert Event.objects.filter(action="permission.denied").count() == 3
    alerts[0].refresh_from_db()
    assert alerts[0].acknowledged_at is None


def test_anonymous_visitors_go_to_sign_in(alerts: list[Alert]) -> None:
    for url in urls(alerts[0]):
        response = Client().get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/clinic/sign-in/?next=")


def test_a_clinician_without_verified_mfa_goes_to_the_second_step(alerts: list[Alert]) -> None:
    client = Client()
    client.force_login(staff("nurse", "intake"))
    for url in urls(alerts[0]):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"] == "/clinic/verify/"


def test_an_unknown_alert_is_404(alerts: list[Alert]) -> None:
    client = signed_in(staff("nurse", "intake"))
    assert client.get(f"/clinic/alerts/{uuid.uuid4()}/").status_code == 404
    response = client.post(f"/clinic/alerts/{uuid.uuid4()}/acknowledge/")
    assert response.status_code == 404
    assert client.get("/clinic/alerts/not-a-uuid/").status_code == 404


def test_an_empty_roster_is_pointed_out_on_the_alert_page(alerts: Any) -> None:
    from crossline.program.models import OnCallEntry

    OnCallEntry.objects.all().delete()
    client = signed_in(staff("nurse", "intake"))
    html = client.get(f"/clinic/alerts/{alerts[0].public_id}/").content.decode()
    assert "Nobody is on the on-call roster" in html
