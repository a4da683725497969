"""Retention of anonymous screens (PRODUCT.md "Privacy and audit").

A screen never linked to a person (no contact details, `linked_at` null) is deleted once it is
older than the program's `anonymous_retention_days` (default 90) — submitted or still in
progress. Before a screen is deleted its non-identifying columns are added to `AggregateCount`,
in the same transaction, so reporting keeps the numbers and a crash never loses or double-counts
one. Linked screens follow the operator's patient-record retention (`crossline.clinic.retention`)
and are never touched here.

The clock is an argument: the command passes `timezone.now()`, tests pass a fixed time.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from django.db import transaction
from django.db.models import F, QuerySet

from crossline.intake.models import AggregateCount, Assessment

BATCH_SIZE = 500

GroupKey = tuple[date, str, str, str]  # day, eligibility, safety level, state
Screen = tuple[datetime, str, str, str]  # created_at, eligibility, safety level, state


@dataclass(frozen=True)
class Purged:
    cutoff: datetime  # screens started before this were deleted
    deleted: int
    never_submitted: int


def cutoff(now: datetime, retention_days: int) -> datetime:
    return now - timedelta(days=retention_days)


def expired(now: datetime, retention_days: int) -> QuerySet[Assessment]:
    # Served by the `assessment_retention` index (linked_at, created_at).
    return Assessment.objects.filter(
        linked_at__isnull=True, created_at__lt=cutoff(now, retention_days)
    )


def purge_anonymous(
    now: datetime, retention_days: int, batch_size: int = BATCH_SIZE, budget: float | None = None
) -> Purged:
    """Delete expired anonymous screens in batches, one transaction per batch. With a `budget`
    (seconds), start no new batch once it is spent; the next run goes on."""
    stop = None if budget is None else time.monotonic() + budget
    deleted = never_submitted = 0
    while batch := _purge_batch(now, retention_days, batch_size):
        deleted += sum(batch.values())
        never_submitted += sum(n for (_, eligibility, _, _), n in batch.items() if not eligibility)
        if stop is not None and time.monotonic() > stop:
            break
    return Purged(cutoff(now, retention_days), deleted, never_submitted)


def _purge_batch(now: datetime, retention_days: int, batch_size: int) -> Counter[GroupKey]:
    with transaction.atomic():
        # Locked rows: a contact request that links one of them waits for this transaction,
        # and one that committed first has set linked_at, so its screen is not selected.
        rows = list(
            expired(now, retention_days)
            .select_for_update()
            .order_by("pk")
            .values_list("pk", "created_at", "eligibility", "safety_level", "state")[:batch_size]
        )
        groups = add_to_counts(row[1:] for row in rows)
        Assessment.objects.filter(pk__in=[row[0] for row in rows]).delete()
    return groups


def add_to_counts(screens: Iterable[Screen]) -> Counter[GroupKey]:
    """Add screens about to be deleted to the aggregate counts, in the caller's transaction
    (the one that deletes them); each screen as (created_at, eligibility, safety level, state).
    Patient-record retention (`crossline.clinic.retention`) adds its screens here too."""
    groups: Counter[GroupKey] = Counter(
        (created.astimezone(UTC).date(), eligibility, safety, state)
        for created, eligibility, safety, state in screens
    )
    for (day, eligibility, safety_level, state), n in groups.items():
        row, _ = AggregateCount.objects.get_or_create(
            day=day, eligibility=eligibility, safety_level=safety_level, state=state
        )
        AggregateCount.objects.filter(pk=row.pk).update(count=F("count") + n)
    return groups
