"""The audit chain: typed appends in the caller's transaction, and tampering detected."""

from __future__ import annotations

import threading
import time
from itertools import pairwise
from pathlib import Path

import pytest
from django.db import DatabaseError, connection, transaction

from crossline.audit import Action, prepare, record
from crossline.audit.log import anchor, last_anchor, verify
from crossline.audit.models import Event

pytestmark = pytest.mark.django_db


def _events(n: int) -> list[Event]:
    return [
        record(Action.RECORD_VIEWED, actor="system", patient=f"p{i}", detail={"i": i})
        for i in range(n)
    ]


def _tamper(sql: str, params: list[object]) -> None:
    """What someone with database access could do: drop the append-only triggers, then edit."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE audit_event DISABLE TRIGGER audit_event_append_only")
        else:
            cursor.execute("DROP TRIGGER audit_event_no_update")
            cursor.execute("DROP TRIGGER audit_event_no_delete")
        cursor.execute(sql, params)


def test_appends_form_an_intact_chain(tmp_path: Path) -> None:
    events = _events(5)
    assert [e.seq for e in events] == [1, 2, 3, 4, 5]
    assert all(b.prev_mac == a.mac for a, b in pairwise(events))
    result = verify(tmp_path / "anchors")
    assert result.ok and result.checked == 5 and result.head == 5


def test_a_prepared_event_takes_its_place_at_the_head_when_appended(tmp_path: Path) -> None:
    """`prepare` runs before the transaction (the submit path): events recorded meanwhile do
    not fork the chain; the prepared one is chained to whatever the head is when appended."""
    pending = prepare(Action.ASSESSMENT_SUBMITTED, actor="anonymous", detail={"channel": "api"})
    before = _events(2)
    appended = pending.append()
    assert appended.seq == 3 and appended.prev_mac == before[-1].mac
    stored = Event.objects.get(seq=3)
    assert (stored.action, stored.actor, stored.detail, stored.mac, stored.key_id) == (
        "assessment.submitted",
        "anonymous",
        {"channel": "api"},
        appended.mac,
        appended.key_id,
    )
    assert verify(tmp_path / "anchors").ok
    with pytest.raises(TypeError):  # checked when prepared, before anything is written
        prepare(Action.RECORD_VIEWED, actor="system", detail={"answers": {"phq9.1": 3}})


def test_events_are_typed_and_details_short_scalars() -> None:
    with pytest.raises(ValueError):
        record("patient.gossiped", actor="system")
    with pytest.raises(TypeError):
        record(Action.RECORD_VIEWED, actor="system", detail={"answers": {"phq9.1": 3}})
    with pytest.raises(ValueError):
        record(Action.RECORD_VIEWED, actor="system", detail={"note": "x" * 200})
    assert Event.objects.count() == 0


def test_an_event_rolls_back_with_its_change(tmp_path: Path) -> None:
    _events(2)
    with pytest.raises(RuntimeError), transaction.atomic():
        record(Action.RECORD_VIEWED, actor="system")
        raise RuntimeError("the change failed")
    _events(1)
    assert list(Event.objects.values_list("seq", flat=True).order_by("seq")) == [1, 2, 3]
    assert verify(tmp_path / "anchors").ok


@pytest.mark.django_db(transaction=True)
def test_an_append_that_waits_for_the_lock_reads_the_head_committed_meanwhile(
    tmp_path: Path,
) -> None:
    """Serialised appends (decision 0005): the chain head is read only once the lock is held,
    so an append queued behind another's open transaction follows that one's event — it never
    reads the older head (which would give two events one number, or fork the chain)."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's advisory lock; SQLite's single writer serialises appends")
    record(Action.RECORD_VIEWED, actor="system")
    appended, release = threading.Event(), threading.Event()
    events: dict[str, Event] = {}

    def first() -> None:
        try:
            with transaction.atomic():
                events["first"] = record(Action.RECORD_VIEWED, actor="system")
                appended.set()
                release.wait()
        finally:
            connection.close()

    def second() -> None:
        try:
            appended.wait()
            events["second"] = record(Action.RECORD_VIEWED, actor="system")
        finally:
            connection.close()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    try:
        _until_an_append_waits_for_the_lock()
    finally:
        release.set()
        for t in threads:
            t.join()
    assert sorted(events) == ["first", "second"]  # else an append failed: its error is above
    assert (events["first"].seq, events["second"].seq) == (2, 3)
    assert events["second"].prev_mac == events["first"].mac
    assert verify(tmp_path / "anchors").ok


def _until_an_append_waits_for_the_lock() -> None:
    """Poll pg_locks (a wait for a state, not a timing assertion)."""
    for _ in range(2000):
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
            )
            if cursor.fetchone()[0]:
                return
        time.sleep(0.005)
    raise AssertionError("the second append never waited for the lock")


def test_the_table_refuses_updates_and_deletes() -> None:
    _events(2)
    for sql in ("UPDATE audit_event SET actor = 'x'", "DELETE FROM audit_event"):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as c:
            c.execute(sql)
    event = Event.objects.get(seq=1)
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()
    assert Event.objects.count() == 2


@pytest.mark.parametrize(
    ("sql", "params", "bad", "words"),
    [
        ("UPDATE audit_event SET detail = %s WHERE seq = 3", ['{"i": 99}'], 3, "changed"),
        ("UPDATE audit_event SET actor = %s WHERE seq = 2", ["someone-else"], 2, "changed"),
        ("UPDATE audit_event SET action = %s WHERE seq = 4", ["signout"], 4, "changed"),
        ("DELETE FROM audit_event WHERE seq = 3", [], 3, "missing"),
        ("UPDATE audit_event SET mac = %s WHERE seq = 2", ["0" * 64], 2, "changed"),
    ],
)
def test_tampering_with_one_row_is_detected(
    tmp_path: Path, sql: str, params: list[object], bad: int, words: str
) -> None:
    _events(6)
    _tamper(sql, params)
    result = verify(tmp_path / "anchors")
    assert not result.ok
    assert result.first_bad == bad
    assert words in result.problem


@pytest.mark.parametrize("key_id", ["zz", "a", "b2", "a1x"])
def test_an_entry_whose_key_id_is_not_a_key_id_is_reported_and_the_chain_still_grows(
    tmp_path: Path, key_id: str
) -> None:
    """`audit verify` read the number in the id and stopped on a traceback instead of naming
    the entry; on the newest entry, the same read refused every new audit event (and with it
    every action that records one)."""
    _events(4)
    _tamper("UPDATE audit_event SET key_id = %s WHERE seq = 4", [key_id])
    result = verify(tmp_path / "anchors")
    assert not result.ok and result.first_bad == 4
    assert f"names audit key {key_id!r}, which is not a key id" in result.problem
    assert record(Action.RECORD_VIEWED, actor="system").seq == 5
    with connection.cursor() as cursor:  # the triggers are off already
        cursor.execute("UPDATE audit_event SET key_id = %s WHERE seq = 2", [key_id])
    assert verify(tmp_path / "anchors").first_bad == 2


def test_recomputing_the_mac_without_the_key_does_not_help(tmp_path: Path) -> None:
    """Rewriting a row and its MAC breaks the next row's link (the key is not in the DB)."""
    _events(4)
    fake = "f" * 64
    _tamper("UPDATE audit_event SET actor = %s, mac = %s WHERE seq = 2", ["x", fake])
    result = verify(tmp_path / "anchors")
    assert not result.ok and result.first_bad == 2


def test_deleting_the_newest_rows_is_detected_up_to_the_last_anchor(tmp_path: Path) -> None:
    path = tmp_path / "anchors"
    _events(5)
    a = anchor(path)
    assert a.seq == 5 and last_anchor(path) == a
    _events(2)
    assert verify(path).ok
    _tamper("DELETE FROM audit_event WHERE seq >= 4", [])
    result = verify(path)
    assert not result.ok
    assert result.first_bad == 4
    assert "deleted" in result.problem


def test_a_forged_anchor_line_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "anchors"
    _events(2)
    anchor(path)
    with path.open("a") as f:
        f.write('{"seq": 999, "mac": "00", "at": "2026-11-28T00:00:00+00:00", "check": "00"}\n')
    found = last_anchor(path)
    assert found is not None and found.seq == 2
    assert verify(path).ok
