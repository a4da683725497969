"""Anonymous screens are deleted after the retention period; their counts are kept.

Rows are dated with `update(created_at=...)` and the clock is passed in, so nothing here waits.
"""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from crossline.intake import flow
from crossline.intake.models import AggregateCount, Assessment, ContactRequest
from crossline.intake.retention import purge_anonymous
from crossline.knowledge import load
from tests.web.personas import BURNOUT_ONLY

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
DAYS = load().policy.anonymous_retention_days

OUT_OF_AREA = {**BURNOUT_ONLY, "profile.state": "TX"}


def screen(created: datetime, answers: dict[str, Any] | None = None) -> Assessment:
    """A screen started at `created`: submitted with `answers`, or still in progress."""
    assessment, _ = Assessment.start("en")
    if answers is not None:
        assessment.answers = answers
        assessment.record(flow.decide(load(), answers, "en"))
        assessment.status = Assessment.Status.SUBMITTED
        assessment.save()
    Assessment.objects.filter(pk=assessment.pk).update(created_at=created)
    return assessment


def linked(assessment: Assessment) -> Assessment:
    ContactRequest.objects.create(
        assessment=assessment,
        kind=ContactRequest.Kind.CONTACT_ME,
        contact={"phone": "2015550100"},
        consent_to_contact=True,
        consent_version="2026-11-28",
    )
    Assessment.objects.filter(pk=assessment.pk).update(linked_at=NOW - timedelta(days=200))
    return assessment


def counts() -> dict[tuple[date, str, str, str], int]:
    return {
        (a.day, a.eligibility, a.safety_level, a.state): a.count
        for a in AggregateCount.objects.all()
    }


def remaining() -> set[int]:
    return set(Assessment.objects.values_list("pk", flat=True))


def test_the_policy_keeps_anonymous_screens_for_90_days() -> None:
    assert DAYS == 90


def test_old_anonymous_screens_are_deleted_and_counted_linked_and_recent_ones_kept() -> None:
    old = NOW - timedelta(days=DAYS + 1)
    burnout = screen(old, BURNOUT_ONLY)
    out_of_area = screen(old, OUT_OF_AREA)
    abandoned = screen(old)  # never submitted
    kept_linked = linked(screen(NOW - timedelta(days=400), BURNOUT_ONLY))
    kept_recent = screen(NOW - timedelta(days=DAYS - 1), BURNOUT_ONLY)

    purged = purge_anonymous(NOW, DAYS)

    assert (purged.deleted, purged.never_submitted) == (3, 1)
    assert purged.cutoff == NOW - timedelta(days=DAYS)
    assert remaining() == {kept_linked.pk, kept_recent.pk}
    assert ContactRequest.objects.filter(assessment=kept_linked).exists()
    day = old.date()
    assert counts() == {
        (day, "not_indicated", "none", "FL"): 1,
        (day, "outside_service_area", "none", "TX"): 1,
        (day, "", "", ""): 1,
    }
    assert not {burnout.pk, out_of_area.pk, abandoned.pk} & remaining()


def test_the_cutoff_is_exact_to_the_moment() -> None:
    cutoff = NOW - timedelta(days=DAYS)
    at_cutoff = screen(cutoff, BURNOUT_ONLY)
    just_before = screen(cutoff - timedelta(seconds=1), BURNOUT_ONLY)
    purge_anonymous(NOW, DAYS)
    assert remaining() == {at_cutoff.pk}
    assert just_before.pk not in remaining()


def test_counts_add_up_across_runs_and_batches() -> None:
    old = NOW - timedelta(days=DAYS + 5)
    for _ in range(5):
        screen(old, BURNOUT_ONLY)
    assert purge_anonymous(NOW, DAYS, batch_size=2).deleted == 5
    for _ in range(3):
        screen(old + timedelta(hours=1), BURNOUT_ONLY)
    assert purge_anonymous(NOW, DAYS, batch_size=2).deleted == 3
    assert counts() == {(old.date(), "not_indicated", "none", "FL"): 8}
    assert purge_anonymous(NOW, DAYS).deleted == 0  # nothing left: safe to run again


def test_the_day_counted_is_the_day_the_screen_started_in_utc() -> None:
    screen(datetime(2026, 8, 1, 23, 59, tzinfo=UTC), BURNOUT_ONLY)
    screen(datetime(2026, 8, 2, 0, 1, tzinfo=UTC), BURNOUT_ONLY)
    purge_anonymous(NOW, DAYS)
    assert counts() == {
        (date(2026, 8, 1), "not_indicated", "none", "FL"): 1,
        (date(2026, 8, 2), "not_indicated", "none", "FL"): 1,
    }


def test_the_command_uses_the_policy_and_the_current_time() -> None:
    now = timezone.now()
    old = screen(now - timedelta(days=DAYS + 2), BURNOUT_ONLY)
    recent = screen(now - timedelta(days=2), BURNOUT_ONLY)

    out = io.StringIO()
    call_command("purge_anonymous", "--dry-run", stdout=out)
    assert "would delete 1 anonymous screens" in out.getvalue()
    assert remaining() == {old.pk, recent.pk}

    out = io.StringIO()
    call_command("purge_anonymous", stdout=out)
    assert "deleted 1 anonymous screens" in out.getvalue()
    assert f"({DAYS}-day policy" in out.getvalue()
    assert remaining() == {recent.pk}
    assert sum(counts().values()) == 1


@pytest.mark.parametrize("size", ["0", "-1"])
def test_a_batch_size_below_one_is_refused(size: str) -> None:
    """0 deleted nothing and still said "deleted 0 anonymous screens" (exit 0): screens past
    their days stayed, with nothing to say so; -1 was a traceback."""
    old = screen(timezone.now() - timedelta(days=DAYS + 2), BURNOUT_ONLY)
    with pytest.raises(CommandError, match="--batch-size: must be at least 1"):
        call_command("purge_anonymous", "--batch-size", size, stdout=io.StringIO())
    assert remaining() == {old.pk}
