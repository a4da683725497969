"""Idempotency-Key: a retried submission returns the original assessment instead of a second one.

Only a SHA-256 of the key is stored, beside a SHA-256 of the canonical JSON body, the assessment
and its private-link token (encrypted). A key is honoured for 24 hours; an older record is
ignored and replaced, and the worker deletes it within the hour after (`expire`). Two requests
racing with one key both try to insert the record in the same transaction as their assessment:
the unique key_hash lets one commit and rolls the other back whole, and the loser returns the
winner's assessment.

A key used before rolls back everything its request wrote, so whatever that write counted (the
rate limit) is counted again by `recount` before the original is returned.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from crossline.api.errors import Conflict
from crossline.api.rows import Insert
from crossline.engine import FieldError, InvalidInput
from crossline.intake.models import Assessment, IdempotencyRecord

HEADER = "Idempotency-Key"
LIFETIME = timedelta(hours=24)
MAX_KEY_LENGTH = 255
CONFLICT = "was already used with a different body; use a new key for a new submission"


@dataclass(frozen=True, slots=True)
class Submitted:
    assessment: Assessment
    token: str
    replayed: bool = False


Create = Callable[[], tuple[Assessment, str]]
_RECORD = Insert(IdempotencyRecord)
_ASSESSMENT_COLUMN = [f.name for f in _RECORD.fields].index("assessment")


def _nothing() -> None:
    pass


def parse_key(value: str | None) -> str | None:
    """The header's value, or None when absent. Visible ASCII only, at most 255 characters."""
    if value is None:
        return None
    if not 0 < len(value) <= MAX_KEY_LENGTH or not all(" " < c <= "~" for c in value):
        message = f"must be 1 to {MAX_KEY_LENGTH} visible ASCII characters (a UUID is ideal)"
        raise InvalidInput([FieldError(HEADER, message)])
    return value


def body_hash(body: Any) -> str:
    """SHA-256 of the body's canonical JSON: key order and spacing do not change it."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


def submit_once(
    key: str,
    digest: str,
    create: Create,
    finish: Callable[[], None] = _nothing,
    recount: Callable[[], None] = _nothing,
    token: str | None = None,
) -> Submitted:
    """Run `create` at most once per key, in a transaction that also records the key.

    `create` writes inside that transaction, then the key's record is inserted, then `finish`
    writes what must come last (it may raise, rolling everything back). When the key was used
    before, the writes are rolled back and `recount()` runs (it may raise, e.g. 429) before the
    original is returned or the different body refused. A caller that knows the token `create`
    will return passes it: the record is then encoded (its token encrypted) before the
    transaction opens, and only the assessment's id is filled in inside.
    """
    key_hash = hashlib.sha256(key.encode()).hexdigest()
    early = None if token is None else _encoded_record(key_hash, digest, token)
    # The common case is a new key: insert straight away (the writes of `create`, the record,
    # one commit). The unique key_hash turns a retry, a race or an expired record into an
    # IntegrityError, which rolls this whole transaction back — the assessment too — and is
    # sorted out below.
    for _ in range(2):
        try:
            with transaction.atomic():
                assessment, made = create()
                if early is None:
                    record, values = _encoded_record(key_hash, digest, made)
                else:
                    record, values = early[0], list(early[1])
                record.assessment_id = assessment.pk  # the id only: the caller holds the object
                values[_ASSESSMENT_COLUMN] = assessment.pk
                _RECORD.run(record, values)
                finish()
            return Submitted(assessment, made)
        except IntegrityError:
            earlier = _live_record(key_hash)  # an earlier or concurrent request committed it
            if earlier is not None:
                recount()
                return _replay(earlier, digest)
            # expired: the key may be used again
            IdempotencyRecord.objects.filter(key_hash=key_hash, created_at__lt=_cutoff()).delete()
    raise IntegrityError("Idempotency-Key: could not record the key")


def _encoded_record(key_hash: str, digest: str, token: str) -> tuple[IdempotencyRecord, list[Any]]:
    """The key's record and its row's values, but for the assessment's id (not known yet)."""
    record = IdempotencyRecord(key_hash=key_hash, body_hash=digest, token=token)
    return record, _RECORD.values(record)


def expire(now: datetime, batch_size: int = 1000) -> int:
    """Delete the records of keys older than their 24 hours (the worker, hourly): a record
    keeps the private link's token (encrypted), which no retry may ask for any more. One
    transaction per batch; the assessments are kept. Returns how many were deleted."""
    deleted = 0
    old = IdempotencyRecord.objects.filter(created_at__lt=now - LIFETIME)
    while ids := list(old.order_by("pk").values_list("pk", flat=True)[:batch_size]):
        deleted += IdempotencyRecord.objects.filter(pk__in=ids).delete()[0]
    return deleted


def _cutoff() -> datetime:
    return timezone.now() - LIFETIME


def _live_record(key_hash: str) -> IdempotencyRecord | None:
    return IdempotencyRecord.objects.filter(key_hash=key_hash, created_at__gte=_cutoff()).first()


def _replay(record: IdempotencyRecord, digest: str) -> Submitted:
    if record.body_hash != digest:
        raise Conflict([FieldError(HEADER, CONFLICT)])
    return Submitted(record.assessment, str(record.token), replayed=True)
