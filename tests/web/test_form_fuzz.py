"""The patient's web pages take whatever is posted: one answer of the adaptive screen, or one
field of the evaluation request or the "contact me" form, changed to any value, dropped or
added. Every answer is a page — the question again naming the problem, the next step, a
refusal — never a server error, and a contact request is stored only when the form was valid."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crossline.intake.models import ContactRequest
from tests.web.test_contact import CANDIDATE, NON_ACUTE, contact_me_form, evaluation_form, submitted
from tests.web.test_flow_smoke import BURNED_OUT

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_start_limit(settings: Any) -> None:
    """Every example starts a new screen from the same test client address."""
    settings.CROSSLINE = replace(settings.CROSSLINE, rate_limit_per_minute=10**6)


OK = {200, 302, 400, 403, 409, 422, 429}
VALUES = st.one_of(
    st.text(max_size=12),
    st.sampled_from(
        [
            "9999-12-31",
            "0001-01-01",
            "",
            "0",
            "-1",
            "4",
            "99",
            "yes",
            "unsure",
            "refused",
            "ZZ",
            "fl",
            "on",
        ]
    ),
    st.integers(-(10**12), 10**12).map(str),
    st.lists(st.text(max_size=6), max_size=3),
)
FUZZ = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def damaged(draw: Any, valid: dict[str, Any]) -> dict[str, Any]:
    sent = dict(valid)
    field = draw(st.sampled_from(sorted(sent)))
    how = draw(st.sampled_from(["change", "drop", "add"]))
    if how == "drop":
        del sent[field]
    elif how == "add":
        sent[draw(st.text(min_size=1, max_size=10))] = draw(VALUES)
    else:
        sent[field] = draw(VALUES)
    return sent


@FUZZ
@given(data=st.data(), at=st.integers(0, len(BURNED_OUT) - 1))
def test_a_damaged_answer_on_any_screen_is_never_a_server_error(data: Any, at: int) -> None:
    client = Client()
    location = client.get(client.post("/check/start").url)["Location"]
    for screen, value in BURNED_OUT[:at]:
        location = client.post(f"/check/q/{screen}/", {screen: value})["Location"]
    screen, value = BURNED_OUT[at]
    response = client.post(f"/check/q/{screen}/", damaged(data.draw, {screen: value}))
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
    sent = damaged(data.draw, valid)
    path = "request" if kind == "evaluation" else "contact"
    response = Client().post(f"/r/{token}/{path}", sent)
    assert response.status_code in OK, response.status_code
    if response.status_code != 302:
        assert ContactRequest.objects.count() == before  # nothing partial is stored
