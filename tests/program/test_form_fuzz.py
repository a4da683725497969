"""The operator's query pages — the audit search (and its CSV export) and the screens export —
take any query string: a page naming what is wrong, or the result; never a server error."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.django_db

VALUES = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["", "2026-11-29", "2026-02-30", "0001-01-01", "9999-12-31", "csv", "-1", "0"]),
    st.integers(-(10**12), 10**12).map(str),
)
QUERIES = st.dictionaries(
    st.sampled_from(
        ["patient", "actor", "action", "since", "until", "format", "page", "start", "end"]
    )
    | st.text(max_size=6),
    VALUES,
    max_size=5,
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(query=QUERIES, path=st.sampled_from(["/clinic/audit/", "/clinic/program/export/"]))
def test_any_query_is_a_page_never_a_server_error(
    operator_client: Client, query: dict[str, Any], path: str
) -> None:
    response = operator_client.get(path, query)
    assert response.status_code in (200, 400, 422), response.status_code


@pytest.mark.parametrize(
    ("path", "query", "field"),
    [
        ("/clinic/audit/", {"until": "9999-12-31"}, "until"),
        ("/clinic/audit/", {"since": "1999-12-31"}, "since"),
        ("/clinic/program/export/", {"start": "9999-12-31", "end": "9999-12-31"}, "end"),
    ],
)
def test_a_day_with_no_day_after_it_is_refused_naming_the_field(
    operator_client: Client, path: str, query: dict[str, str], field: str
) -> None:
    """9999-12-31 has no next day: it was a server error (the period's exclusive end)."""
    response = operator_client.get(path, query)
    assert response.status_code in (200, 400)
    page = response.content.decode()
    assert "Enter a day between 2000-01-01 and 2999-12-31." in page
    assert f'id="id_{field}"' in page or f'name="{field}"' in page
