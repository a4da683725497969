"""The staff's visit proposal takes whatever is posted: one field changed to any value,
dropped or added. Every answer is a page naming the problem or the proposed visit — never a
server error."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.visits.conftest import in_days, make_patient, proposal

pytestmark = pytest.mark.django_db

OK = {200, 302, 400, 409, 422}
VALUES = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["9999-12-31", "0001-01-01", "", "0", "-1", "24:00", "23:59", "99999"]),
    st.sampled_from(["America/New_York", "Mars/Olympus", "UTC", "yes", "no"]),
    st.integers(-(10**12), 10**12).map(str),
    st.lists(st.text(max_size=6), max_size=3),
)
FUZZ = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
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
@given(data=st.data())
def test_a_damaged_visit_proposal_is_never_a_server_error(staff: Client, data: Any) -> None:
    patient = make_patient()
    url = f"/clinic/cases/{patient.case.public_id}/visit/"
    response = staff.post(url, damaged(data.draw, proposal(in_days(5))))
    assert response.status_code in OK, response.status_code
