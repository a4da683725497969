"""Every form on every staff page — read from the page itself, damaged in one place — is
answered with a page (the form again naming the field, the next step, a refusal, "not found"),
never a server error. A net under the hand-written form property tests of each area: a form
added to a page is covered here without touching this file.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.forms_fuzz import PAGES, Form, damaged, forms_on, fuzz, values
from tests.security.test_authorization_matrix import (  # noqa: F401
    OPERATOR,
    STAFF,
    World,
    _client,
    world,
)

pytestmark = pytest.mark.django_db

# Besides PAGES: 403 (a form of another role's on a shared page), 404 (a record another
# example closed or removed), 405 (a link-styled form to a GET-only page), 429 (too many wrong
# passwords or codes on the account page).
ANSWERS = PAGES | {403, 404, 405, 429}
STAFF_VALUES = values("on", "FL", "2026-11-29", "12:00", "120", "80", "confirmed", "cleared")


def _role(url: str, roles: frozenset[str]) -> str:
    """The role that may use everything on a page: the physician on clinical pages (an intake
    clinician's pages and a physician's own), the operator on the operator's. The account page
    (wrong passwords and codes, rate limited) is the intake clinician's, so its refusals do
    not hold up the physician's examples."""
    if url.startswith("/clinic/account/"):
        return "intake"
    return "operator" if roles == OPERATOR else "physician"


@pytest.fixture
def staff_forms(world: World) -> dict[str, tuple[str, Form]]:  # noqa: F811
    """Every POST form on every staff page, as shown before any example ran (the examples change
    the records, and what hypothesis draws must not depend on them): "page #n" → (role, form)."""
    found: dict[str, tuple[str, Form]] = {}
    for route, (method, roles) in sorted(STAFF.items()):
        url = world.url(route)
        if method != "GET" or url is None or url.endswith(".json"):
            continue
        role = _role(url, roles)
        page = _client(role).get(url)
        if page.status_code != 200:  # e.g. a new course for a case not approved: a refusal
            continue
        for n, form in enumerate(forms_on(page.content.decode())):
            if form.action in ("/clinic/sign-out/",):
                continue  # signing out ends the examples' session, not a form to damage
            form.action = form.action or url
            found[f"{url} #{n}"] = (role, form)
    assert len(found) > 12, sorted(found)  # the harness reads the pages' forms
    return found


@fuzz(600)
@given(data=st.data())
def test_any_staff_form_damaged_in_one_place_is_a_page(
    staff_forms: dict[str, tuple[str, Form]], data: st.DataObject
) -> None:
    key = data.draw(st.sampled_from(sorted(staff_forms)))
    role, form = staff_forms[key]
    anything = st.one_of(STAFF_VALUES, st.sampled_from(sorted(form.choices) or [""]))
    sent = damaged(data.draw, form.fields, anything)
    response = _client(role).post(form.action, sent)
    assert response.status_code in ANSWERS, (key, form.action, response.status_code)
