"""The physician's evaluation form takes whatever is posted: one field of a complete form
changed to any value, dropped or added. Every answer is the page (naming what is wrong), the
saved evaluation, or "already decided" — never a server error, and a decision is stored only
when every approval rule held."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from hypothesis import given
from hypothesis import strategies as st

from crossline.evaluation.models import Evaluation
from tests.evaluation.conftest import Screened
from tests.evaluation.test_evaluation import complete
from tests.forms_fuzz import PAGES, damaged, fuzz, values

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_rate_limit")]


VALUES = values("300", "approve", "decline", "2026-02-30")


@fuzz(80)
@given(data=st.data())
def test_a_damaged_evaluation_form_is_never_a_server_error(
    screened: Callable[..., Screened], physician: Client, data: Any
) -> None:
    case = screened()  # each example its own case
    sent = damaged(data.draw, complete(), VALUES)
    response = physician.post(case.url, sent)
    assert response.status_code in PAGES, response.status_code
    for evaluation in Evaluation.objects.filter(status=Evaluation.Status.DECIDED):
        assert evaluation.decision in ("approve", "decline", "refer")
