"""Periods of whole UTC days, as the staff forms that export data take them (first and last
day, both included): one check of their order, one conversion to timestamps."""

from __future__ import annotations

import datetime as dt

from django import forms

BACKWARDS = "The last day is before the first day."


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
