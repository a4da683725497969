"""The physician's evaluation form takes whatever is posted: one field of a complete form
changed to any value, dropped or added. Every answer is the page (naming what is wrong), the
saved evaluation, or "already decided" — never a server error, and a decision is stored only
when every approval rule held."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crossline.evaluation.models import Evaluation
from tests.evaluation.conftest import Screened
from tests.evaluation.test_evaluation import complete

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_submit_limit(settings: Any) -> None:
    """Every example submits a new screen from the same test client address."""
    settings.CROSSLINE = replace(settings.CROSSLINE, rate_limit_per_minute=10**6)


OK = {200, 302, 400, 409, 422}
VALUES = st.one_of(
    st.text(max_size=12),
    st.sampled_from(
        [
            "9999-12-31",
            "0001-01-01",
            "",
            "0",
            "-1",
            "300",
            "1e9",
            "yes",
            "no",
            "approve",
            "decline",
            "2026-02-30",
        ]
    ),
    st.integers(-(10**12), 10**12).map(str),
    st.lists(st.text(max_size=6), max_size=3),
)


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_a_damaged_evaluation_form_is_never_a_server_error(
    screened: Callable[..., Screened], physician: Client, data: Any
) -> None:
    case = screened()  # each example its own case
    sent = dict(complete())
    field = data.draw(st.sampled_from(sorted(sent)))
    how = data.draw(st.sampled_from(["change", "drop", "add"]))
    if how == "drop":
        del sent[field]
    elif how == "add":
        sent[data.draw(st.text(min_size=1, max_size=10))] = data.draw(VALUES)
    else:
        sent[field] = data.draw(VALUES)
    response = physician.post(case.url, sent)
    assert response.status_code in OK, response.status_code
    for evaluation in Evaluation.objects.filter(status=Evaluation.Status.DECIDED):
        assert evaluation.decision in ("approve", "decline", "refer")
