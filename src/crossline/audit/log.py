"""Writing, verifying and anchoring the audit chain.

Each event's MAC is HMAC-SHA256, keyed by `CROSSLINE_AUDIT_KEY` (never in the database), over
the event's own fields, the id of the key that signed it and the previous event's MAC. The key
can be rotated (a ring a1, a2, …): the chain only ever moves on to a later key, so the first
entry under a new key seals everything before it against whoever holds an older one.
Appends are serialised — a PostgreSQL advisory lock held to the end of the transaction; SQLite
has one writer — so the chain has no forks, and an event is written in the same transaction as
the change it records: if the change rolls back, so does its event.

`anchor()` appends the chain's head (sequence number and MAC) to a file outside the database and
to the application log. `verify()` recomputes the whole chain: an edited event, a deleted one
(a gap), a reordered one, or a chain shorter than its last anchor is reported, naming the first
bad entry. Without an anchor, deleting the newest events cannot be told from never having written
them; that is why the worker anchors the head periodically.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any, cast

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import models, transaction
from django.http import HttpRequest

from crossline.audit.actions import Action
from crossline.audit.middleware import request_id
from crossline.audit.models import Event
from crossline.config import AUDIT_KEY_ID, audit_key_rank

logger = logging.getLogger("crossline.audit")

GENESIS = "0" * 64
_LOCK_ID = 0x63726F73  # "cros": the advisory lock that serialises appends on PostgreSQL
_MAX_DETAIL_TEXT = 80


LEGACY_KEY_ID = "a1"  # signed the entries written before entries named their key


def _ring() -> Mapping[str, bytes]:
    ring: Mapping[str, bytes] = settings.CROSSLINE.audit_keys
    return ring


def _signing_key_id(head_key_id: str | None) -> str:
    """The active key, unless the chain has moved on to a later key this process knows but was
    not yet told to sign with (a rolling restart during a rotation): then that one, so the chain
    never goes back to an earlier key. A later key this process does not know is logged: the
    entry is signed with the active key, and `verify` will name it."""
    active: str = settings.CROSSLINE.audit_key_id
    if audit_key_rank(head_key_id) <= audit_key_rank(active):
        return active
    if head_key_id in _ring():
        return cast(str, head_key_id)
    logger.error(
        "audit key %s signs the chain's newest entry but is not in this process's "
        "CROSSLINE_AUDIT_KEY: restart it with the current ring",
        head_key_id,
    )
    return active


def _mac(key: bytes, fields: Mapping[str, Any], prev_mac: str) -> str:
    signed = [
        fields["seq"],
        fields["at"].astimezone(UTC).isoformat(timespec="microseconds"),
        fields["action"],
        fields["actor_id"],
        fields["actor"],
        fields["patient"],
        fields["object_type"],
        fields["object_id"],
        fields["request_id"],
        fields["detail"],
        prev_mac,
    ]
    if fields.get("key_id") is not None:  # entries from before key ids were signed without it
        signed.append(fields["key_id"])
    message = json.dumps(signed, separators=(",", ":"), sort_keys=True, ensure_ascii=True)
    return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()


def _check_detail(detail: Mapping[str, Any]) -> dict[str, Any]:
    """Details are short scalars (ids, outcomes, field names): free text could carry PHI."""
    out: dict[str, Any] = {}
    for name, value in detail.items():
        if value is not None and not isinstance(value, str | int | bool):
            raise TypeError(f"audit detail {name!r}: only short scalars are allowed")
        if isinstance(value, str) and len(value) > _MAX_DETAIL_TEXT:
            raise ValueError(f"audit detail {name!r}: longer than {_MAX_DETAIL_TEXT} characters")
        out[str(name)] = value
    return out


def _actor(
    request: HttpRequest | None, actor: AbstractBaseUser | AnonymousUser | str | None
) -> tuple[int | None, str]:
    if actor is None and request is not None:
        actor = getattr(request, "user", None)
    if isinstance(actor, str):
        return None, actor  # "system", "anonymous", "worker"
    if actor is not None and actor.is_authenticated:
        return int(actor.pk), actor.get_username()
    return None, "anonymous"


def record(action: Action | str, **kwargs: Any) -> Event:
    """Append one event, inside the caller's transaction (or its own): `prepare` (which takes
    the event's fields), then `append`.

    `patient` is a non-identifying reference (a case's or assessment's public id), never a name.
    """
    return prepare(action, **kwargs).append()


@dataclass(frozen=True, slots=True)
class Pending:
    """An event checked and encoded, waiting for its place in the chain (`append`).

    Everything that does not depend on the chain's head is done here, so a caller on a hot
    path (the API's submit) prepares before its transaction opens and the transaction — on
    SQLite, the write lock every worker queues for — only reads the head, signs and inserts.
    """

    fields: dict[str, Any]  # the event's fields, as `Event(**fields)` takes them
    encoded: dict[str, Any]  # the same, as the database stores them (minus the chain's)

    def append(self) -> Event:
        """Append the event inside the caller's transaction (or its own)."""
        event = Event(**self.write())
        event._state.adding = False
        event._state.db = transaction.get_connection().alias
        return event

    def write(self) -> dict[str, Any]:
        """`append` for a caller that needs no `Event` back (the API's submit): the event's
        fields, chain's included."""
        # No savepoint: the event lives or dies with the caller's transaction, and the append
        # costs no extra round trips on the submit path.
        # Plain statements, not the ORM: the append is on every submission's path (the ORM's
        # query building cost more than the two statements themselves).
        db = transaction.get_connection()  # once: each use of the proxy looks it up again
        fields = dict(self.fields)
        with transaction.atomic(savepoint=False), db.cursor() as cursor:
            if db.vendor == "postgresql":
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_ID])
            cursor.execute(_HEAD)
            head = cursor.fetchone()
            seq, prev_mac = (int(head[0]) + 1, str(head[1])) if head else (1, GENESIS)
            fields["seq"] = seq
            fields["key_id"] = key_id = _signing_key_id(head[2] if head else None)
            fields["prev_mac"] = prev_mac
            fields["mac"] = _mac(_ring()[key_id], fields, prev_mac)
            # The chain's own values are an int and strings: stored as they are.
            row = [fields[n] if n in _CHAINED else self.encoded[n] for n in _COLUMNS]
            cursor.execute(_INSERT, row)
        return fields


def prepare(
    action: Action | str,
    *,
    request: HttpRequest | None = None,
    actor: AbstractBaseUser | AnonymousUser | str | None = None,
    patient: object = "",
    object_type: str = "",
    object_id: object = "",
    detail: Mapping[str, Any] | None = None,
) -> Pending:
    """An event for `append()`, checked (a typed action, short scalar details) and encoded.

    Encoded for the database of the connection in use now: prepare and append on one
    connection (one request's).
    """
    action = Action(action)  # ValueError on an unknown action: events are typed
    actor_id, actor_name = _actor(request, actor)
    fields: dict[str, Any] = {
        "at": datetime.now(UTC),
        "action": action.value,
        "actor_id": actor_id,
        "actor": actor_name[:254],
        "patient": str(patient or ""),
        "object_type": str(object_type),
        "object_id": str(object_id or ""),
        "request_id": request_id(request),
        "detail": _check_detail(detail or {}),
    }
    # Strings and an int (or None) are stored as they are (what their fields' `get_db_prep_save`
    # returns for them); the time and the detail are the database's to encode.
    db = transaction.get_connection()
    encoded = dict(fields)
    for name, field in _encoded_fields():
        encoded[name] = field.get_db_prep_save(fields[name], db)
    return Pending(fields, encoded)


_COLUMNS = (
    "seq", "at", "action", "actor_id", "actor", "patient", "object_type", "object_id",
    "request_id", "detail", "prev_mac", "mac", "key_id",
)  # fmt: skip
_CHAINED = ("seq", "prev_mac", "mac", "key_id")  # set by `append`: plain strings and an int
_HEAD = 'SELECT "seq", "mac", "key_id" FROM "audit_event" ORDER BY "seq" DESC LIMIT 1'
_QUOTED = ", ".join('"' + c + '"' for c in _COLUMNS)
_INSERT = f'INSERT INTO "audit_event" ({_QUOTED}) VALUES ({", ".join(["%s"] * len(_COLUMNS))})'


@cache
def _encoded_fields() -> list[tuple[str, models.Field[Any, Any]]]:
    return [(n, cast("models.Field[Any, Any]", Event._meta.get_field(n))) for n in ("at", "detail")]


# --- verification ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Anchor:
    seq: int
    mac: str
    at: str


@dataclass(frozen=True)
class Verification:
    ok: bool
    checked: int  # events whose MAC was recomputed
    head: int  # the last sequence number found
    anchor: Anchor | None  # the last anchor read, if any
    first_bad: int | None = None
    problem: str = ""
    # Which key signed which entries, in chain order: (key id, first entry, last entry).
    keys: tuple[tuple[str, int, int], ...] = ()


def _events() -> Iterator[dict[str, Any]]:
    for row in Event.objects.order_by("seq").values_list(*_COLUMNS).iterator(chunk_size=5000):
        yield dict(zip(_COLUMNS, row, strict=True))


def verify(anchor_path: Path | None = None) -> Verification:
    """Recompute the chain. Each entry is checked with the key it names (a1 for entries from
    before entries named their key), and the chain may only move on to later keys: an entry
    signed with an earlier key than the one before it — the work of someone holding a retired
    key — is reported like an altered one."""
    ring = _ring()
    anchor = last_anchor(anchor_path)
    expected_seq, prev_mac, checked = 1, GENESIS, 0
    macs: dict[int, str] = {}
    segments: list[list[Any]] = []  # [key id, first entry, last entry]
    rank = 0  # of the key of the entry before
    for event in _events():
        seq = event["seq"]
        key_id = event["key_id"] or LEGACY_KEY_ID

        def bad(problem: str, seq: int = seq, checked: int = checked) -> Verification:
            return Verification(False, checked, seq, anchor, seq, problem, _segments(segments))

        if seq != expected_seq:
            missing = f"entry {expected_seq} is missing (deleted?): the next entry is {seq}"
            return bad(missing, seq=expected_seq)
        if event["prev_mac"] != prev_mac:
            return bad(f"entry {seq} does not follow entry {seq - 1} (chain broken)")
        if event["key_id"] is not None and not AUDIT_KEY_ID.fullmatch(event["key_id"]):
            return bad(
                f"entry {seq} names audit key {event['key_id'][:8]!r}, which is not a key id "
                "(changed after it was written?)"
            )
        if audit_key_rank(event["key_id"]) < rank:
            return bad(
                f"entry {seq} is signed with audit key {key_id}, earlier than the key "
                f"{segments[-1][0]} of the entry before it (written with a retired key?)"
            )
        key = ring.get(key_id)
        if key is None:
            return bad(f"entry {seq} is signed with audit key {key_id}, which is not in the ring")
        if not hmac.compare_digest(_mac(key, event, prev_mac), event["mac"]):
            return bad(f"entry {seq} was changed after it was written (MAC mismatch)")
        if segments and segments[-1][0] == key_id:
            segments[-1][2] = seq
        else:
            segments.append([key_id, seq, seq])
        rank = audit_key_rank(event["key_id"])
        checked += 1
        prev_mac = event["mac"]
        expected_seq = seq + 1
        if anchor is not None and seq == anchor.seq:
            macs[seq] = event["mac"]
    head = expected_seq - 1
    keys = _segments(segments)
    if anchor is not None:
        if anchor.seq > head:
            return Verification(
                False, checked, head, anchor, head + 1,
                f"entries {head + 1}–{anchor.seq} were deleted: the chain ends at {head} but "
                f"was anchored at {anchor.seq} on {anchor.at}", keys,
            )  # fmt: skip
        if anchor.seq and not hmac.compare_digest(macs.get(anchor.seq, ""), anchor.mac):
            return Verification(
                False, checked, head, anchor, anchor.seq,
                f"entry {anchor.seq} differs from its anchor of {anchor.at}", keys,
            )  # fmt: skip
    return Verification(True, checked, head, anchor, keys=keys)


def _segments(segments: list[list[Any]]) -> tuple[tuple[str, int, int], ...]:
    return tuple((str(k), int(first), int(last)) for k, first, last in segments)


# --- anchoring ------------------------------------------------------------------------------


def anchor_path() -> Path:
    return Path(settings.CROSSLINE.audit_anchor_path)


def _anchor_mac(key: bytes, seq: int, mac: str, at: str) -> str:
    return hmac.new(key, f"anchor|{seq}|{mac}|{at}".encode(), hashlib.sha256).hexdigest()


def anchor(path: Path | None = None) -> Anchor:
    """Append the chain's head to the anchor file (fsync'd) and to the application log."""
    path = path or anchor_path()
    head = Event.objects.order_by("-seq").values_list("seq", "mac").first()
    seq, mac = head if head else (0, GENESIS)
    at = datetime.now(UTC).isoformat(timespec="seconds")
    key_id: str = settings.CROSSLINE.audit_key_id
    check = _anchor_mac(_ring()[key_id], seq, mac, at)
    line = json.dumps({"seq": seq, "mac": mac, "at": at, "key": key_id, "check": check})
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, (line + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    logger.info("audit chain head anchored: seq=%s mac=%s", seq, mac)
    return Anchor(seq, mac, at)


def last_anchor(path: Path | None = None) -> Anchor | None:
    """The newest anchor whose own check value is right under the key it names (a1 for lines
    from before lines named their key); a forged line, or one whose key is not in the ring, is
    ignored."""
    path = path or anchor_path()
    if not path.exists():
        return None
    ring = _ring()
    found: Anchor | None = None
    for raw in path.read_text().splitlines():
        try:
            item = json.loads(raw)
            seq, mac, at = int(item["seq"]), str(item["mac"]), str(item["at"])
            key = ring[str(item.get("key", LEGACY_KEY_ID))]
            good = hmac.compare_digest(_anchor_mac(key, seq, mac, at), str(item["check"]))
        except (ValueError, KeyError, TypeError, AttributeError):
            continue
        if good and (found is None or seq >= found.seq):
            found = Anchor(seq, mac, at)
    return found
