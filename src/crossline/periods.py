"""Periods of whole UTC days, as the staff forms that export data take them (first and last
day, both included): one check of their order, one conversion to timestamps. And `DayField`,
the day every staff form takes: one crossline can add to and subtract from."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.core import validators

BACKWARDS = "The last day is before the first day."
# The days a staff form takes: wide enough for any record crossline can hold, narrow enough
# that the days around them are still dates (9999-12-31 has no next day, 0001-01-01 no day
# before: server errors in the audit search, the export and the course plan, found by the
# property tests of the forms).
FIRST_DAY = dt.date(2000, 1, 1)
LAST_DAY = dt.date(2999, 12, 31)


class DayField(forms.DateField):
    """A day between FIRST_DAY and LAST_DAY."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        between = f"Enter a day between {FIRST_DAY} and {LAST_DAY}."
        self.validators += [
            validators.MinValueValidator(FIRST_DAY, message=between),
            validators.MaxValueValidator(LAST_DAY, message=between),
        ]


def check_order(form: forms.Form, first: str, last: str) -> None:
    """In `form.clean()`: an error on the `last` field when it comes before `first`."""
    start, end = form.cleaned_data.get(first), form.cleaned_data.get(last)
    if isinstance(start, dt.date) and isinstance(end, dt.date) and end < start:
        form.add_error(last, BACKWARDS)


def start_of(day: dt.date) -> dt.datetime:
    """The first instant of a UTC day."""
    return dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC)


def end_of(day: dt.date) -> dt.datetime:
    """The first instant after a UTC day (a period's exclusive upper bound)."""
    return start_of(day + dt.timedelta(days=1))
