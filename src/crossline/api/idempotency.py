"""Idempotency-Key: a retried submission returns the original assessment instead of a second one.

Only a SHA-256 of the key is stored, beside a SHA-256 of the canonical JSON body and the private
link's token (encrypted), on the assessment's own row (`Assessment.idempotency_*`; decision
0013). A key is honoured for 24 hours after its assessment was submitted; after that it is
ignored and may be used again, and the worker clears it within the hour after (`expire`). Two
requests racing with one key both try to insert their assessment: the unique key lets one commit
and rolls the other back whole, and the loser returns the winner's assessment.

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
from crossline.engine import FieldError, InvalidInput
from crossline.intake.models import Assessment

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
_CLEARED = {"idempotency_key": None, "idempotency_body": "", "idempotency_token": None}


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


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def mark(assessment: Assessment, key: str, digest: str, token: str) -> str:
    """Put the key on a submission before its row's values are computed (and the token
    encrypted): `create` then stores the key with the assessment, in its one INSERT. Returns
    the key's hash, for `submit_once`."""
    hashed = assessment.idempotency_key = key_hash(key)
    assessment.idempotency_body = digest
    assessment.idempotency_token = token
    return hashed


def submit_once(
    hashed: str,
    digest: str,
    create: Create,
    finish: Callable[[], None] = _nothing,
    recount: Callable[[], None] = _nothing,
) -> Submitted:
    """Run `create` at most once per key (`hashed`, its `key_hash`): it inserts an assessment
    `mark`ed with this key and body, in a transaction that then runs `finish` (the writes that
    must come last; it may raise, rolling everything back). When the key was used before, the
    writes are rolled back and `recount()` runs (it may raise, e.g. 429) before the original
    is returned or the different body refused."""
    # The common case is a new key: insert straight away. The unique key turns a retry, a race
    # or an expired key into an IntegrityError, which rolls this whole transaction back and is
    # sorted out below.
    for _ in range(2):
        try:
            with transaction.atomic():
                assessment, made = create()
                finish()
            return Submitted(assessment, made)
        except IntegrityError:
            earlier = _live(hashed)  # an earlier or concurrent request committed it
            if earlier is not None:
                recount()
                return _replay(earlier, digest)
            # expired: the key may be used again
            Assessment.objects.filter(idempotency_key=hashed, created_at__lt=_cutoff()).update(
                **_CLEARED
            )
    raise IntegrityError("Idempotency-Key: could not record the key")


def expire(now: datetime, batch_size: int = 1000) -> int:
    """Clear the keys of assessments past their 24 hours (the worker, hourly): each keeps the
    private link's token (encrypted), which no retry may ask for any more. One transaction
    per batch; the assessments are kept. Returns how many keys were cleared. Found through the
    key's unique index: only a day's API submissions have one."""
    cleared = 0
    old = Assessment.objects.filter(idempotency_key__isnull=False, created_at__lt=now - LIFETIME)
    while ids := list(old.order_by("idempotency_key").values_list("pk", flat=True)[:batch_size]):
        cleared += Assessment.objects.filter(pk__in=ids).update(**_CLEARED)
    return cleared


def _cutoff() -> datetime:
    return timezone.now() - LIFETIME


def _live(hashed: str) -> Assessment | None:
    return Assessment.objects.filter(idempotency_key=hashed, created_at__gte=_cutoff()).first()


def _replay(assessment: Assessment, digest: str) -> Submitted:
    if assessment.idempotency_body != digest:
        raise Conflict([FieldError(HEADER, CONFLICT)])
    return Submitted(assessment, str(assessment.idempotency_token), replayed=True)
