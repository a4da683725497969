"""Finding a person's cases by the e-mail or phone they gave (the keyed blind indexes): a POST,
so the search is in no URL; audited as a search, never with what was searched for."""

from __future__ import annotations

import logging

import pytest
from django.test import Client

from crossline.audit.models import Event
from tests.clinic.conftest import EMAIL, NAME, PHONE, open_case

pytestmark = pytest.mark.django_db


def find(client: Client, contact: str) -> str:
    response = client.post("/clinic/find/", {"contact": contact})
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize(
    "typed",
    [EMAIL, f"  {EMAIL.upper()} ", PHONE, "201-555-0147", "+1 201 555 0147", "2015550147"],
)
def test_a_person_is_found_by_their_email_or_phone_however_it_is_typed(
    intake: Client, typed: str
) -> None:
    theirs = [open_case(), open_case()]
    someone_else = open_case(email="other@example.org", phone="(973) 555-0100")
    html = find(intake, typed)
    for case in theirs:
        assert f"/clinic/cases/{case.public_id}/" in html
    assert str(someone_else.public_id) not in html
    assert "2 cases of this person, newest first." in html
    assert html.index(str(theirs[1].public_id)) < html.index(str(theirs[0].public_id))
    assert NAME not in html  # the list shows no contact details; the record does


def test_the_search_is_audited_without_what_was_searched_for(
    physician: Client, caplog: pytest.LogCaptureFixture
) -> None:
    open_case()
    with caplog.at_level(logging.DEBUG):
        find(physician, EMAIL)
        find(physician, "nobody@example.org")
    events = Event.objects.filter(action="case.searched").order_by("seq")
    assert [e.detail for e in events] == [{"by": "email", "found": 1}, {"by": "email", "found": 0}]
    stored = " ".join(f"{e.detail} {e.object_id} {e.patient}" for e in Event.objects.all())
    assert "example.org" not in stored and "example.org" not in caplog.text


def test_nothing_found_says_what_cannot_be_searched(intake: Client) -> None:
    html = find(intake, "(973) 555-0199")
    assert "No case has that phone number" in html and "a name cannot be searched" in html


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("zephyrine@", "Enter a whole e-mail address"),
        ("555-0147", "10 digits"),
        (NAME, "10 digits"),  # a name is not a phone number: nothing is searched
        ("", "This field is required"),
    ],
)
def test_what_is_not_an_email_or_a_phone_is_refused(
    intake: Client, typed: str, message: str
) -> None:
    open_case()
    html = find(intake, typed)
    assert message in html and 'aria-invalid="true"' in html
    assert "/clinic/cases/" not in html
    assert not Event.objects.filter(action="case.searched").exists()


def test_the_page_opens_empty_and_operators_may_not_search(
    intake: Client, operator: Client
) -> None:
    page = intake.get("/clinic/find/").content.decode()
    assert 'name="contact"' in page and "<table" not in page
    assert operator.post("/clinic/find/", {"contact": EMAIL}).status_code == 403
