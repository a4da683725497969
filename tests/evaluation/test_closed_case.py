"""A closed case is read-only: its evaluation is neither saved nor decided until a clinician
reopens the case, with a reason, on the applicant record."""

from __future__ import annotations

import pytest
from django.test import Client

from crossline.audit.models import Event
from crossline.clinic.models import Case
from crossline.evaluation.models import Evaluation, Letter
from tests.evaluation.conftest import Screened
from tests.evaluation.test_evaluation import NOTE, REASON, complete, html

pytestmark = pytest.mark.django_db


def close(client: Client, screened: Screened) -> None:
    url = f"/clinic/cases/{screened.case.public_id}/close/"
    assert client.post(url, {"reason": "contacted"}).status_code == 302
    screened.case.refresh_from_db()
    assert screened.case.status == Case.Status.CLOSED


def reopen(client: Client, screened: Screened) -> None:
    url = f"/clinic/cases/{screened.case.public_id}/reopen/"
    assert client.post(url, {"reason": "got_in_touch"}).status_code == 302
    screened.case.refresh_from_db()


def test_deciding_on_a_closed_case_is_refused_and_issues_no_letter(
    candidate: Screened, physician: Client
) -> None:
    close(physician, candidate)
    refused = physician.post(candidate.url, complete(decision="decline", decline_reason=REASON))
    assert refused.status_code == 409
    assert "This case is closed" in html(refused) and "Nothing was saved" in html(refused)
    assert not Evaluation.objects.exists() and not Letter.objects.exists()
    assert not Event.objects.filter(action__startswith="evaluation.").exists()
    assert not Event.objects.filter(action="letter.issued").exists()
    candidate.case.refresh_from_db()
    assert candidate.case.status == Case.Status.CLOSED  # not turned back into "decided"


def test_a_draft_on_a_closed_case_is_read_only_until_the_case_is_reopened(
    candidate: Screened, physician: Client
) -> None:
    assert physician.post(candidate.url, complete(action="save")).status_code == 302
    close(physician, candidate)
    page = html(physician.get(candidate.url))
    assert "This case is closed" in page and "Reopen the case on the applicant record" in page
    assert 'name="action"' not in page and "disabled" in page

    changed = complete(action="save", diagnosis_note="Overwritten after closing")
    assert physician.post(candidate.url, changed).status_code == 409
    assert Evaluation.objects.get().content["diagnosis"]["note"] == NOTE
    assert len(Event.objects.filter(action="evaluation.saved")) == 1

    reopen(physician, candidate)
    assert candidate.case.status == Case.Status.CLAIMED
    version = str(Evaluation.objects.get().version)
    assert physician.post(candidate.url, complete(version=version)).status_code == 302
    candidate.case.refresh_from_db()
    assert candidate.case.status == Case.Status.DECIDED


def test_a_case_closed_after_the_page_was_read_is_not_written_to(
    candidate: Screened, physician: Client
) -> None:
    """The view read the case open; it was closed before the save took the case's lock."""
    from django.contrib.auth import get_user_model
    from django.test import RequestFactory

    from crossline.evaluation.record import CaseClosed, save

    stale = Case.objects.get(pk=candidate.case.pk)
    close(physician, candidate)
    request = RequestFactory().post(candidate.url)
    request.user = get_user_model().objects.get(username="dr.house")
    content = {"decision": {"kind": "decline", "reason": REASON, "where": ""}}
    with pytest.raises(CaseClosed):
        save(request, stale, content, decide=True, seen=0)
    assert not Evaluation.objects.exists() and not Letter.objects.exists()
    candidate.case.refresh_from_db()
    assert candidate.case.status == Case.Status.CLOSED
