"""The alerts list's summary, which the page polls to say when the open alerts changed.

It holds a count and a fingerprint — no patient data, nothing to audit — for clinicians only,
is never cached, and does not count as activity: an unattended list is signed out after the
idle limit like any other page.
"""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from django.test import Client

from crossline.accounts.middleware import SEEN
from crossline.audit.models import Event
from crossline.care.models import Alert
from tests.care.support import ACUTE, LEAKS, NON_ACUTE, contact_me, on_call, staff, submitted
from tests.staff import signed_in

pytestmark = pytest.mark.django_db
SUMMARY = "/clinic/alerts/summary.json"


def raise_one(answers: dict[str, Any]) -> None:
    assessment, _ = submitted(answers)
    contact_me(assessment)


def page_state(client: Client) -> tuple[str, int]:
    html = client.get("/clinic/alerts/").content.decode()
    watch = re.search(r'<div id="alerts-watch"[^>]*>', html)
    assert watch is not None
    fingerprint = re.search(r'data-fingerprint="([0-9a-f]+)"', watch.group(0))
    opened = re.search(r'data-open="(\d+)"', watch.group(0))
    assert fingerprint and opened
    return fingerprint.group(1), int(opened.group(1))


def test_the_summary_matches_the_page_until_the_open_alerts_change() -> None:
    on_call(staff("ada", "physician"))
    raise_one(NON_ACUTE)
    client = signed_in(staff("nurse", "intake"))
    fingerprint, opened = page_state(client)
    response = client.get(SUMMARY)
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    summary = response.json()
    assert (summary["open"], summary["fingerprint"]) == (1, fingerprint)
    assert abs(summary["now"] - time.time()) < 5  # the server's clock, for the countdown
    assert opened == 1

    raise_one(ACUTE)  # a new alert
    new = client.get(SUMMARY).json()
    assert new["open"] == 2 and new["fingerprint"] != fingerprint
    assert page_state(client) == (new["fingerprint"], 2)

    acute = Alert.objects.order_by("due_at").first()  # the acute one is due first
    assert acute is not None
    client.post(f"/clinic/alerts/{acute.public_id}/acknowledge/")  # someone took it
    # The open alerts are those of the first page again: a page showing them is current.
    after = client.get(SUMMARY).json()
    assert (after["open"], after["fingerprint"]) == (1, fingerprint)


def test_an_escalation_step_changes_the_fingerprint() -> None:
    on_call(staff("ada", "physician"))
    raise_one(ACUTE)
    client = signed_in(staff("nurse", "intake"))
    before = client.get(SUMMARY).json()["fingerprint"]
    Alert.objects.update(step=1)
    assert client.get(SUMMARY).json()["fingerprint"] != before


def test_the_summary_holds_no_patient_data_and_is_not_an_audit_event() -> None:
    on_call(staff("ada", "physician"))
    raise_one(ACUTE)
    client = signed_in(staff("nurse", "intake"))
    events = Event.objects.count()
    body = client.get(SUMMARY).content.decode()
    assert set(client.get(SUMMARY).json()) == {"open", "fingerprint", "now"}
    for leak in LEAKS:
        assert leak not in body
    assert str(Alert.objects.get().public_id) not in body
    assert Event.objects.count() == events


@pytest.mark.parametrize(
    ("who", "status"),
    [("anonymous", 302), ("operator", 403)],
)
def test_only_clinicians_get_the_summary(who: str, status: int) -> None:
    client = Client() if who == "anonymous" else signed_in(staff("olga", "operator"))
    response = client.get(SUMMARY)
    assert response.status_code == status
    if status == 302:
        assert response["Location"].startswith("/clinic/sign-in/")


def test_polling_does_not_keep_an_unattended_session_alive(settings: Any) -> None:
    client = signed_in(staff("nurse", "intake"))
    client.get("/clinic/alerts/")  # the page: activity
    session = client.session
    session[SEEN] = time.time() - 25 * 60  # the clinician walked away 25 minutes ago
    session.save()
    seen = client.session[SEEN]
    assert client.get(SUMMARY).status_code == 200  # polls keep coming …
    assert client.session[SEEN] == seen  # … and are not activity
    session = client.session
    session[SEEN] = time.time() - 31 * 60  # past the 30-minute idle limit
    session.save()
    response = client.get(SUMMARY)
    assert response.status_code == 302  # signed out: the page then says so and stops
    assert response["Location"].startswith("/clinic/sign-in/")
    assert Event.objects.filter(action="session.expired").exists()
