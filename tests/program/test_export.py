"""The screens export: operators only; counts by UTC day, result, safety level and state from
the plain columns and retention's aggregate counts; a bad period is refused naming the field;
each download audited; nothing identifying in the file."""

from __future__ import annotations

import csv
import datetime as dt
import io
import secrets
from collections.abc import Callable

import pytest
from django.test import Client

from crossline.audit.models import Event
from crossline.intake import retention
from crossline.intake.models import AggregateCount, Assessment, ContactRequest

pytestmark = pytest.mark.django_db

URL = "/clinic/program/export/"
UTC = dt.UTC


def screen(at: dt.datetime, eligibility: str = "", safety: str = "", state: str = "") -> None:
    a = Assessment.objects.create(
        token_hash=secrets.token_hex(32),
        answers={},
        eligibility=eligibility,
        safety_level=safety,
        state=state,
    )
    Assessment.objects.filter(pk=a.pk).update(created_at=at)


def rows(response: object) -> list[dict[str, str]]:
    body = b"".join(response.streaming_content) if response.streaming else response.content  # type: ignore[attr-defined]
    return list(csv.DictReader(io.StringIO(body.decode())))


def test_only_verified_operators(client_as: Callable[..., Client]) -> None:
    assert Client().get(URL).status_code == 302
    for role in ("intake", "physician"):
        assert client_as(role).get(URL).status_code == 403
        assert (
            client_as(role).get(URL, {"start": "2026-11-01", "end": "2026-11-02"}).status_code
            == 403
        )
    assert not Event.objects.filter(action="program.screens_exported").exists()
    page = client_as("operator").get(URL)
    assert page.status_code == 200
    assert b'type="date" name="start"' in page.content


def test_counts_by_day_result_safety_and_state_stored_and_purged(operator_client: Client) -> None:
    day = dt.datetime(2026, 11, 2, tzinfo=UTC)
    screen(day.replace(hour=0), "candidate", "none", "FL")
    screen(day.replace(hour=23, minute=59, second=59), "candidate", "none", "FL")
    screen(day.replace(hour=12), "not_indicated", "non_acute", "NJ")
    screen(day.replace(hour=13))  # started, never submitted
    screen(day - dt.timedelta(seconds=1), "candidate", "none", "FL")  # 1 November: outside
    screen(day + dt.timedelta(days=2), "candidate", "none", "FL")  # 4 November: outside
    AggregateCount.objects.create(
        day=dt.date(2026, 11, 2), eligibility="candidate", safety_level="none", state="FL", count=3
    )
    AggregateCount.objects.create(
        day=dt.date(2026, 11, 3), eligibility="safety_first", safety_level="acute", state="TX",
        count=1,
    )  # fmt: skip
    response = operator_client.get(URL, {"start": "2026-11-02", "end": "2026-11-03"})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        'attachment; filename="crossline-screens-20261102-20261103.csv"'
    )
    assert rows(response) == [
        {"day": "2026-11-02", "result": "not_indicated", "safety_level": "non_acute",
         "state": "NJ", "stored": "1", "purged": "0", "total": "1"},
        {"day": "2026-11-02", "result": "candidate", "safety_level": "none", "state": "FL",
         "stored": "2", "purged": "3", "total": "5"},
        {"day": "2026-11-02", "result": "not_submitted", "safety_level": "not_screened",
         "state": "", "stored": "1", "purged": "0", "total": "1"},
        {"day": "2026-11-03", "result": "safety_first", "safety_level": "acute", "state": "TX",
         "stored": "0", "purged": "1", "total": "1"},
    ]  # fmt: skip
    event = Event.objects.get(action="program.screens_exported")
    assert event.actor == "olive.operator"
    assert event.detail == {"start": "2026-11-02", "end": "2026-11-03", "rows": 4}


def test_a_period_reads_the_same_after_retention_deletes_its_anonymous_screens(
    operator_client: Client,
) -> None:
    started = dt.datetime(2026, 6, 1, 9, tzinfo=UTC)
    for state in ("FL", "FL", "NJ"):
        screen(started, "not_indicated", "none", state)
    period = {"start": "2026-06-01", "end": "2026-06-01"}
    before = rows(operator_client.get(URL, period))
    purged = retention.purge_anonymous(dt.datetime(2026, 11, 28, tzinfo=UTC), 90)
    assert purged.deleted == 3 and not Assessment.objects.exists()
    after = rows(operator_client.get(URL, period))
    assert [(r["state"], r["total"]) for r in before] == [("FL", "2"), ("NJ", "1")]
    assert [(r["state"], r["stored"], r["purged"], r["total"]) for r in after] == [
        ("FL", "0", "2", "2"),
        ("NJ", "0", "1", "1"),
    ]


@pytest.mark.parametrize(
    ("period", "field", "message"),
    [
        ({"start": "2026-11-05", "end": "2026-11-01"}, "end", "before the first day"),
        ({"start": "2025-01-01", "end": "2026-01-02"}, "end", "At most 366 days"),
        ({"start": "1 November", "end": "2026-11-01"}, "start", "Enter a valid date"),
        ({"end": "2026-11-01"}, "start", "This field is required"),
    ],
)
def test_a_bad_period_is_refused_naming_the_field_and_nothing_is_audited(
    operator_client: Client, period: dict[str, str], field: str, message: str
) -> None:
    response = operator_client.get(URL, period)
    assert response.status_code == 400
    html = response.content.decode()
    assert f'id="id_{field}-error"' in html and message in html
    assert f'aria-describedby="id_{field}-error"' in html
    assert f'<a href="#id_{field}">' in html  # the summary at the top links to the field
    assert not Event.objects.filter(action="program.screens_exported").exists()


def test_the_file_holds_no_contact_details_or_links(operator_client: Client) -> None:
    screen(dt.datetime(2026, 11, 20, 10, tzinfo=UTC), "candidate", "none", "FL")
    a = Assessment.objects.get()
    ContactRequest.objects.create(
        assessment=a,
        kind="evaluation",
        contact={"name": "Zephyrine Quillfeather", "email": "zq@example.org"},
        consent_to_contact=True,
        consent_version="t",
    )
    body = operator_client.get(URL, {"start": "2026-11-20", "end": "2026-11-20"}).content
    assert b"Quillfeather" not in body and b"example.org" not in body
    assert a.token_hash.encode() not in body and str(a.public_id).encode() not in body
    assert body.count(b"\r\n") == 2  # the header and one row
