"""The screens export (/clinic/program/export/, operator role): how many screens started each
day, by result, safety level and state, as CSV — for reports to a board, a funder or a state.

Counts only, from the non-identifying columns the dashboard reads (no encrypted column is
read) plus the aggregate counts that retention keeps of the anonymous screens it deleted, so a
period reads the same before and after the purge. Days are UTC dates, as `AggregateCount.day`.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import Counter
from dataclasses import dataclass

from django import forms
from django.db.models import Count, Sum
from django.db.models.functions import TruncDate

from crossline import periods
from crossline.engine.check import ELIGIBILITIES
from crossline.intake.models import AggregateCount, Assessment

MAX_DAYS = 366
COLUMNS = ("day", "result", "safety_level", "state", "stored", "purged", "total")

Key = tuple[dt.date, str, str, str]  # day, eligibility, safety level, state


@dataclass(frozen=True)
class Row:
    day: dt.date
    eligibility: str  # blank: never submitted
    safety_level: str
    state: str
    stored: int  # screens still in the database
    purged: int  # screens retention deleted, kept as counts

    @property
    def total(self) -> int:
        return self.stored + self.purged


class PeriodForm(forms.Form):
    """The period to export: first and last day (UTC), both included, at most a year."""

    start = periods.DayField(label="First day", input_formats=["%Y-%m-%d"])
    end = periods.DayField(label="Last day", input_formats=["%Y-%m-%d"])

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        periods.check_order(self, "start", "end")  # an error there takes "end" out of data
        start, end = data.get("start"), data.get("end")
        if (
            isinstance(start, dt.date)
            and isinstance(end, dt.date)
            and (end - start).days + 1 > MAX_DAYS
        ):
            self.add_error("end", f"At most {MAX_DAYS} days at a time.")
        return data


def screen_counts(start: dt.date, end: dt.date) -> list[Row]:
    """Screens started from `start` to `end` (UTC days, both included), grouped by day,
    result, safety level and state, in that order."""
    begin, stop = periods.start_of(start), periods.end_of(end)
    stored: Counter[Key] = Counter()
    live = (
        Assessment.objects.filter(created_at__gte=begin, created_at__lt=stop)
        .annotate(day=TruncDate("created_at", tzinfo=dt.UTC))
        .values_list("day", "eligibility", "safety_level", "state")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for day, eligibility, safety, state, n in live:
        stored[(day, eligibility, safety, state)] += n
    purged: Counter[Key] = Counter()
    kept = (
        AggregateCount.objects.filter(day__gte=start, day__lte=end)
        .values_list("day", "eligibility", "safety_level", "state")
        .annotate(n=Sum("count"))
        .order_by()
    )
    for day, eligibility, safety, state, n in kept:
        purged[(day, eligibility, safety, state)] += n or 0
    keys = sorted(set(stored) | set(purged), key=_order)
    return [Row(*key, stored=stored[key], purged=purged[key]) for key in keys]


_SAFETY = ("none", "non_acute", "acute")


def _order(key: Key) -> tuple[object, ...]:
    """By day, then result as the dashboard lists them (never submitted last), then safety
    level from none to acute, then state."""
    day, eligibility, safety, state = key
    result = (
        ELIGIBILITIES.index(eligibility) if eligibility in ELIGIBILITIES else len(ELIGIBILITIES)
    )
    level = _SAFETY.index(safety) if safety in _SAFETY else len(_SAFETY)
    return (day, result, not eligibility, eligibility, level, safety, state)


def as_csv(rows: list[Row]) -> str:
    """One header line, then a line per row; a never-submitted screen's result is
    "not_submitted" and its safety level "not_screened" (blank columns in the database)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for r in rows:
        writer.writerow(
            [
                r.day.isoformat(),
                r.eligibility or "not_submitted",
                r.safety_level or "not_screened",
                r.state,
                r.stored,
                r.purged,
                r.total,
            ]
        )
    return out.getvalue()
