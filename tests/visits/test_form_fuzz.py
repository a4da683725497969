"""The staff's visit proposal takes whatever is posted: one field changed to any value,
dropped or added. Every answer is a page naming the problem or the proposed visit — never a
server error."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from hypothesis import given
from hypothesis import strategies as st

from tests.forms_fuzz import PAGES, damaged, fuzz, values
from tests.visits.conftest import in_days, make_patient, proposal

pytestmark = pytest.mark.django_db

VALUES = values("24:00", "23:59", "America/New_York", "Mars/Olympus", "UTC")
FUZZ = fuzz(150)


@FUZZ
@given(data=st.data())
def test_a_damaged_visit_proposal_is_never_a_server_error(staff: Client, data: Any) -> None:
    patient = make_patient()
    url = f"/clinic/cases/{patient.case.public_id}/visit/"
    response = staff.post(url, damaged(data.draw, proposal(in_days(5)), VALUES))
    assert response.status_code in PAGES, response.status_code
