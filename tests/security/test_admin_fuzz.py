"""The operator's admin — program settings, the on-call roster, consent texts, record holds,
accounts — takes any form and any list query: the form again naming the field, the saved
change, or a refusal; never a server error.

The forms are read from the pages themselves (every input, select and textarea with the value
the page shows), so a field added to an admin form is fuzzed without touching this file.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.forms_fuzz import PAGES, damaged, form_on, fuzz, values
from tests.security.test_authorization_matrix import World, _client, world  # noqa: F401

pytestmark = pytest.mark.django_db


def _pages(w: World) -> list[str]:
    return [
        f"/admin/program/programsettings/{w.settings_id}/change/",
        "/admin/program/oncallentry/add/",
        f"/admin/program/oncallentry/{w.roster_id}/change/",
        "/admin/program/consenttext/add/",
        f"/admin/program/consenttext/{w.consent_id}/change/",
        "/admin/clinic/recordhold/add/",
        f"/admin/auth/user/{w.user_id}/change/",
    ]


def test_every_admin_form_is_read_and_submits_unchanged(world: World) -> None:  # noqa: F811
    """The harness itself: each page's form as shown is a form the admin takes back (saved, or
    refused naming a field, as an add form with blank required fields is)."""
    operator = _client("operator")
    for url in _pages(world):
        sent = form_on(operator, url)
        assert operator.post(url, sent).status_code in PAGES, url


ADMIN_VALUES = values("on", "FL", "NJ", "ZZ", "2026-11-29", "12:00", "a@b.c", "1", "2", "3")


@pytest.fixture
def admin_forms(world: World) -> dict[str, dict[str, Any]]:  # noqa: F811
    """Each page's form as it was before any example ran (the examples change the records, and
    what hypothesis draws must not depend on them)."""
    operator = _client("operator")
    return {url: form_on(operator, url) for url in _pages(world)}


@fuzz(400)
@given(data=st.data())
def test_any_admin_form_damaged_in_one_place_is_a_page(
    admin_forms: dict[str, dict[str, Any]], data: st.DataObject
) -> None:
    url = data.draw(st.sampled_from(sorted(admin_forms)))
    sent = damaged(data.draw, admin_forms[url], ADMIN_VALUES)
    response = _client("operator").post(url, sent)
    assert response.status_code in PAGES, (url, response.status_code)


LISTS = [
    "/admin/program/oncallentry/",
    "/admin/program/consenttext/",
    "/admin/clinic/recordhold/",
    "/admin/auth/user/",
    "/admin/program/programsettings/",
]


@fuzz(300)
@given(
    path=st.sampled_from(LISTS),
    query=st.dictionaries(
        st.sampled_from(["q", "o", "p", "all", "e", "_changelist_filters", "is_active__exact"])
        | st.text(min_size=1, max_size=8),
        values("-1", "1.2", "0.-1", "__", "pk__gt"),
        max_size=3,
    ),
)
def test_any_admin_list_query_is_a_page(
    world: World,  # noqa: F811
    path: str,
    query: dict[str, Any],
) -> None:
    response = _client("operator").get(path, query)
    assert response.status_code in PAGES, (path, query, response.status_code)
