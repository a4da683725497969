"""Reopening a closed case: any clinician reopens it with a reason (the person got in touch
again, or it was closed by mistake); it comes back claimed by them — or decided, when its
evaluation was — and the reopening is audited. Closing and reopening leave the history in the
audit log."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

from crossline.audit.models import Event
from crossline.clinic.models import Case
from tests.clinic.conftest import EMAIL, OpenCase
from tests.clinic.test_claims import claim
from tests.clinic.test_close import close

pytestmark = pytest.mark.django_db


def reopen(client: Client, case: Case, reason: str = "got_in_touch") -> str:
    response = client.post(
        f"/clinic/cases/{case.public_id}/reopen/", {"reason": reason}, follow=True
    )
    assert response.status_code == 200
    return response.content.decode()


def test_a_clinician_reopens_a_closed_case_and_holds_it(
    intake: Client, other_intake: Client, new_case: OpenCase
) -> None:
    case = new_case()
    claim(intake, case)
    close(intake, case, "unreachable")
    page = other_intake.get(f"/clinic/cases/{case.public_id}/").content.decode()
    assert "Could not be reached after repeated attempts" in page  # why it was closed
    assert "Reopen the case" in page and "Close the case" not in page
    html = reopen(other_intake, case)
    assert "The case is open again, and you hold it." in html
    case.refresh_from_db()
    assert case.status == "claimed" and case.claimed_by is not None
    assert case.claimed_by.username == "oscar.intake"  # whoever reopened it holds it
    assert (case.close_reason, case.closed_at) == ("", None)
    event = Event.objects.get(action="case.reopened")
    assert event.patient == str(case.public_id)
    assert event.detail == {"reason": "got_in_touch", "status": "claimed"}
    history = Event.objects.filter(patient=str(case.public_id), action__startswith="case.")
    assert list(history.order_by("seq").values_list("action", flat=True)) == [
        "case.claimed", "case.closed", "case.reopened",
    ]  # fmt: skip
    assert "Close the case" in html and "Reopen the case" not in html


def test_a_case_whose_evaluation_was_decided_reopens_as_decided(
    physician: Client, physician_user: User, new_case: OpenCase
) -> None:
    from tests.course.conftest import approve

    case = new_case()
    approve(case, physician_user)
    close(physician, case, "contacted")
    assert "The case is open again." in reopen(physician, case, "closed_in_error")
    case.refresh_from_db()
    assert case.status == "decided"
    assert Event.objects.get(action="case.reopened").detail == {
        "reason": "closed_in_error",
        "status": "decided",
    }


def test_a_reason_is_required_and_only_a_closed_case_reopens(
    intake: Client, new_case: OpenCase
) -> None:
    case = new_case()
    claim(intake, case)
    assert "The case is not closed." in reopen(intake, case)
    close(intake, case)
    assert "Choose why the case is reopened." in reopen(intake, case, "because")
    assert "Choose why the case is reopened." in reopen(intake, case, "")
    case.refresh_from_db()
    assert case.status == "closed"
    assert not Event.objects.filter(action="case.reopened").exists()


def test_operators_and_strangers_cannot_reopen(
    intake: Client, operator: Client, new_case: OpenCase
) -> None:
    case = new_case()
    claim(intake, case)
    close(intake, case)
    url = f"/clinic/cases/{case.public_id}/reopen/"
    assert operator.post(url, {"reason": "got_in_touch"}).status_code == 403
    stranger = Client().post(url, {"reason": "got_in_touch"})
    assert stranger.status_code == 302 and stranger["Location"].startswith("/clinic/sign-in/")
    assert intake.get(url).status_code == 405
    case.refresh_from_db()
    assert case.status == "closed"


def test_the_record_shows_the_case_history_from_the_audit_log(
    intake: Client, other_intake: Client, new_case: OpenCase
) -> None:
    case = new_case()
    claim(intake, case)
    close(intake, case, "unreachable")
    reopen(other_intake, case)
    page = other_intake.get(f"/clinic/cases/{case.public_id}/").content.decode()
    history = page.split('id="case-history-title"')[1].split("</section>")[0]
    rows = [
        ("Claimed", "ines.intake"),
        ("Closed: Could not be reached after repeated attempts", "ines.intake"),
        ("Reopened: The person got in touch again", "oscar.intake"),
    ]
    at = 0
    for what, who in rows:  # in order, each with who did it
        at = history.index(f"<td>{what}</td><td>{who}</td>", at)
    for leak in (EMAIL, "Zephyrine"):
        assert leak not in history


def test_a_new_request_on_a_closed_cases_screen_brings_it_back_to_the_queue(
    physician: Client, physician_user: User
) -> None:
    """The person asked for an evaluation, the case was closed, and later they press "ask a
    clinician to contact me" on the same result page: that request must reach the queue, with
    a fresh deadline, not be filed silently on a closed case no one looks at."""
    from django.utils import timezone

    from crossline.care.models import Alert
    from tests.web.test_contact import NON_ACUTE, contact_me_form, evaluation_form, submitted

    _, token = submitted(NON_ACUTE, "candidate")
    assert Client().post(f"/r/{token}/request", evaluation_form()).status_code == 302
    case = Case.objects.get()
    Alert.objects.filter(case=case).update(
        acknowledged_at=timezone.now(), acknowledged_by=physician_user
    )
    claim(physician, case)
    close(physician, case, "withdrawn")

    assert Client().post(f"/r/{token}/contact", contact_me_form()).status_code == 302
    case.refresh_from_db()
    assert (case.status, case.close_reason, case.closed_at) == ("open", "", None)
    assert case.claimed_by is None and case.contact_requested
    assert case.due_at is not None and case.due_at > timezone.now()  # not born overdue
    event = Event.objects.get(action="case.reopened")
    assert event.actor == "anonymous"
    assert event.detail == {"reason": "got_in_touch", "status": "open"}
    queue = physician.get("/clinic/").content.decode()
    assert str(case.public_id) in queue
