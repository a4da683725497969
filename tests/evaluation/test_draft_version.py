"""Two tabs (or two clinicians) on one draft: each form carries the version it was loaded at,
and a save against a draft changed since then is refused, naming who changed it and when,
with the entries kept on the page — nothing is overwritten silently."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from crossline.audit.models import Event
from crossline.clinic.models import Case
from crossline.evaluation.models import Evaluation, Letter
from tests.evaluation.conftest import Screened
from tests.evaluation.test_evaluation import NOTE, REASON, complete, html

pytestmark = pytest.mark.django_db


def loaded_version(client: Client, screened: Screened) -> str:
    """The version the page's form carries (what a tab opened now would send back)."""
    found = re.search(r'name="version" value="(\d+)"', html(client.get(screened.url)))
    assert found is not None
    return found.group(1)


def test_a_save_from_a_tab_opened_before_another_save_is_refused(
    candidate: Screened, physician: Client
) -> None:
    tab_a = tab_b = loaded_version(physician, candidate)
    assert tab_a == "0"

    a = physician.post(candidate.url, complete(action="save", version=tab_a))
    assert a.status_code == 302
    b = physician.post(
        candidate.url,
        complete(action="save", version=tab_b, diagnosis_note="", bp_systolic="141"),
    )
    assert b.status_code == 409
    page = html(b)
    assert "This evaluation was changed since you opened it" in page
    assert "Nothing was saved" in page and "dr.house" in page
    assert 'value="141"' in page  # tab B's entries are still on its page
    saved = Evaluation.objects.get()
    assert saved.content["diagnosis"]["note"] == NOTE  # tab A's note survives
    assert saved.content["vitals"]["bp_systolic"] == 128
    assert len(Event.objects.filter(action="evaluation.saved")) == 1

    # Having seen the conflict, tab B saves again on purpose: its page now carries the version.
    again = re.search(r'name="version" value="(\d+)"', page)
    assert again is not None and again.group(1) == str(saved.version)
    resaved = physician.post(
        candidate.url,
        complete(action="save", version=again.group(1), bp_systolic="141"),
    )
    assert resaved.status_code == 302
    assert Evaluation.objects.get().content["vitals"]["bp_systolic"] == 141


def test_two_clinicians_one_draft_the_later_stale_save_is_refused(
    candidate: Screened, intake: Client, physician: Client
) -> None:
    assert intake.post(candidate.url, complete(action="save")).status_code == 302
    seen = loaded_version(physician, candidate)
    nurse_seen = loaded_version(intake, candidate)
    assert (
        intake.post(
            candidate.url, complete(action="save", version=nurse_seen, pulse="90")
        ).status_code
        == 302
    )
    stale = physician.post(
        candidate.url, complete(decision="decline", decline_reason=REASON, version=seen)
    )
    assert stale.status_code == 409 and "nurse.joy" in html(stale)
    evaluation = Evaluation.objects.get()
    assert (
        evaluation.status == Evaluation.Status.DRAFT and evaluation.content["vitals"]["pulse"] == 90
    )
    assert not Letter.objects.exists()
    candidate.case.refresh_from_db()
    assert candidate.case.status != Case.Status.DECIDED


@pytest.mark.parametrize("version", ["²", "-1", "1" * 5000, "99"])
def test_a_tampered_version_is_a_conflict_not_an_error(
    candidate: Screened, physician: Client, version: str
) -> None:
    assert physician.post(candidate.url, complete(action="save")).status_code == 302
    response = physician.post(candidate.url, complete(action="save", version=version))
    assert response.status_code == 409
    assert Evaluation.objects.get().version == 1


def test_each_save_moves_the_version_on(candidate: Screened, physician: Client) -> None:
    assert physician.post(candidate.url, complete(action="save")).status_code == 302
    assert loaded_version(physician, candidate) == "1"
    assert physician.post(candidate.url, complete(action="save", version="1")).status_code == 302
    assert physician.post(candidate.url, complete(version="2")).status_code == 302
    assert Evaluation.objects.get().version == 3
