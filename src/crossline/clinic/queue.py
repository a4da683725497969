"""The urgency queue: which cases a clinician sees, in which order, and how each row reads.

Only the case's plain columns are read (urgency, eligibility, safety level, state, times,
status, who claimed it): showing the queue decrypts nothing. One query fetches a page of rows
with the claimer's name joined in; a second counts them for the pager.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django import forms
from django.core.paginator import Page, Paginator
from django.core.validators import EmailValidator
from django.db.models import QuerySet

from crossline.clinic.claims import queue_order
from crossline.clinic.models import Case, Urgency
from crossline.crypto import normalise_contact
from crossline.intake.contact import earlier_screens
from crossline.intake.states import STATE_NAMES

PAGE_SIZE = 50
Status = Case.Status

STATUS_CHOICES = [
    ("", "Open and claimed"),
    ("open", "Open"),
    ("claimed", "Claimed"),
    ("mine", "Claimed by me"),
    ("decided", "Decided"),
    ("closed", "Closed"),
    ("all", "All"),
]


class QueueFilter(forms.Form):
    status = forms.ChoiceField(choices=STATUS_CHOICES, required=False, label="Status")
    state = forms.ChoiceField(required=False, label="State")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        states = sorted(STATE_NAMES, key=lambda code: STATE_NAMES[code])
        choice = self.fields["state"]
        assert isinstance(choice, forms.ChoiceField)
        choice.choices = [("", "All states"), *((s, f"{STATE_NAMES[s]} ({s})") for s in states)]

    def values(self) -> tuple[str, str]:
        """(status, state) when valid; the default view (open and claimed, every state) if not."""
        if not self.is_valid():
            return "", ""
        return self.cleaned_data["status"], self.cleaned_data["state"]


def cases(user: Any, status: str = "", state: str = "") -> QuerySet[Case]:
    """The queue's cases for `user`, most urgent first (`case_queue` index)."""
    chosen = Case.objects.select_related("claimed_by").only(*ROW_COLUMNS, "claimed_by__username")
    if status == "mine":
        chosen = chosen.filter(status=Status.CLAIMED, claimed_by=user)
    elif status in Status.values:
        chosen = chosen.filter(status=status)
    elif status != "all":
        chosen = chosen.filter(status__in=[Status.OPEN, Status.CLAIMED])
    if state:
        chosen = chosen.filter(state=state)
    return queue_order(chosen)


# The plain columns a row shows; the encrypted assessment is never joined.
ROW_COLUMNS = (
    "public_id", "status", "urgency", "evaluation_requested", "contact_requested",
    "eligibility", "safety_level", "state", "opened_at", "due_at", "claimed_by", "claimed_at",
)  # fmt: skip


@dataclass(frozen=True)
class Row:
    case: Case
    age: timedelta  # how long the request has waited
    time_left: timedelta | None  # until the response deadline; negative once overdue

    @property
    def overdue(self) -> bool:
        return self.time_left is not None and self.time_left < timedelta(0)

    @property
    def age_text(self) -> str:
        return duration(self.age)

    @property
    def deadline_text(self) -> str:
        if self.time_left is None:
            return ""
        if self.overdue:
            return f"overdue by {duration(self.time_left)}"
        return f"{duration(self.time_left)} left"

    @property
    def urgency_class(self) -> str:
        return {Urgency.ACUTE: "acute", Urgency.NON_ACUTE: "non_acute"}.get(
            Urgency(self.case.urgency), "routine"
        )

    @property
    def request_kinds(self) -> str:
        kinds = [
            label
            for wanted, label in (
                (self.case.contact_requested, "contact me"),
                (self.case.evaluation_requested, "evaluation"),
            )
            if wanted
        ]
        return ", ".join(kinds)


def rows(page: Page[Case], now: datetime) -> list[Row]:
    return rows_for(page.object_list, now)


def caption(page: Page[Case]) -> str:
    count, pages = page.paginator.count, page.paginator.num_pages
    text = (
        f"{_cases(count)}, most urgent first: acute suicide risk, "
        "non-acute suicide risk (nearest deadline first in each), then evaluation requests, "
        "oldest first."
    )
    return f"{text} Page {page.number} of {pages}." if pages > 1 else text


def found_caption(rows: list[Row]) -> str | None:
    """The search's table caption, or None when it found nothing."""
    return f"{_cases(len(rows))} of this person, newest first." if rows else None


def _cases(count: int) -> str:
    return f"{count} case{'' if count == 1 else 's'}"


def rows_for(cases: Iterable[Case], now: datetime) -> list[Row]:
    return [
        Row(
            case=case,
            age=now - case.opened_at,
            time_left=None if case.due_at is None or _finished(case) else case.due_at - now,
        )
        for case in cases
    ]


class FindForm(forms.Form):
    """An e-mail address or a US phone number, as the person gave it at their request."""

    contact = forms.CharField(
        label="E-mail address or phone number",
        max_length=254,
        help_text="Exactly as the person gave it when they asked to be contacted. Names cannot "
        "be searched: they are stored only encrypted.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )

    def clean_contact(self) -> tuple[str, str]:
        value = self.cleaned_data["contact"].strip()
        if "@" in value:
            EmailValidator(message="Enter a whole e-mail address, such as name@example.com.")(value)
            return "email", value
        if len(normalise_contact("phone", value)) != PHONE_DIGITS:
            raise forms.ValidationError(
                "Enter an e-mail address, or a phone number with its area code (10 digits)."
            )
        return "phone", value

    def kind(self) -> str:
        return str(self.cleaned_data["contact"][0])


PHONE_DIGITS = 10


def find(contact: tuple[str, str]) -> QuerySet[Case]:
    """The cases of every screen whose request gave this e-mail or phone, newest first."""
    kind, value = contact
    screens = earlier_screens(**{kind: value}).values("pk")
    chosen = Case.objects.select_related("claimed_by").only(*ROW_COLUMNS, "claimed_by__username")
    return chosen.filter(assessment__in=screens).order_by("-opened_at")


def _finished(case: Case) -> bool:
    """A decided or closed case has no deadline left to meet."""
    return case.status in (Status.DECIDED, Status.CLOSED)


def page_of(queryset: QuerySet[Case], number: str | None) -> Page[Case]:
    return Paginator(queryset, PAGE_SIZE).get_page(number)


def duration(delta: timedelta) -> str:
    """A short, exact-enough duration: "45 min", "3 h 05 min", "2 d 4 h"."""
    minutes = int(abs(delta).total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {mins:02d} min"
    return f"{mins} min"
