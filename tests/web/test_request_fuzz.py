"""Every public page takes whatever a browser, a proxy or a crawler sends with a GET: any query
string, any Accept-Language, Accept or Cookie header (the language and session cookies
included). Each is a page or a refusal — never a server error."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from hypothesis import given
from hypothesis import strategies as st

from crossline.accounts.roles import Role
from tests.course.conftest import Planned, approve, plan, schedule, sign
from tests.forms_fuzz import fuzz
from tests.staff import staff_user
from tests.visits.conftest import make_patient

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_rate_limit")]

# Header text as WSGI hands it over (ISO-8859-1), mostly from what these headers are made of.
HEADER = st.one_of(
    st.text(st.characters(min_codepoint=32, max_codepoint=255), max_size=40),
    st.text(st.sampled_from("enes-_;q=0.9,*ABCZ19 /+\"'\\"), max_size=40),
    st.sampled_from(["es;q=0", "*", "es-419", "zz", "es;q=1e999", "en;q=-1", ";;", "q=0.5"]),
)
QUERY = st.dictionaries(
    st.sampled_from(["lang", "next", "changed", "page", "_format", "_language", "q", "x"])
    | st.text(max_size=6),
    st.text(max_size=12) | st.lists(st.text(max_size=4), max_size=3),
    max_size=3,
)
COOKIES = st.dictionaries(
    st.sampled_from(["django_language", "sessionid", "csrftoken", "crossline_session"]),
    st.text(
        st.characters(min_codepoint=33, max_codepoint=126, exclude_characters=';," \\'), max_size=40
    ),
    max_size=3,
)


@pytest.fixture
def links() -> dict[str, str]:
    """A patient's private links: result (with a planned, signed course), a session's check-in
    and the first weekly questionnaire."""
    physician = staff_user("fuzz-physician", Role.PHYSICIAN)
    patient = make_patient()
    approve(patient.case, physician)
    course = plan(patient.case, physician, patient.token)
    p = Planned(course, patient.case, patient.token, physician)
    sign(p)
    _, session = schedule(p)
    weekly = course.weeklies.order_by("number").first()
    assert weekly is not None
    return {"token": patient.token, "session": session, "weekly": str(weekly.token)}


PAGES = [
    "/",
    "/check/",
    "/crisis/",
    "/learn/",
    "/r/{token}/",
    "/r/{token}/print",
    "/r/{token}/course/",
    "/r/{token}/letter/",
    "/r/{token}/visit/",
    "/r/not-a-token/",
    "/s/{session}/",
    "/w/{weekly}/",
    "/api/v1/docs",
    "/api/v1/openapi.json",
    "/fhir/r4/metadata",
    "/fhir/r4/Questionnaire/crossline-assessment",
    "/cds-services",
    "/healthz",
    "/clinic/sign-in/",
    "/clinic/",  # to the sign-in page
]


@fuzz(400)
@given(
    page=st.sampled_from(PAGES),
    query=QUERY,
    language=HEADER,
    accept=HEADER,
    cookies=COOKIES,
)
def test_any_get_is_a_page_or_a_refusal(
    links: dict[str, str],
    page: str,
    query: dict[str, Any],
    language: str,
    accept: str,
    cookies: dict[str, str],
) -> None:
    client = Client(HTTP_ACCEPT_LANGUAGE=language, HTTP_ACCEPT=accept)
    for name, value in cookies.items():
        client.cookies[name] = value
    response = client.get(page.format(**links), query)
    assert response.status_code < 500, (response.status_code, page, query, language, accept)


def test_the_pages_tried_are_real_pages(links: dict[str, str]) -> None:
    """Without any damage each page answers as a page (so the property above reaches the
    views, not only the 404 of a link that does not exist)."""
    statuses = {page: Client().get(page.format(**links)).status_code for page in PAGES}
    others = {
        "/check/": 302,  # no screen begun: to the start
        "/clinic/": 302,  # to the sign-in page
        "/r/not-a-token/": 404,
        "/r/{token}/letter/": 404,  # an approved course has no letter (the view still runs)
    }
    assert statuses == {page: others.get(page, 200) for page in PAGES}
