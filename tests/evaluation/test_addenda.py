"""Addenda: a decided evaluation is final, and a clinician corrects or completes it by adding a
note — in order, with who and when, encrypted at rest, audited — that changes neither the
decision nor a letter already issued."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test import Client

from crossline.evaluation.models import Addendum, Evaluation, Letter
from tests.evaluation.conftest import Screened
from tests.evaluation.test_evaluation import REASON, complete, events, html

pytestmark = pytest.mark.django_db

CORRECTION = "Correction: the Quillfeather clinic letter dated 3 Nov confirms a 10-week trial."
LATER = "Spoke with the patient by phone on 29 Nov; no change in risk."


def addenda_url(case: Screened) -> str:
    return case.url + "addenda/"


def test_a_clinician_adds_addenda_to_a_decided_evaluation_in_order(
    candidate: Screened, physician: Client, intake: Client
) -> None:
    assert physician.post(candidate.url, complete()).status_code == 302
    response = physician.post(addenda_url(candidate), {"text": CORRECTION})
    assert response.status_code == 302 and response["Location"] == candidate.url
    assert intake.post(addenda_url(candidate), {"text": LATER}).status_code == 302
    stored = list(Addendum.objects.order_by("created_at", "pk"))
    assert [a.text["text"] for a in stored] == [CORRECTION, LATER]
    assert [a.author.get_username() for a in stored] == ["dr.house", "nurse.joy"]
    page = html(physician.get(candidate.url))
    assert page.index(CORRECTION) < page.index(LATER)
    assert '<a href="#addenda-title">2 addenda</a>' in page
    assert "Addendum added." in page  # the physician's message, shown on their next page
    evaluation = Evaluation.objects.get()
    assert evaluation.decision == "approve" and evaluation.status == Evaluation.Status.DECIDED


def test_an_addendum_is_audited_encrypted_and_leaves_the_letter_alone(
    candidate: Screened, physician: Client
) -> None:
    decline = complete(decision="decline", decline_reason=REASON)
    assert physician.post(candidate.url, decline).status_code == 302
    letter_before = Letter.objects.get().text
    assert physician.post(addenda_url(candidate), {"text": CORRECTION}).status_code == 302
    assert Letter.objects.get().text == letter_before
    (event,) = events("evaluation.amended")
    addendum = Addendum.objects.get()
    assert event.detail == {"addendum": addendum.pk}
    assert event.patient == str(candidate.case.public_id) and event.actor == "dr.house"
    assert "Quillfeather" not in json.dumps([e.detail for e in events("evaluation.amended")])
    with connection.cursor() as cursor:
        cursor.execute("SELECT text FROM evaluation_addendum")
        (raw,) = cursor.fetchone()
    assert b"Quillfeather" not in bytes(raw)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "Write the addendum (it cannot be empty)."),
        ("   \n ", "Write the addendum (it cannot be empty)."),
        ("x" * 4001, "at most 4000 characters"),
    ],
    ids=["empty", "blank", "too-long"],
)
def test_bad_input_names_the_field_and_stores_nothing(
    candidate: Screened, physician: Client, text: str, message: str
) -> None:
    assert physician.post(candidate.url, complete()).status_code == 302
    response = physician.post(addenda_url(candidate), {"text": text})
    assert response.status_code == 422
    page = html(response)
    assert message in page and 'id="addendum_text_error"' in page
    assert 'aria-describedby="addendum_text_error addendum_text_helptext"' in page
    assert not Addendum.objects.exists() and not events("evaluation.amended")


def test_a_draft_or_missing_evaluation_takes_no_addendum(
    candidate: Screened, physician: Client
) -> None:
    response = physician.post(addenda_url(candidate), {"text": CORRECTION})  # nothing yet
    assert response.status_code == 409
    physician.post(candidate.url, complete(action="save"))  # a draft: edit it instead
    response = physician.post(addenda_url(candidate), {"text": CORRECTION})
    assert response.status_code == 409 and b"edit the draft" in response.content
    assert not Addendum.objects.exists() and not events("evaluation.amended")
    assert 'id="addenda-title"' not in html(physician.get(candidate.url))


def test_operators_and_strangers_cannot_add_one(
    candidate: Screened, physician: Client, operator: Client
) -> None:
    assert physician.post(candidate.url, complete()).status_code == 302
    assert operator.post(addenda_url(candidate), {"text": CORRECTION}).status_code == 403
    stranger = Client().post(addenda_url(candidate), {"text": CORRECTION})
    assert stranger.status_code == 302 and stranger["Location"].startswith("/clinic/sign-in/")
    assert physician.get(addenda_url(candidate)).status_code == 405  # POST only
    assert not Addendum.objects.exists()
