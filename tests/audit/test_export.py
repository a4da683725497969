"""The audit log as a CSV file: the search's own filters (patient, actor, action, period),
oldest first, operators only, capped, safe to open in a spreadsheet, and itself audited."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import uuid

import pytest
from django.http import HttpResponseBase
from django.test import Client

from crossline.audit import Action, record
from crossline.audit import views as audit_views
from crossline.audit.models import Event
from tests.staff import signed_in, staff_user

pytestmark = pytest.mark.django_db

URL = "/clinic/audit/"
PATIENT = str(uuid.uuid4())
OTHER = str(uuid.uuid4())


@pytest.fixture
def operator() -> Client:
    return signed_in(staff_user("olive.operator", "operator"))


def rows(response: HttpResponseBase) -> list[dict[str, str]]:
    body = b"".join(response.streaming_content)  # type: ignore[attr-defined]
    return list(csv.DictReader(io.StringIO(body.decode())))


def at(day: int, hour: int = 12) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, tzinfo=dt.UTC)


def events_on_three_days() -> None:
    """Recorded now, then dated (the log is append-only: the dates are set the way a test
    database allows, before the rows are read)."""
    for day, patient, action in (
        (2, PATIENT, Action.RECORD_VIEWED),
        (3, OTHER, Action.RECORD_VIEWED),
        (4, PATIENT, Action.CASE_CLAIMED),
    ):
        e = record(action, actor="=cmd|' /C calc'!A0", patient=patient, detail={"d": day})
        _redate(e.seq, at(day))


def _redate(seq: int, when: dt.datetime) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE audit_event DISABLE TRIGGER audit_event_append_only")
        else:
            cursor.execute("DROP TRIGGER IF EXISTS audit_event_no_update")
        cursor.execute("UPDATE audit_event SET at = %s WHERE seq = %s", [when, seq])
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE audit_event ENABLE TRIGGER audit_event_append_only")


def test_one_patients_events_in_a_period_oldest_first(operator: Client) -> None:
    events_on_three_days()
    response = operator.get(
        URL, {"patient": PATIENT, "since": "2026-11-02", "until": "2026-11-04", "format": "csv"}
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv"
    assert response["Content-Disposition"].startswith('attachment; filename="crossline-audit-')
    got = rows(response)
    assert [(r["at"], r["action"], r["patient"]) for r in got] == [
        ("2026-11-02T12:00:00+00:00", "record.viewed", PATIENT),
        ("2026-11-04T12:00:00+00:00", "case.claimed", PATIENT),
    ]
    assert json.loads(got[0]["detail"]) == {"d": 2}
    # A value a spreadsheet would run as a formula is quoted.
    assert got[0]["actor"] == "'=cmd|' /C calc'!A0"
    # The export is itself audited: who, which criteria (not the patient), how many rows.
    exported = Event.objects.get(action="audit.exported")
    assert exported.actor == "olive.operator"
    assert exported.detail == {
        "by_patient": True, "by_actor": False, "action": None,
        "since": "2026-11-02", "until": "2026-11-04", "rows": 2,
    }  # fmt: skip
    assert PATIENT not in json.dumps(exported.detail)


def test_the_period_bounds_are_whole_utc_days(operator: Client) -> None:
    events_on_three_days()
    one_day = {"since": "2026-11-03", "until": "2026-11-03", "format": "csv"}
    assert [r["patient"] for r in rows(operator.get(URL, one_day))] == [OTHER]
    page = operator.get(URL, {"since": "2026-11-04"})
    assert page.status_code == 200 and "case.claimed" in page.content.decode()
    assert "record.viewed" not in page.content.decode().split("<tbody>")[1]


def test_a_bad_period_is_refused_naming_the_field_and_nothing_is_exported(
    operator: Client,
) -> None:
    bad = operator.get(URL, {"since": "2026-11-05", "until": "2026-11-01", "format": "csv"})
    assert bad.status_code == 400
    html = bad.content.decode()
    assert 'id="id_until_error"' in html and "before the first day" in html
    assert 'aria-describedby="id_until_error"' in html
    assert '<a href="#id_until">To (UTC date): The last day is before' in html  # the summary
    assert operator.get(URL, {"since": "yesterday"}).status_code == 400
    assert not Event.objects.filter(action="audit.exported").exists()


def test_each_field_in_error_is_described_by_its_message_and_listed_at_the_top(
    operator: Client,
) -> None:
    """A text field's error was id="id_patient-error" while Django's input pointed at
    "id_patient_error": a screen reader announced no message for it."""
    bad = operator.get(URL, {"patient": "Jane Doe", "since": "2026-02-30"})
    assert bad.status_code == 400
    html = bad.content.decode()
    for field in ("patient", "since"):
        assert f'aria-describedby="id_{field}_error"' in html
        assert f'id="id_{field}_error"' in html
        assert f'<a href="#id_{field}">' in html
    assert "Nothing was saved" not in html


def test_past_the_cap_the_download_is_refused_with_the_count(
    operator: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    events_on_three_days()
    monkeypatch.setattr(audit_views, "MAX_EXPORT_ROWS", 2)
    refused = operator.get(URL, {"format": "csv"})
    assert refused.status_code == 400
    assert "3 events match: at most 2 can be downloaded at once" in refused.content.decode()
    assert not Event.objects.filter(action="audit.exported").exists()
    allowed = operator.get(URL, {"patient": PATIENT, "format": "csv"})
    assert allowed.status_code == 200 and len(rows(allowed)) == 2


def test_only_operators_download(operator: Client) -> None:
    physician = signed_in(staff_user("pat.physician", "physician"))
    assert physician.get(URL, {"format": "csv"}).status_code == 403
    assert Client().get(URL, {"format": "csv"}).status_code == 302
    assert not Event.objects.filter(action="audit.exported").exists()
