"""The urgency queue: which cases a clinician sees, in which order, and how each row reads.

Only the case's plain columns are read (urgency, eligibility, safety level, state, times,
status, who claimed it): showing the queue decrypts nothing. One query fetches a page of rows
with the claimer's name joined in; a second counts them for the pager; a third finds, through
the keyed blind indexes of e-mail and phone, which rows are the same person as another case
still open or claimed (`same_person`), so two clinicians do not call one person at once.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from django import forms
from django.core.paginator import Page, Paginator
from django.core.validators import EmailValidator
from django.db.models import QuerySet

from crossline.clinic.claims import queue_order
from crossline.clinic.models import ACTIVE, Case, Urgency
from crossline.crypto import normalise_contact
from crossline.intake.contact import earlier_screens, requests_sharing_contact
from crossline.intake.models import ContactRequest
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
        chosen = chosen.filter(status__in=ACTIVE)
    if state:
        chosen = chosen.filter(state=state)
    return queue_order(chosen)


# The plain columns a row shows (and the assessment's id, to find the same person's other
# cases); the encrypted assessment is never joined.
ROW_COLUMNS = (
    "public_id", "assessment", "status", "urgency", "evaluation_requested", "contact_requested",
    "eligibility", "safety_level", "state", "opened_at", "due_at", "claimed_by", "claimed_at",
)  # fmt: skip


@dataclass(frozen=True)
class OtherCase:
    """Another open or claimed case of the same person: what the queue already shows of it."""

    public_id: Any
    status: str
    claimed_by: str | None  # the claimer's username; None while open
    claimed_by_id: int | None
    opened_at: datetime


@dataclass(frozen=True)
class Row:
    case: Case
    age: timedelta  # how long the request has waited
    time_left: timedelta | None  # until the response deadline; negative once overdue
    same_person: tuple[OtherCase, ...] = ()  # the person's other open or claimed cases

    @property
    def same_person_text(self) -> str:
        return same_person_text(len(self.same_person))

    @property
    def same_person_shown(self) -> tuple[OtherCase, ...]:
        return self.same_person[:SAME_PERSON_LISTED]

    @property
    def same_person_more(self) -> int:
        return max(0, len(self.same_person) - SAME_PERSON_LISTED)

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


# A row lists this many of the person's other cases; the record lists them all.
SAME_PERSON_LISTED = 3


def same_person_text(count: int) -> str:
    """The marker's words, the same on the queue and the record ("open": open or claimed)."""
    return f"Same person as {count} other open case{'' if count == 1 else 's'}"


def rows(page: Page[Case], now: datetime) -> list[Row]:
    """The page's rows, each with the same person's other open or claimed cases."""
    cases = list(page.object_list)
    others = same_person(cases)
    return [replace(row, same_person=others.get(row.case.pk, ())) for row in rows_for(cases, now)]


def same_person(cases: Sequence[Case]) -> dict[int, tuple[OtherCase, ...]]:
    """For each of these cases (a page), the other open or claimed cases whose contact details
    share its e-mail or phone blind index (the record page's "screens by the same person", for
    cases still being worked). One query whatever the page holds; reads no encrypted column."""
    ids = [case.assessment_id for case in cases]
    if not ids:
        return {}
    columns = ("assessment_id", "email_index", "phone_index", *_OTHER_COLUMNS)
    mine = ContactRequest.objects.filter(assessment_id__in=ids).values_list(*columns)
    theirs = [
        sharing.filter(assessment__case__status__in=ACTIVE).values_list(*columns)
        for sharing in requests_sharing_contact(ids)
    ]
    requests = mine.union(*theirs)
    keys: dict[int, set[tuple[str, str]]] = defaultdict(set)  # assessment -> its indexes
    active: dict[tuple[str, str], dict[int, OtherCase]] = defaultdict(dict)  # index -> cases
    for assessment_id, email, phone, *case in requests:
        found = {("email", email)} if email else set()
        found |= {("phone", phone)} if phone else set()
        keys[assessment_id] |= found
        if case[1] in ACTIVE:
            for key in found:
                active[key][assessment_id] = OtherCase(*case)
    return {case.pk: _others(case.assessment_id, keys, active) for case in cases}


_OTHER_COLUMNS = (
    "assessment__case__public_id", "assessment__case__status",
    "assessment__case__claimed_by__username", "assessment__case__claimed_by",
    "assessment__case__opened_at",
)  # fmt: skip


def _others(
    assessment_id: int,
    keys: dict[int, set[tuple[str, str]]],
    active: dict[tuple[str, str], dict[int, OtherCase]],
) -> tuple[OtherCase, ...]:
    found = {a: other for key in keys[assessment_id] for a, other in active[key].items()}
    found.pop(assessment_id, None)
    return tuple(sorted(found.values(), key=lambda other: other.opened_at))


def caption(page: Page[Case]) -> str:
    count, pages = page.paginator.count, page.paginator.num_pages
    text = (
        f"{_cases(count)}, most urgent first: acute suicide risk, "
        "non-acute suicide risk (nearest deadline first in each), then evaluation requests, "
        "oldest first. “Same person” marks a case whose e-mail or phone is also on another "
        "case still open or claimed."
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
