"""The operator's audit search: by patient reference, by actor, by action and by period, newest
first — and the same events as a CSV file, oldest first (an access report for one patient, a
compliance review of one user), itself audited."""

from __future__ import annotations

import csv
import datetime as dt
import json
import uuid
from collections.abc import Iterator

from django import forms
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseBase, StreamingHttpResponse
from django.shortcuts import render

from crossline import periods
from crossline.accounts.decorators import role_required
from crossline.accounts.roles import Role
from crossline.audit.actions import Action
from crossline.audit.log import record
from crossline.audit.models import Event

PAGE_SIZE = 100
# A download streams within one request, which the server stops after 30 s: larger reports are
# split by period (the form says so), or read with `crossline audit` tools on the database.
MAX_EXPORT_ROWS = 100_000
CSV_COLUMNS = (
    "seq", "at", "action", "actor", "actor_id", "patient", "object_type", "object_id",
    "request_id", "detail",
)  # fmt: skip


class SearchForm(forms.Form):
    patient = forms.CharField(
        required=False, max_length=64, label="Patient (case or assessment id)"
    )
    actor = forms.CharField(required=False, max_length=254, label="Actor (sign-in e-mail)")
    action = forms.ChoiceField(
        required=False,
        choices=[("", "any action")] + [(a.value, a.value) for a in Action],
    )
    since = periods.DayField(required=False, label="From (UTC date)")
    until = periods.DayField(required=False, label="To (UTC date)")

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        periods.check_order(self, "since", "until")
        return data

    def clean_patient(self) -> str:
        value: str = self.cleaned_data["patient"].strip()
        if value:
            try:
                value = str(uuid.UUID(value))
            except ValueError:
                raise forms.ValidationError("Enter a case or assessment id (a UUID).") from None
        return value


@role_required(Role.OPERATOR)
def search(request: HttpRequest) -> HttpResponseBase:
    form = SearchForm(request.GET or None)
    events = Event.objects.order_by("-seq")
    filtered = False
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        events = _filtered(events, data)
        filtered = any(data.values())
        if request.GET.get("format") == "csv":
            return _export(request, form, events)
        record(Action.AUDIT_SEARCHED, request=request, detail=_criteria(data))
    return _page(request, form, events, filtered)


def _page(
    request: HttpRequest, form: SearchForm, events: QuerySet[Event], filtered: bool
) -> HttpResponse:
    """The search page: the form (400 when it has errors) and a page of events."""
    context = {
        "form": form,
        "page": Paginator(events, PAGE_SIZE).get_page(request.GET.get("page")),
        "filtered": filtered,
        "query": _query(request),
        "max_export": MAX_EXPORT_ROWS,
    }
    status = 400 if form.is_bound and form.errors else 200
    return render(request, "audit/search.html", context, status=status)


def _filtered(events: QuerySet[Event], data: dict[str, object]) -> QuerySet[Event]:
    if data["patient"]:
        events = events.filter(patient=data["patient"])
    if data["actor"]:
        events = events.filter(actor__iexact=str(data["actor"]).strip())
    if data["action"]:
        events = events.filter(action=data["action"])
    if isinstance(data["since"], dt.date):
        events = events.filter(at__gte=periods.start_of(data["since"]))
    if isinstance(data["until"], dt.date):
        events = events.filter(at__lt=periods.end_of(data["until"]))
    return events


def _criteria(data: dict[str, object]) -> dict[str, object]:
    """What was searched for, as the audit event records it: whether a patient or an actor
    was named (not who), the action and the period."""
    return {
        "by_patient": bool(data["patient"]),
        "by_actor": bool(data["actor"]),
        "action": data["action"] or None,
        "since": data["since"].isoformat() if isinstance(data["since"], dt.date) else None,
        "until": data["until"].isoformat() if isinstance(data["until"], dt.date) else None,
    }


def _export(request: HttpRequest, form: SearchForm, events: QuerySet[Event]) -> HttpResponseBase:
    """The matching events as CSV, oldest first; refused (the form again, 400) past
    MAX_EXPORT_ROWS. The export is itself an audit event, written before the file streams."""
    n = events.count()
    if n > MAX_EXPORT_ROWS:
        form.add_error(
            None,
            f"{n:,} events match: at most {MAX_EXPORT_ROWS:,} can be downloaded at once. "
            "Choose a shorter period.",
        )
        return _page(request, form, events, filtered=True)
    data = form.cleaned_data
    record(Action.AUDIT_EXPORTED, request=request, detail={**_criteria(data), "rows": n})
    today = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
    response = StreamingHttpResponse(_csv_lines(events.order_by("seq")), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="crossline-audit-{today}.csv"'
    return response


class _Line:
    """csv.writer's file: each row comes back as the text to stream."""

    def write(self, text: str) -> str:
        return text


def _csv_lines(events: QuerySet[Event]) -> Iterator[str]:
    writer = csv.writer(_Line(), lineterminator="\r\n")
    yield writer.writerow(CSV_COLUMNS)
    for e in events.iterator(chunk_size=2000):
        yield writer.writerow(
            [
                e.seq,
                e.at.astimezone(dt.UTC).isoformat(timespec="seconds"),
                e.action,
                _cell(e.actor),
                "" if e.actor_id is None else e.actor_id,
                e.patient,
                e.object_type,
                e.object_id,
                e.request_id,
                _cell(json.dumps(e.detail, sort_keys=True, separators=(",", ":"))),
            ]
        )


def _cell(text: str) -> str:
    """A cell a spreadsheet will not run as a formula (an actor is a sign-in name someone
    typed; details hold short values): a leading =, +, - or @ is quoted with an apostrophe."""
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def _query(request: HttpRequest) -> str:
    params = request.GET.copy()
    params.pop("page", None)
    params.pop("format", None)
    return params.urlencode()
