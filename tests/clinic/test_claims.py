"""Claiming: one clinician per case; "claim next" takes the most urgent open case; release
puts a case back (by its claimer or a physician); every claim and release is audited."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from crossline.audit.models import Event
from crossline.clinic import claims
from crossline.clinic.models import Case
from tests.clinic.conftest import ACUTE, NON_ACUTE, OpenCase
from tests.web.personas import CANDIDATE

pytestmark = pytest.mark.django_db


def claim(client: Client, case: Case) -> str:
    response = client.post(f"/clinic/cases/{case.public_id}/claim/", follow=True)
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == f"/clinic/cases/{case.public_id}/"
    return response.content.decode()


def test_a_clinician_claims_an_open_case(
    intake: Client, intake_user: User, new_case: OpenCase
) -> None:
    case = new_case()
    html = claim(intake, case)
    assert "You have claimed this case." in html
    case.refresh_from_db()
    assert case.status == "claimed" and case.claimed_by == intake_user
    assert case.claimed_at is not None
    assert "Record the evaluation" in html and "Release to the queue" in html
    event = Event.objects.get(action="case.claimed")
    assert event.patient == str(case.public_id) and event.actor == "ines.intake"
    assert event.detail == {"how": "direct", "urgency": 2}


def test_a_claimed_case_cannot_be_claimed_by_another_clinician(
    intake: Client, other_intake: Client, intake_user: User, new_case: OpenCase
) -> None:
    case = new_case()
    claim(intake, case)
    html = claim(other_intake, case)
    assert "Another clinician has already claimed this case." in html
    case.refresh_from_db()
    assert case.claimed_by == intake_user
    assert Event.objects.filter(action="case.claimed").count() == 1


def test_another_clinician_sees_who_has_it_and_reads_the_record_only(
    intake: Client, other_intake: Client, new_case: OpenCase
) -> None:
    case = new_case()
    claim(intake, case)
    html = other_intake.get(f"/clinic/cases/{case.public_id}/").content.decode()
    assert "ines.intake has claimed this case" in html
    assert "only they record its evaluation" in html
    assert "Claim this case" not in html and "Release to the queue" not in html
    assert "Record the evaluation" not in html and "View the evaluation" in html


def test_claiming_again_the_case_you_hold_changes_nothing(
    intake: Client, new_case: OpenCase
) -> None:
    case = new_case()
    claim(intake, case)
    assert "You already hold this case." in claim(intake, case)
    assert Event.objects.filter(action="case.claimed").count() == 1


def test_a_decided_case_cannot_be_claimed(intake: Client, new_case: OpenCase) -> None:
    case = new_case()
    Case.objects.filter(pk=case.pk).update(status="decided")
    assert "no longer open" in claim(intake, case)
    case.refresh_from_db()
    assert case.status == "decided" and case.claimed_by is None


def test_claim_next_takes_the_most_urgent_open_case_and_skips_claimed_ones(
    intake: Client, other_intake_user: User, intake_user: User, new_case: OpenCase
) -> None:
    now = timezone.now()
    routine = new_case(CANDIDATE, at=now - timedelta(days=2))
    non_acute = new_case(NON_ACUTE, kind="contact_me", at=now - timedelta(hours=1))
    acute = new_case(ACUTE, kind="contact_me", at=now)
    Case.objects.filter(pk=acute.pk).update(status="claimed", claimed_by=other_intake_user)
    order = []
    for _ in range(2):
        response = intake.post("/clinic/claim-next/")
        assert response.status_code == 302
        order.append(response["Location"])
    assert order == [f"/clinic/cases/{c.public_id}/" for c in (non_acute, routine)]
    assert Case.objects.filter(claimed_by=intake_user).count() == 2
    assert list(
        Event.objects.filter(action="case.claimed").values_list("detail__how", flat=True)
    ) == ["next", "next"]
    response = intake.post("/clinic/claim-next/", follow=True)
    assert "There is no open case to claim." in response.content.decode()


def test_claim_next_can_stay_in_one_state(intake: Client, new_case: OpenCase) -> None:
    now = timezone.now()
    new_case(CANDIDATE, at=now - timedelta(days=1))
    jersey = new_case({**CANDIDATE, "profile.state": "NJ"}, at=now)
    response = intake.post("/clinic/claim-next/", {"state": "NJ"})
    assert response["Location"] == f"/clinic/cases/{jersey.public_id}/"


def test_the_claimer_releases_a_case_back_to_the_queue(intake: Client, new_case: OpenCase) -> None:
    case = new_case()
    claim(intake, case)
    response = intake.post(f"/clinic/cases/{case.public_id}/release/", follow=True)
    assert "The case is back in the queue." in response.content.decode()
    case.refresh_from_db()
    assert case.status == "open" and case.claimed_by is None and case.claimed_at is None
    event = Event.objects.get(action="case.released")
    assert event.patient == str(case.public_id) and event.detail == {"by": "claimer"}


def test_a_physician_may_release_another_clinicians_case(
    intake: Client, physician: Client, new_case: OpenCase
) -> None:
    case = new_case()
    claim(intake, case)
    html = physician.get(f"/clinic/cases/{case.public_id}/").content.decode()
    assert "Release to the queue" in html
    physician.post(f"/clinic/cases/{case.public_id}/release/")
    case.refresh_from_db()
    assert case.status == "open"
    assert Event.objects.get(action="case.released").detail == {"by": "physician"}


def test_another_intake_clinician_may_not_release_it(
    intake: Client, other_intake: Client, intake_user: User, new_case: OpenCase
) -> None:
    case = new_case()
    claim(intake, case)
    response = other_intake.post(f"/clinic/cases/{case.public_id}/release/")
    assert response.status_code == 403
    case.refresh_from_db()
    assert case.status == "claimed" and case.claimed_by == intake_user
    assert not Event.objects.filter(action="case.released").exists()
    denied = Event.objects.get(action="permission.denied")
    assert denied.patient == str(case.public_id) and denied.actor == "oscar.intake"


def test_claiming_and_releasing_need_a_post(intake: Client, new_case: OpenCase) -> None:
    case = new_case()
    for url in (
        f"/clinic/cases/{case.public_id}/claim/",
        f"/clinic/cases/{case.public_id}/release/",
        "/clinic/claim-next/",
    ):
        assert intake.get(url).status_code == 405
    case.refresh_from_db()
    assert case.status == "open"


def test_the_functions_report_who_won(
    intake_user: User, other_intake_user: User, new_case: OpenCase
) -> None:
    case = new_case()
    first = claims.claim(case.public_id, intake_user)
    second = claims.claim(case.public_id, other_intake_user)
    assert first.won and not second.won and second.reason == "claimed"
    assert second.case is not None and second.case.claimed_by == intake_user
    assert claims.holds(second.case, intake_user)
    assert not claims.holds(second.case, other_intake_user)
    assert claims.release(second.case, intake_user)
    assert not claims.release(second.case, intake_user)  # released already: nothing to do
