"""The same person in the queue twice: a person who screens twice and asks twice has two cases.
A row whose e-mail or phone (the keyed blind indexes) is also on another case still open or
claimed says so in words, with a link to that case and who holds it, so two clinicians do not
call one person at once; the record a clinician opens (after "claim next", say) says the same.
Found in one query per page, through the indexed blind-index columns, decrypting nothing."""

from __future__ import annotations

import itertools
import re

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from crossline.audit.models import Event
from crossline.clinic import claims, queue
from crossline.clinic.models import Case
from tests.clinic.conftest import ACUTE, EMAIL, NAME, NON_ACUTE, PHONE, OpenCase
from tests.clinic.test_queue import case_links, rows
from tests.clinic.test_queue import queue as queue_page
from tests.clinic.test_record import page, section

pytestmark = pytest.mark.django_db

OTHER_EMAIL = "someone.else@example.net"
OTHER_PHONE = "(212) 555-0199"


def row_of(html: str, case: Case) -> str:
    """The queue row (as text) whose Open link is this case's."""
    (row,) = [
        r
        for r, link in zip(rows(html), case_links(html), strict=True)
        if link == str(case.public_id)
    ]
    return row


def marker_links(html: str, case: Case) -> list[str]:
    """The cases the row's "same person" marker links to."""
    body = html.split(f'href="/clinic/cases/{case.public_id}/">Open<')[0].rsplit("<tr", 1)[1]
    marker = body.split('class="same-person"', 1)[1] if 'class="same-person"' in body else ""
    return re.findall(r'href="/clinic/cases/([0-9a-f-]{36})/"', marker)


def test_two_open_cases_of_one_person_each_point_to_the_other(
    intake: Client, new_case: OpenCase
) -> None:
    first = new_case(ACUTE, kind="contact_me")
    second = new_case(phone=OTHER_PHONE)  # the same e-mail, another phone
    stranger = new_case(
        NON_ACUTE, kind="contact_me", email=OTHER_EMAIL, phone=OTHER_PHONE[:-1] + "8"
    )
    html = queue_page(intake)
    assert "Same person as 1 other open case:" in row_of(html, first)
    assert marker_links(html, first) == [str(second.public_id)]
    assert marker_links(html, second) == [str(first.public_id)]
    assert "Same person" not in row_of(html, stranger) and marker_links(html, stranger) == []
    assert "not claimed" in row_of(html, first)


def test_a_phone_only_contact_me_is_matched_by_its_phone_and_never_by_a_missing_email(
    intake: Client, new_case: OpenCase
) -> None:
    anonymous = new_case(ACUTE, kind="contact_me", name="", email="")  # phone only
    with_email = new_case(phone=PHONE.replace("(201) ", "201-"))  # the phone, typed otherwise
    other_phone_only = new_case(NON_ACUTE, kind="contact_me", name="", email="", phone=OTHER_PHONE)
    email_only = new_case(email=OTHER_EMAIL, phone="")
    other_email_only = new_case(email="third.person@example.com", phone="")
    html = queue_page(intake)
    assert marker_links(html, anonymous) == [str(with_email.public_id)]
    assert marker_links(html, with_email) == [str(anonymous.public_id)]
    # A blank e-mail (or phone) is no detail at all: two people without one are not one person.
    for case in (other_phone_only, email_only, other_email_only):
        assert marker_links(html, case) == [], case
        assert "Same person" not in row_of(html, case)


def test_only_cases_still_open_or_claimed_count(
    intake: Client, physician_user: User, new_case: OpenCase
) -> None:
    current = new_case(ACUTE, kind="contact_me")
    closed = new_case()
    decided = new_case()
    assert claims.claim(closed.public_id, physician_user).won
    closed.refresh_from_db()
    assert claims.close(closed, physician_user, "duplicate", None, closed.opened_at)
    Case.objects.filter(pk=decided.pk).update(status=Case.Status.DECIDED)
    html = queue_page(intake)
    assert marker_links(html, current) == []
    assert 'class="same-person"' not in html
    # Listed with every status, the closed case points to the open one, not the other way.
    everything = queue_page(intake, status="all")
    assert marker_links(everything, closed) == [str(current.public_id)]
    assert marker_links(everything, current) == []


def test_the_marker_says_who_holds_the_other_case(
    intake: Client, other_intake_user: User, intake_user: User, new_case: OpenCase
) -> None:
    mine, theirs, waiting = new_case(ACUTE, kind="contact_me"), new_case(), new_case()
    assert claims.claim(theirs.public_id, other_intake_user).won
    assert claims.claim(mine.public_id, intake_user).won
    row = row_of(queue_page(intake), waiting)
    assert "Same person as 2 other open cases:" in row
    assert "(claimed by you)" in row and "(claimed by oscar.intake)" in row


def test_a_long_list_shows_three_and_sends_the_rest_to_the_record(
    intake: Client, new_case: OpenCase
) -> None:
    cases = [new_case() for _ in range(5)]
    html = queue_page(intake)
    first = cases[0]
    assert "Same person as 4 other open cases:" in row_of(html, first)
    assert len(marker_links(html, first)) == 3
    assert f'href="/clinic/cases/{first.public_id}/#history-title">1 more</a>' in html


def test_claim_next_on_a_person_another_clinician_holds_says_so_on_the_record(
    intake: Client, other_intake_user: User, new_case: OpenCase
) -> None:
    held = new_case(NON_ACUTE, kind="contact_me")
    assert claims.claim(held.public_id, other_intake_user).won
    asked_again = new_case(ACUTE, kind="contact_me", phone=OTHER_PHONE)  # the same e-mail
    response = intake.post("/clinic/claim-next/", follow=True)
    assert response.redirect_chain[-1][0] == f"/clinic/cases/{asked_again.public_id}/"
    case_card = section(page(intake, asked_again), "case-title")
    note = case_card.split('class="warning same-person"', 1)[1].split("</div>", 1)[0]
    assert "Same person as 1 other open case" in note
    assert f'href="/clinic/cases/{held.public_id}/"' in note and "claimed by oscar.intake" in note
    history = section(page(intake, asked_again), "history-title")
    assert "(claimed by oscar.intake)" in history


def test_a_record_without_another_open_case_has_no_note(intake: Client, new_case: OpenCase) -> None:
    case = new_case(email="only.once@example.com", phone="")
    assert "same-person" not in page(intake, case)


def test_the_marker_shows_no_contact_detail_and_the_view_is_audited_with_a_count(
    intake: Client, new_case: OpenCase
) -> None:
    new_case(ACUTE, kind="contact_me")
    new_case()
    new_case(email=OTHER_EMAIL, phone=OTHER_PHONE)
    html = queue_page(intake)
    assert html.count('class="same-person"') == 2
    assert NAME not in html and EMAIL not in html
    assert not any(form in html for form in (PHONE, "555-0147", "5550147"))
    event = Event.objects.filter(action="queue.viewed").get()
    assert event.patient == ""
    assert event.detail == {"status": "active", "state": "", "page": 1, "same_person": 2}


def test_the_search_for_the_same_person_is_one_query_on_the_blind_index_columns(
    intake_user: User, new_case: OpenCase
) -> None:
    for i in range(6):
        new_case(email=f"person{i % 3}@example.org", phone="" if i % 2 else PHONE)
    page_of = list(queue.cases(intake_user))
    with CaptureQueriesContext(connection) as captured:
        found = queue.same_person(page_of)
    assert len(captured.captured_queries) == 1 and len(found) == 6
    sql = captured.captured_queries[0]["sql"]
    for encrypted in ('."answers"', '."decision"', '."contact"'):
        assert encrypted not in sql
    # Every read of the contact requests goes through an index (by assessment for the page's
    # own; by e-mail or phone blind index, or by assessment from the open cases, for the
    # others): an OR of the two subqueries would read the whole table, or a whole index.
    assert _whole_reads(sql, "intake_contactrequest") == []


def _whole_reads(sql: str, table: str) -> list[str]:
    """The steps of the query's plan that read all of `table` rather than look rows up."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}")
            return [str(row[-1]) for row in cursor.fetchall() if f"SCAN {table}" in str(row[-1])]
        # PostgreSQL reads a table this small whole anyway: ask whether it has to.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}")
        plan = [row[0] for row in cursor.fetchall()] + [""]  # the last step has a next
    return [
        step
        for step, detail in itertools.pairwise(plan)
        if re.search(rf"Scan .*on {table}\b", step)
        and not re.search(r"(Index|Recheck) Cond", detail)
    ]
