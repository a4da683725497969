"""The operator's audit search: by patient reference, by actor, by action, newest first."""

from __future__ import annotations

import uuid

from django import forms
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from crossline.accounts.decorators import role_required
from crossline.accounts.roles import Role
from crossline.audit.actions import Action
from crossline.audit.log import record
from crossline.audit.models import Event

PAGE_SIZE = 100


class SearchForm(forms.Form):
    patient = forms.CharField(
        required=False, max_length=64, label="Patient (case or assessment id)"
    )
    actor = forms.CharField(required=False, max_length=254, label="Actor (sign-in e-mail)")
    action = forms.ChoiceField(
        required=False,
        choices=[("", "any action")] + [(a.value, a.value) for a in Action],
    )

    def clean_patient(self) -> str:
        value: str = self.cleaned_data["patient"].strip()
        if value:
            try:
                value = str(uuid.UUID(value))
            except ValueError:
                raise forms.ValidationError("Enter a case or assessment id (a UUID).") from None
        return value


@role_required(Role.OPERATOR)
def search(request: HttpRequest) -> HttpResponse:
    form = SearchForm(request.GET or None)
    events = Event.objects.order_by("-seq")
    filtered = False
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        if data["patient"]:
            events = events.filter(patient=data["patient"])
        if data["actor"]:
            events = events.filter(actor__iexact=data["actor"].strip())
        if data["action"]:
            events = events.filter(action=data["action"])
        filtered = any(data.values())
        record(
            Action.AUDIT_SEARCHED,
            request=request,
            detail={
                "by_patient": bool(data["patient"]),
                "by_actor": bool(data["actor"]),
                "action": data["action"] or None,
            },
        )
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "audit/search.html",
        {"form": form, "page": page, "filtered": filtered, "query": _query(request)},
    )


def _query(request: HttpRequest) -> str:
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()
