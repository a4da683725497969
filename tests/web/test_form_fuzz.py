"""The patient's web pages take whatever is posted: one answer of the adaptive screen, or one
field of the evaluation request or the "contact me" form, changed to any value, dropped or
added. Every answer is a page — the question again naming the problem, the next step, a
refusal — never a server error, and a contact request is stored only when the form was valid."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from hypothesis import given
from hypothesis import strategies as st

from crossline.intake.models import ContactRequest
from tests.forms_fuzz import PAGES, damaged, fuzz, values
from tests.web.test_contact import CANDIDATE, NON_ACUTE, contact_me_form, evaluation_form, submitted
from tests.web.test_flow_smoke import BURNED_OUT

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_rate_limit")]


OK = PAGES | {403, 429}
VALUES = values("refused", "4", "99", "ZZ", "fl", "on")
FUZZ = fuzz(60)


@FUZZ
@given(data=st.data(), at=st.integers(0, len(BURNED_OUT) - 1))
def test_a_damaged_answer_on_any_screen_is_never_a_server_error(data: Any, at: int) -> None:
    client = Client()
    location = client.get(client.post("/check/start").url)["Location"]
    for screen, value in BURNED_OUT[:at]:
        location = client.post(f"/check/q/{screen}/", {screen: value})["Location"]
    screen, value = BURNED_OUT[at]
    response = client.post(f"/check/q/{screen}/", damaged(data.draw, {screen: value}, VALUES))
    assert response.status_code in OK, response.status_code
    assert client.get(location).status_code in OK


@FUZZ
@given(data=st.data(), kind=st.sampled_from(["evaluation", "contact"]))
def test_a_damaged_contact_form_is_never_a_server_error(data: Any, kind: str) -> None:
    answers, valid = (
        (CANDIDATE, evaluation_form()) if kind == "evaluation" else (NON_ACUTE, contact_me_form())
    )
    _, token = submitted(answers, "candidate")
    before = ContactRequest.objects.count()
    sent = damaged(data.draw, valid, VALUES)
    path = "request" if kind == "evaluation" else "contact"
    response = Client().post(f"/r/{token}/{path}", sent)
    assert response.status_code in OK, response.status_code
    if response.status_code != 302:
        assert ContactRequest.objects.count() == before  # nothing partial is stored
