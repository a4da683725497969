"""The operator's admin — program settings, the on-call roster, consent texts, record holds,
accounts — takes any form and any list query: the form again naming the field, the saved
change, or a refusal; never a server error.

The forms are read from the pages themselves (every input, select and textarea with the value
the page shows), so a field added to an admin form is fuzzed without touching this file.
"""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

import pytest
from django.test import Client
from hypothesis import given
from hypothesis import strategies as st

from tests.forms_fuzz import PAGES, damaged, fuzz, values
from tests.security.test_authorization_matrix import World, _client, world  # noqa: F401

pytestmark = pytest.mark.django_db


class _Form(HTMLParser):
    """The fields of the page's model form (the admin's `<form id="<model>_form">`; not the
    header's sign-out form), as a browser would submit them untouched."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, Any] = {}
        self._inside = self._done = False
        self._select: str | None = None
        self._first_option: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and not self._done and a.get("method", "").lower() == "post":
            self._inside = a.get("id", "").endswith("_form")
        if not self._inside:
            return
        name = a.get("name")
        if tag == "input" and name and a.get("type") not in ("submit", "button", "file"):
            if a.get("type") in ("checkbox", "radio"):
                if "checked" in a:
                    self._add(name, a.get("value", "on"))
            else:
                self._add(name, a.get("value", ""))
        elif tag == "select" and name:
            self._select, self._first_option = name, None
        elif tag == "option" and self._select is not None:
            if self._first_option is None:
                self._first_option = a.get("value", "")
            if "selected" in a:
                self._add(self._select, a.get("value", ""))
        elif tag == "textarea" and name:
            self._textarea = name
            self.fields[name] = ""

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self.fields[self._textarea] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "select" and self._select is not None:
            if self._select not in self.fields and self._first_option is not None:
                self.fields[self._select] = self._first_option
            self._select = None
        elif tag == "textarea":
            self._textarea = None
        elif tag == "form" and self._inside:
            self._inside, self._done = False, True

    def _add(self, name: str, value: str) -> None:
        if name in self.fields:  # a multiple select or a group of checkboxes
            old = self.fields[name]
            self.fields[name] = [*old, value] if isinstance(old, list) else [old, value]
        else:
            self.fields[name] = value


def form_on(client: Client, url: str) -> dict[str, Any]:
    page = client.get(url)
    assert page.status_code == 200, (url, page.status_code)
    parser = _Form()
    parser.feed(page.content.decode())
    assert len(parser.fields) > 1, f"no model form on {url}"  # more than the CSRF token
    return parser.fields


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
