"""Rotating the audit key: a ring a1, a2, …; each entry names its key; the chain never goes back.

Specified end to end like the encryption key's rotation: entries under a1; the ring gains a2 and
makes it active; later entries are signed with a2; `verify` checks each entry with its own key.
What rotation buys is shown too: whoever holds the retired key can neither add entries after the
rotation nor rewrite the ones before it without breaking the first entry under the new key.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection

from crossline.audit import Action, record
from crossline.audit.log import _COLUMNS, _mac, anchor, last_anchor, verify
from crossline.audit.models import Event
from crossline.config import ConfigError, parse_audit_keys
from tests.audit.test_chain import _tamper

A1, A2 = os.urandom(32), os.urandom(32)
KEY = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="  # base64 of 32 bytes
UseRing = Callable[..., None]


@pytest.fixture
def use_ring(settings: Any) -> Iterator[UseRing]:
    """Switch the audit ring: `use_ring(a2=A2, a1=A1)`, the first key signing."""

    def use(**ring: bytes) -> None:
        settings.CROSSLINE = replace(
            settings.CROSSLINE, audit_keys=ring, audit_key_id=next(iter(ring))
        )

    yield use


def events(n: int) -> list[Event]:
    return [record(Action.RECORD_VIEWED, actor="system", detail={"i": i}) for i in range(n)]


# --- the setting ----------------------------------------------------------------------------


def test_one_key_is_the_ring_a1_and_a_ring_lists_its_signing_key_first() -> None:
    assert parse_audit_keys(KEY) == {"a1": b"0123456789abcdef0123456789abcdef"}
    ring = parse_audit_keys(f"a2:{KEY}, a1:{KEY}")
    assert list(ring) == ["a2", "a1"]


@pytest.mark.parametrize(
    ("value", "words"),
    [
        (f"k1:{KEY}", "a1:base64"),
        (f"a0:{KEY}", "a1:base64"),
        (f":{KEY}", "a1:base64"),
        (f"a1:{KEY},a1:{KEY}", "listed twice"),
        ("a2:c2hvcnQ=", "at least 32 bytes"),
        ("a2:not base64!", "not valid base64"),
    ],
)
def test_a_bad_ring_stops_start_up_naming_the_variable(value: str, words: str) -> None:
    with pytest.raises(ConfigError, match="CROSSLINE_AUDIT_KEY") as caught:
        parse_audit_keys(value)
    assert words in str(caught.value)


# --- rotation -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_after_rotation_new_entries_use_the_new_key_and_the_chain_verifies(
    tmp_path: Path, use_ring: UseRing
) -> None:
    use_ring(a1=A1)
    events(3)
    use_ring(a2=A2, a1=A1)
    events(3)
    assert list(Event.objects.order_by("seq").values_list("key_id", flat=True)) == [
        "a1", "a1", "a1", "a2", "a2", "a2",
    ]  # fmt: skip
    result = verify(tmp_path / "anchors")
    assert result.ok and result.checked == 6
    assert result.keys == (("a1", 1, 3), ("a2", 4, 6))
    use_ring(a2=A2)  # the old key left the ring too early
    result = verify(tmp_path / "anchors")
    assert not result.ok and result.first_bad == 1
    assert "audit key a1, which is not in the ring" in result.problem


@pytest.mark.django_db
def test_a_process_not_yet_told_to_sign_with_the_new_key_follows_the_chain(
    use_ring: UseRing, tmp_path: Path
) -> None:
    """During the rolling restart that makes a2 active, a process still signing with a1 (but
    knowing a2, step 1 of the procedure) signs with a2 once the chain has moved on."""
    use_ring(a1=A1)
    events(1)
    use_ring(a2=A2, a1=A1)
    events(1)
    use_ring(a1=A1, a2=A2)  # the old process: a1 first, a2 known
    (late,) = events(1)
    assert late.key_id == "a2"
    assert verify(tmp_path / "anchors").ok


@pytest.mark.django_db
def test_an_entry_signed_with_a_retired_key_after_rotation_is_reported(
    use_ring: UseRing, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Someone holding only the retired key a1 (or a process never given a2) appends after
    the rotation: the entry verifies under a1, but the chain had moved on to a2."""
    use_ring(a1=A1)
    events(2)
    use_ring(a2=A2, a1=A1)
    events(2)
    use_ring(a1=A1)
    with caplog.at_level(logging.ERROR, logger="crossline.audit"):
        events(1)
    assert "audit key a2 signs the chain's newest entry but is not in this process" in caplog.text
    use_ring(a2=A2, a1=A1)
    result = verify(tmp_path / "anchors")
    assert not result.ok and result.first_bad == 5
    assert "earlier than the key a2" in result.problem


@pytest.mark.django_db
def test_the_first_entry_under_the_new_key_seals_the_entries_before_it(
    use_ring: UseRing, tmp_path: Path
) -> None:
    """With the retired key a1, every a1 entry from the edited one on can be re-signed; the
    first a2 entry still names the original MAC of the entry before it."""
    use_ring(a1=A1)
    events(3)
    use_ring(a2=A2, a1=A1)
    events(2)
    prev = Event.objects.get(seq=1).mac
    rows = list(Event.objects.filter(seq__in=(2, 3)).order_by("seq").values(*_COLUMNS))
    rows[0]["actor"] = "someone-else"
    for row in rows:  # rewrite entry 2, re-sign entries 2 and 3 with a1
        row["prev_mac"], row["mac"] = prev, _mac(A1, row, prev)
        prev = row["mac"]
    _tamper(
        "UPDATE audit_event SET actor = %s, prev_mac = %s, mac = %s WHERE seq = 2",
        [rows[0]["actor"], rows[0]["prev_mac"], rows[0]["mac"]],
    )
    with connection.cursor() as cursor:  # the triggers are off now
        cursor.execute(
            "UPDATE audit_event SET prev_mac = %s, mac = %s WHERE seq = 3",
            [rows[1]["prev_mac"], rows[1]["mac"]],
        )
    result = verify(tmp_path / "anchors")
    assert not result.ok and result.first_bad == 4
    assert "does not follow entry 3" in result.problem


@pytest.mark.django_db
def test_entries_from_before_key_ids_verify_with_a1(use_ring: UseRing, tmp_path: Path) -> None:
    """Entries written before the key_id column (NULL) were signed without a key id, with the
    one key there was: they verify with a1, and may not follow an entry that names its key."""
    use_ring(a1=A1)
    _legacy_entry(1, "0" * 64)
    _legacy_entry(2, Event.objects.get(seq=1).mac)
    events(1)
    result = verify(tmp_path / "anchors")
    assert result.ok and result.keys == (("a1", 1, 3),)
    use_ring(a2=A2, a1=A1)
    events(1)
    assert verify(tmp_path / "anchors").keys == (("a1", 1, 3), ("a2", 4, 4))
    _legacy_entry(5, Event.objects.get(seq=4).mac)  # a keyless entry after a2: forged
    result = verify(tmp_path / "anchors")
    assert not result.ok and result.first_bad == 5 and "earlier than the key a2" in result.problem


def _legacy_entry(seq: int, prev_mac: str) -> None:
    fields: dict[str, Any] = {
        "seq": seq, "at": datetime.now(UTC), "action": Action.RECORD_VIEWED.value,
        "actor_id": None, "actor": "system", "patient": "", "object_type": "", "object_id": "",
        "request_id": "", "detail": {},
    }  # fmt: skip
    mac = _mac(A1, fields, prev_mac)
    Event.objects.create(**fields, prev_mac=prev_mac, mac=mac, key_id=None)


@pytest.mark.django_db
def test_anchors_name_their_key_and_old_lines_still_count(
    use_ring: UseRing, tmp_path: Path
) -> None:
    path = tmp_path / "anchors"
    use_ring(a1=A1)
    events(2)
    first = anchor(path)
    line = json.loads(path.read_text().splitlines()[0])
    assert line["key"] == "a1"
    legacy = {k: v for k, v in line.items() if k != "key"}  # a line from before lines named keys
    path.write_text(json.dumps(legacy) + "\n")
    assert last_anchor(path) == first
    use_ring(a2=A2, a1=A1)
    events(1)
    second = anchor(path)
    assert last_anchor(path) == second and second.seq == 3
    assert verify(path).ok
    use_ring(a2=A2)  # a line under a key that is not in the ring is not trusted
    path.write_text(json.dumps(legacy) + "\n")
    assert last_anchor(path) is None


@pytest.mark.django_db
def test_verify_names_which_key_signed_which_entries(use_ring: UseRing, tmp_path: Path) -> None:
    use_ring(a1=A1)
    events(2)
    use_ring(a2=A2, a1=A1)
    events(1)
    out = StringIO()
    call_command("audit", "verify", "--anchor-file", str(tmp_path / "anchors"), stdout=out)
    assert "audit chain intact: 3 entries, head 3 (signed by a1 1–2, a2 3–3)" in out.getvalue()
