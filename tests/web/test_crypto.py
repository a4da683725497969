"""Encryption at rest, key rotation and blind indexes.

Rotation is specified end to end: data written under ring {k1}; the ring becomes {k2 active,
k1}; `rotate_keys` runs; a ring holding only k2 then still reads everything.
"""

from __future__ import annotations

import io
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command, get_commands
from django.db import connection, models
from django.utils import timezone

from crossline.config import parse_key_ring
from crossline.crypto import Cipher, DecryptionError, blind_index
from crossline.intake import flow
from crossline.intake.fields import cipher
from crossline.intake.management.commands.rotate_keys import Command as RotateKeys
from crossline.intake.management.commands.rotate_keys import encrypted_fields
from crossline.intake.models import Assessment, ContactRequest
from crossline.knowledge import load

pytestmark = pytest.mark.django_db

K1, K2 = os.urandom(32), os.urandom(32)
UseRing = Callable[[dict[str, bytes]], None]

ANSWERS = {
    "profile.state": "NJ",
    "profile.age": 52,
    **{f"phq9.{i}": v for i, v in enumerate((1, 1, 1, 1, 1, 1, 1, 0, 0), start=1)},
    "burnout.single": 2,
    "gad7.1": 0,
    "gad7.2": 1,
}


@pytest.fixture
def use_ring(settings: Any) -> Iterator[UseRing]:
    """Switch the key ring (first key active); the cached cipher is rebuilt each time."""

    def use(ring: dict[str, bytes]) -> None:
        settings.CROSSLINE = replace(
            settings.CROSSLINE, encryption_keys=ring, active_key_id=next(iter(ring))
        )
        cipher.cache_clear()

    yield use
    cipher.cache_clear()  # before the settings fixture restores the ring: nothing cached stale


def raw(model: type[models.Model], pk: int, column: str) -> bytes:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {model._meta.db_table} WHERE id = %s", [pk])
        return bytes(cursor.fetchone()[0])


def write_raw(model: type[models.Model], pk: int, column: str, blob: bytes) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {model._meta.db_table} SET {column} = %s WHERE id = %s", [blob, pk])


def key_id(blob: bytes) -> str:
    return blob[3 : 3 + blob[2]].decode()


def records() -> dict[str, Any]:
    """A submitted screen, an in-progress one (no decision), a contact request, an API key."""
    done, token = Assessment.start("en")
    done.answers = ANSWERS
    done.record(flow.decide(load(), ANSWERS, "en"))
    done.status = Assessment.Status.SUBMITTED
    done.submitted_at = timezone.now()
    done.idempotency_key, done.idempotency_body = "k" * 64, "b" * 64  # sent with a key
    done.idempotency_token = token
    done.save()
    started, _ = Assessment.start("es")
    contact = ContactRequest.objects.create(
        assessment=done,
        kind=ContactRequest.Kind.EVALUATION,
        contact={"name": "Ana", "phone": "2015550100"},
        consent_to_contact=True,
        consent_version="2026-11-28",
    )
    return {"done": done, "started": started, "contact": contact, "token": token}


ENCRYPTED = [
    (Assessment, "done", "answers"),
    (Assessment, "done", "decision"),
    (Assessment, "started", "answers"),
    (ContactRequest, "contact", "contact"),
    (Assessment, "done", "idempotency_token"),
]


def key_ids(made: dict[str, Any]) -> set[str]:
    return {key_id(raw(model, made[name].pk, column)) for model, name, column in ENCRYPTED}


def rotate(*args: str) -> str:
    out = io.StringIO()
    call_command("rotate_keys", *args, stdout=out)
    return out.getvalue()


def test_after_rotation_a_ring_without_the_old_key_reads_everything(use_ring: UseRing) -> None:
    use_ring({"k1": K1})
    made = records()
    updated_at = Assessment.objects.get(pk=made["done"].pk).updated_at
    assert key_ids(made) == {"k1"}

    use_ring({"k2": K2, "k1": K1})
    report = rotate("--batch-size", "1")  # one row per transaction: batching is exercised
    assert "intake.Assessment.answers: re-encrypted 2, 0 already under k2" in report
    assert "intake.Assessment.decision: re-encrypted 1, 0 already under k2" in report
    assert "intake.ContactRequest.contact: re-encrypted 1" in report
    assert "intake.Assessment.idempotency_token: re-encrypted 1" in report
    assert key_ids(made) == {"k2"}

    use_ring({"k2": K2})
    done = Assessment.objects.get(pk=made["done"].pk)
    assert done.answers == ANSWERS
    assert done.decision == made["done"].decision
    assert done.updated_at == updated_at  # rotation is not a change to the record
    assert Assessment.objects.get(pk=made["started"].pk).answers == {}
    assert Assessment.objects.get(pk=made["started"].pk).decision is None
    assert ContactRequest.objects.get().contact == {"name": "Ana", "phone": "2015550100"}
    assert done.idempotency_token == made["token"]
    assert "re-encrypted 0, 2 already under k2" in rotate()  # done: a rerun changes nothing


def test_a_dry_run_counts_and_changes_nothing(use_ring: UseRing) -> None:
    use_ring({"k1": K1})
    made = records()
    use_ring({"k2": K2, "k1": K1})
    assert "intake.Assessment.answers: would re-encrypt 2, 0 already under k2" in rotate(
        "--dry-run"
    )
    assert key_ids(made) == {"k1"}


@pytest.mark.parametrize("size", ["0", "-1"])
def test_a_batch_size_below_one_is_refused_before_anything_is_read(
    use_ring: UseRing, size: str
) -> None:
    """0 read no rows and reported every column "re-encrypted 0": an operator would then take
    the old key out of the ring and lose every value still under it (-1 was a traceback)."""
    use_ring({"k1": K1})
    made = records()
    use_ring({"k2": K2, "k1": K1})
    with pytest.raises(CommandError, match="--batch-size: must be at least 1"):
        rotate("--batch-size", size)
    assert key_ids(made) == {"k1"}


def test_a_tampered_ciphertext_raises_and_rotation_reports_it(use_ring: UseRing) -> None:
    use_ring({"k1": K1})
    made = records()
    pk = made["contact"].pk
    blob = bytearray(raw(ContactRequest, pk, "contact"))
    blob[-1] ^= 0x01  # one bit of the tag
    write_raw(ContactRequest, pk, "contact", bytes(blob))
    with pytest.raises(DecryptionError, match="failed authentication"):
        ContactRequest.objects.get(pk=pk)

    use_ring({"k2": K2, "k1": K1})
    with pytest.raises(CommandError, match="1 value"):
        rotate()
    assert key_id(raw(ContactRequest, pk, "contact")) == "k1"  # left as it was
    assert key_id(raw(Assessment, made["done"].pk, "answers")) == "k2"  # the rest rotated


@pytest.mark.parametrize("blob", [b"v1", b"v1\x02\xff\xfe" + b"\x00" * 40, b""])
def test_a_value_cut_short_or_garbled_is_reported_like_any_altered_one(
    use_ring: UseRing, blob: bytes
) -> None:
    """A value too short for the layout, or whose key id is not text, raised IndexError or
    UnicodeDecodeError: rotation stopped on a traceback instead of naming the row and going on."""
    use_ring({"k1": K1})
    made = records()
    pk = made["contact"].pk
    write_raw(ContactRequest, pk, "contact", blob)
    with pytest.raises(DecryptionError, match="not a crossline ciphertext"):
        ContactRequest.objects.get(pk=pk)
    use_ring({"k2": K2, "k1": K1})
    with pytest.raises(CommandError, match="1 value"):
        rotate()
    assert key_id(raw(Assessment, made["done"].pk, "answers")) == "k2"  # the rest rotated


def test_a_ciphertext_only_decrypts_in_its_own_column(use_ring: UseRing) -> None:
    use_ring({"k1": K1})
    made = records()
    pk = made["done"].pk
    write_raw(Assessment, pk, "decision", raw(Assessment, pk, "answers"))
    with pytest.raises(DecryptionError):
        Assessment.objects.get(pk=pk)


def test_a_key_that_left_the_ring_too_early_is_named(use_ring: UseRing) -> None:
    use_ring({"k1": K1})
    made = records()
    use_ring({"k2": K2})
    with pytest.raises(DecryptionError, match="'k1' is not in the ring"):
        Assessment.objects.get(pk=made["done"].pk)


def test_every_encrypted_column_is_found_for_rotation() -> None:
    found = {f"{model._meta.label}.{f.name}" for model, f in encrypted_fields()}
    assert {
        "intake.Assessment.answers",
        "intake.Assessment.decision",
        "intake.ContactRequest.contact",
        "intake.Assessment.idempotency_token",
    } <= found


def test_the_same_value_encrypts_differently_each_time() -> None:
    c = Cipher({"k1": K1}, "k1")
    first, second = c.encrypt_json({"a": 1}, b"col"), c.encrypt_json({"a": 1}, b"col")
    assert first != second
    assert c.decrypt_json(first, b"col") == c.decrypt_json(second, b"col") == {"a": 1}


@pytest.mark.parametrize(
    ("kind", "one", "other"),
    [
        ("email", " Ana.Ruiz@Example.ORG ", "ana.ruiz@example.org"),
        ("phone", "+1 (201) 555-0100", "2015550100"),
        ("phone", "201.555.0100", "1-201-555-0100"),
    ],
)
def test_a_blind_index_matches_the_same_contact_however_it_is_written(
    kind: str, one: str, other: str
) -> None:
    assert blind_index(K1, kind, one) == blind_index(K1, kind, other)


def test_a_blind_index_depends_on_the_key_and_reveals_nothing() -> None:
    index = blind_index(K1, "email", "ana@example.org")
    assert index != blind_index(K2, "email", "ana@example.org")
    assert index != blind_index(K1, "email", "ana2@example.org")
    assert "ana" not in index and len(index) == 64


# --- docs/operations.md "Keys and rotation" is executed, so it cannot drift -----------------


def keys_section() -> str:
    text = (Path(__file__).resolve().parents[2] / "docs" / "operations.md").read_text()
    start = text.index("## Keys and rotation")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else None]


def test_the_documented_key_recipe_makes_a_key_the_ring_accepts() -> None:
    recipe = re.search(r"```sh\n(python3 -c .+)\n```", keys_section())
    assert recipe is not None
    code = shlex.split(recipe.group(1))[2]
    made = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    ring = parse_key_ring(f"k2:{made.stdout.strip()},k1:{made.stdout.strip()}", "RING")
    assert list(ring) == ["k2", "k1"] and len(ring["k2"]) == 32


def test_the_documented_commands_and_options_exist() -> None:
    section = keys_section()
    commands = set(re.findall(r"crossline manage (\w+)", section))
    assert commands == {"rotate_keys", "reindex_contacts"}
    assert commands <= set(get_commands())
    parser = RotateKeys().create_parser("crossline", "rotate_keys")
    known = {o for action in parser._actions for o in action.option_strings}
    assert set(re.findall(r"(--[a-z][a-z-]+)", section)) <= known
