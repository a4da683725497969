"""The urgency queue: acute, then non-acute, then evaluation requests by age; deadlines shown
and overdue ones flagged; filters; pages of 50; a bounded number of queries; nothing decrypted.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from crossline.audit.models import Event
from crossline.clinic.models import Case
from crossline.program.models import ProgramSettings
from tests.clinic.conftest import ACUTE, EMAIL, NAME, NON_ACUTE, PHONE, OpenCase
from tests.web.personas import CANDIDATE

pytestmark = pytest.mark.django_db


def rows(html: str) -> list[str]:
    """The queue's body rows, as text, in order."""
    body = re.split(r"<tbody[^>]*>", html, maxsplit=1)[1].split("</tbody>", 1)[0]
    return [
        re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", r)).strip() for r in body.split("</tr>")[:-1]
    ]


def case_links(html: str) -> list[str]:
    """The case each row opens, in order (not the links of a "same person" marker)."""
    return re.findall(r'href="/clinic/cases/([0-9a-f-]{36})/">Open<', html)


def queue(client: Client, **params: Any) -> str:
    response = client.get("/clinic/", params)
    assert response.status_code == 200
    return response.content.decode()


def test_acute_cases_come_first_then_non_acute_then_evaluation_requests_oldest_first(
    intake: Client, new_case: OpenCase
) -> None:
    now = timezone.now()
    routine_old = new_case(CANDIDATE, at=now - timedelta(days=3))
    routine_new = new_case(CANDIDATE, at=now - timedelta(hours=1))
    non_acute = new_case(NON_ACUTE, kind="contact_me", at=now - timedelta(minutes=5))
    acute = new_case(ACUTE, kind="contact_me", at=now - timedelta(minutes=2))
    order = case_links(queue(intake))
    expected = [acute, non_acute, routine_old, routine_new]
    assert order == [str(c.public_id) for c in expected]


def test_safety_cases_show_their_deadline_from_the_program_settings(
    intake: Client, new_case: OpenCase
) -> None:
    now = timezone.now()
    acute = new_case(ACUTE, kind="contact_me", at=now - timedelta(minutes=10))
    non_acute = new_case(NON_ACUTE, kind="contact_me", at=now - timedelta(hours=1))
    routine = new_case(CANDIDATE, at=now)
    assert acute.due_at == acute.opened_at + timedelta(minutes=30)  # PRODUCT.md defaults
    assert non_acute.due_at == non_acute.opened_at + timedelta(hours=8)
    assert routine.due_at is None
    acute_row, non_acute_row, routine_row = rows(queue(intake))
    assert "acute suicide risk" in acute_row and "left" in acute_row
    assert re.search(r"(19|20) min left", acute_row), acute_row
    assert re.search(r"(6 h 59|7 h 00) min left", non_acute_row), non_acute_row
    assert "left" not in routine_row and "overdue" not in routine_row


def test_a_changed_deadline_applies_to_cases_opened_after_the_change(
    intake: Client, new_case: OpenCase
) -> None:
    program = ProgramSettings.current()
    program.acute_deadline_minutes = 15
    program.save()
    acute = new_case(ACUTE, kind="contact_me")
    assert acute.due_at == acute.opened_at + timedelta(minutes=15)


def test_within_a_safety_level_the_case_due_first_comes_first(
    intake: Client, new_case: OpenCase
) -> None:
    """Deadlines are not always opened_at + one interval: an operator shortens the acute
    deadline, and a case back in the queue after a new request counts from that request. The
    case due first is listed, and taken by "claim next", first."""
    now = timezone.now()
    older = new_case(ACUTE, kind="contact_me", at=now - timedelta(minutes=10))  # due in 20 min
    program = ProgramSettings.current()
    program.acute_deadline_minutes = 15
    program.save()
    newer = new_case(ACUTE, kind="contact_me", at=now - timedelta(minutes=5))  # due in 10 min
    assert newer.due_at is not None and older.due_at is not None
    assert newer.due_at < older.due_at
    assert case_links(queue(intake)) == [str(newer.public_id), str(older.public_id)]
    intake.post("/clinic/claim-next/")
    newer.refresh_from_db()
    assert newer.status == "claimed"


def test_an_overdue_case_is_flagged(intake: Client, new_case: OpenCase) -> None:
    new_case(ACUTE, kind="contact_me", at=timezone.now() - timedelta(minutes=45))
    html = queue(intake)
    assert 'class="overdue-row"' in html and 'class="overdue"' in html
    assert re.search(r"overdue by 1[45] min", rows(html)[0])


def test_by_default_the_queue_shows_open_and_claimed_cases(
    intake: Client, intake_user: User, new_case: OpenCase
) -> None:
    open_, claimed, decided, closed = (new_case() for _ in range(4))
    Case.objects.filter(pk=claimed.pk).update(status="claimed", claimed_by=intake_user)
    Case.objects.filter(pk=decided.pk).update(status="decided")
    Case.objects.filter(pk=closed.pk).update(status="closed")
    shown = set(case_links(queue(intake)))
    assert shown == {str(open_.public_id), str(claimed.public_id)}
    for status, case in [("open", open_), ("claimed", claimed), ("decided", decided)]:
        assert case_links(queue(intake, status=status)) == [str(case.public_id)]
    assert case_links(queue(intake, status="closed")) == [str(closed.public_id)]
    assert len(case_links(queue(intake, status="all"))) == 4


def test_mine_shows_only_the_cases_i_claimed(
    intake: Client, intake_user: User, other_intake_user: User, new_case: OpenCase
) -> None:
    mine, theirs = new_case(), new_case()
    Case.objects.filter(pk=mine.pk).update(status="claimed", claimed_by=intake_user)
    Case.objects.filter(pk=theirs.pk).update(status="claimed", claimed_by=other_intake_user)
    html = queue(intake, status="mine")
    assert case_links(html) == [str(mine.public_id)]
    all_rows = rows(queue(intake))
    assert any("oscar.intake" in r for r in all_rows) and any(" you " in f" {r} " for r in all_rows)


def test_the_state_filter_shows_one_state(intake: Client, new_case: OpenCase) -> None:
    florida = new_case(CANDIDATE)
    jersey = new_case({**CANDIDATE, "profile.state": "NJ"})
    assert case_links(queue(intake, state="NJ")) == [str(jersey.public_id)]
    assert case_links(queue(intake, state="FL")) == [str(florida.public_id)]


def test_an_invalid_filter_says_so_and_shows_the_default_view(
    intake: Client, new_case: OpenCase
) -> None:
    case = new_case()
    html = queue(intake, state="ZZ", status="bogus")
    assert "That filter is not valid" in html
    assert case_links(html) == [str(case.public_id)]


def test_the_queue_shows_no_contact_details_or_answers(intake: Client, new_case: OpenCase) -> None:
    new_case(ACUTE, kind="contact_me")
    html = queue(intake)
    assert NAME not in html and EMAIL not in html
    # the phone, in any of its forms; not "555" alone, which a random UUID can contain
    assert not any(form in html for form in (PHONE, "555-0147", "5550147"))
    assert "sertraline" not in html


def test_reading_the_queue_reads_no_encrypted_column(intake: Client, new_case: OpenCase) -> None:
    new_case(ACUTE, kind="contact_me")
    new_case()
    with CaptureQueriesContext(connection) as queries:
        queue(intake)
    sql = "\n".join(q["sql"] for q in queries.captured_queries)
    # The same-person marker reads the blind-index columns, never the encrypted ones.
    for encrypted in ('."answers"', '."decision"', '."contact"'):
        assert encrypted not in sql


def test_the_queue_is_paginated_by_fifty(intake: Client, new_case: OpenCase) -> None:
    start = timezone.now() - timedelta(days=1)
    for i in range(51):
        new_case(CANDIDATE, at=start + timedelta(minutes=i))
    first = queue(intake)
    assert len(case_links(first)) == 50 and "Page 1 of 2" in first
    second = queue(intake, page=2)
    assert len(case_links(second)) == 1
    oldest_last = Case.objects.order_by("-opened_at").first()
    assert oldest_last is not None and case_links(second) == [str(oldest_last.public_id)]


def test_the_queue_costs_the_same_few_queries_for_3_or_60_cases(
    intake: Client,
    new_case: OpenCase,
    django_assert_max_num_queries: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The program settings are re-read every few seconds; on a slow machine that re-read
    # could land inside one of the counts below.
    monkeypatch.setattr("crossline.program.policy.TTL_SECONDS", 3600.0)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            queue(intake)
        return len(queries.captured_queries)

    queue(intake)  # the session's first workspace page also records when the session started
    for _ in range(3):
        new_case(CANDIDATE)
    queue(intake)  # opening the first case created the program settings: re-read once, cached
    few = count()
    for _ in range(57):
        new_case(ACUTE, kind="contact_me")
    assert count() == few
    # session, user, groups (roles), OTP device; the page of cases, its count and the same
    # person's other open cases (tests/clinic/test_same_person.py); the audit
    # append (head + insert, and the PostgreSQL advisory lock); savepoints.
    with django_assert_max_num_queries(12) as captured:
        queue(intake)
    (page,) = [
        q["sql"]
        for q in captured.captured_queries
        if 'FROM "clinic_case"' in q["sql"] and "COUNT(" not in q["sql"]
    ]
    assert "ORDER BY" in page and "LIMIT 50" in page


def test_viewing_the_queue_is_audited_without_a_patient(intake: Client, new_case: OpenCase) -> None:
    new_case()
    queue(intake, state="FL")
    event = Event.objects.filter(action="queue.viewed").get()
    assert event.patient == "" and event.actor == "ines.intake"
    assert event.detail == {"status": "active", "state": "FL", "page": 1, "same_person": 0}
