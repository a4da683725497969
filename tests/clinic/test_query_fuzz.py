"""Staff pages that read their query string — the queue's filters and pages, the sign-in's
`next`, the admin's "new consent version from …" — answer any query with a page, never a
server error."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.django_db

VALUES = st.one_of(
    st.text(max_size=14),
    st.sampled_from(["", "0", "-1", "last", "open", "mine", "all", "FL", "zz", "//evil.example"]),
    st.integers(-(10**25), 10**25).map(str),
)
FUZZ = settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@FUZZ
@given(
    query=st.dictionaries(
        st.sampled_from(["status", "state", "page"]) | st.text(max_size=5), VALUES, max_size=4
    )
)
def test_any_queue_query_is_a_page(intake: Client, query: dict[str, Any]) -> None:
    assert intake.get("/clinic/", query).status_code == 200


@FUZZ
@given(next_url=VALUES)
def test_any_next_after_sign_in_is_a_page(next_url: str) -> None:
    response = Client().get("/clinic/sign-in/", {"next": next_url})
    assert response.status_code == 200


@FUZZ
@given(copy_of=VALUES)
def test_any_copy_of_in_the_consent_admin_is_a_page(operator: Client, copy_of: str) -> None:
    response = operator.get("/admin/program/consenttext/add/", {"copy_of": copy_of})
    assert response.status_code == 200


@pytest.mark.parametrize("copy_of", ["¹", "9" * 25, "٣"])
def test_a_copy_of_that_is_no_id_opens_an_empty_form(operator: Client, copy_of: str) -> None:
    """Unicode digits ("¹" was a server error) and numbers too big for the column (another)."""
    response = operator.get("/admin/program/consenttext/add/", {"copy_of": copy_of})
    assert response.status_code == 200
