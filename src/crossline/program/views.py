"""The program dashboard (/clinic/program/, operator role): the settings in force, the policy
values of the knowledge release (read-only, with citations) and counts by non-identifying
columns only; the dashboard reads no encrypted column. The courses page (/clinic/program/courses/,
physicians and operators) reads the weekly scores to compute rates and shows only aggregates."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings as django_settings
from django.db.models import Count, Max, Q, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone

from crossline.accounts.decorators import role_required
from crossline.accounts.roles import Role, active_clinicians
from crossline.api.models import CdsCard
from crossline.audit import Action, record
from crossline.audit.models import Event
from crossline.clinic.models import Case, Urgency
from crossline.course.models import CheckIn, Course
from crossline.course.services import measured_on
from crossline.course.summary import FLAGS, summarise
from crossline.engine.check import ELIGIBILITIES
from crossline.engine.knowledge import _POLICY_FIELDS, OPERATOR_EDITABLE, Knowledge
from crossline.engine.outcomes import Measure
from crossline.intake.models import AggregateCount, Assessment
from crossline.program.consent import current_published
from crossline.program.export import MAX_DAYS, PeriodForm, as_csv, screen_counts
from crossline.program.models import ConsentText, OnCallEntry, ProgramSettings
from crossline.program.policy import base_knowledge, current_knowledge
from crossline.program.warnings import WARN_DAYS, telemedicine

WINDOW_DAYS = 30

# Plain-language names of the policy values (the keys of policy.toml [values]).
POLICY_LABELS = {
    "service_states": "Service states",
    "min_age": "Minimum age (hard floor)",
    "phq2_gate": "PHQ-2 total that continues to the full PHQ-9",
    "phq9_positive": "PHQ-9 total for a positive depression screen",
    "burnout_present": "Burnout item: burnout present from",
    "burnout_asq_trigger": "Burnout item value that triggers the ASQ",
    "young_adult_max_age": "Review flag: young adult up to age",
    "older_adult_min_age": "Review flag: older adult from age",
    "trd_trials_flag": "Failed antidepressant trials for the treatment-resistance flag",
    "bp_review_systolic": "Blood pressure review: systolic above",
    "bp_review_diastolic": "Blood pressure review: diastolic above",
    "universal_asq": "Ask the ASQ of everyone",
    "alert_deadline_acute_minutes": "Acute alert deadline (minutes)",
    "alert_deadline_non_acute_minutes": "Non-acute alert deadline (minutes)",
    "anonymous_retention_days": "Anonymous screens kept for (days)",
}


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, frozenset | set | list | tuple):
        return ", ".join(sorted(value))
    return str(value)


def policy_rows(release: Knowledge, effective: Knowledge) -> list[dict[str, Any]]:
    rows = []
    for name in _POLICY_FIELDS:
        value, in_force = getattr(release.policy, name), getattr(effective.policy, name)
        cites = release.policy.citations.get(name, ())
        rows.append(
            {
                "name": name,
                "label": POLICY_LABELS.get(name, name),
                "release": _show(value),
                "in_force": _show(in_force),
                "overridden": value != in_force,
                "operator_editable": name in OPERATOR_EDITABLE,
                "citations": [
                    {"id": c, "reference": release.citations[c].reference}
                    for c in cites
                    if c in release.citations
                ],
            }
        )
    return rows


def case_counts() -> dict[str, Any]:
    counts = {
        (row["status"], row["urgency"]): row["n"]
        for row in Case.objects.values("status", "urgency").annotate(n=Count("pk"))
    }
    rows = []
    for status, status_label in Case.Status.choices:
        cells = [counts.get((status, u.value), 0) for u in Urgency]
        rows.append({"status": status_label, "cells": cells, "total": sum(cells)})
    totals = [sum(r["cells"][i] for r in rows) for i in range(len(Urgency))]
    # Cases the record retention deleted are not in the table; the audit log counts them (over
    # the window: the time index bounds the read, the log has no index on its action).
    since = timezone.now() - dt.timedelta(days=WINDOW_DAYS)
    deleted = Event.objects.filter(action=Action.RECORD_DELETED, at__gte=since).count()
    return {
        "urgencies": Urgency.labels,
        "rows": rows,
        "totals": totals,
        "total": sum(totals),
        "deleted": deleted,
    }


def eligibility_counts(today: dt.date) -> dict[str, Any]:
    """Screens started in the last WINDOW_DAYS days, by eligibility: the stored screens'
    plain columns plus the aggregate counts of anonymous screens retention already deleted."""
    since = today - dt.timedelta(days=WINDOW_DAYS - 1)
    start = timezone.make_aware(dt.datetime.combine(since, dt.time.min))
    live = dict(
        Assessment.objects.filter(created_at__gte=start)
        .values_list("eligibility")
        .annotate(n=Count("pk"))
        .values_list("eligibility", "n")
    )
    purged = dict(
        AggregateCount.objects.filter(day__gte=since)
        .values_list("eligibility")
        .annotate(n=Sum("count"))
        .values_list("eligibility", "n")
    )
    keys = [*ELIGIBILITIES, *sorted((set(live) | set(purged)) - set(ELIGIBILITIES) - {""}), ""]
    rows = [
        {
            "eligibility": key.replace("_", " ") if key else "not submitted",
            "stored": live.get(key, 0),
            "purged": purged.get(key, 0) or 0,
            "total": live.get(key, 0) + (purged.get(key, 0) or 0),
        }
        for key in keys
    ]
    return {"since": since, "rows": rows, "total": sum(r["total"] for r in rows)}


def consent_rows() -> list[dict[str, Any]]:
    rows = []
    fallback = base_knowledge().copy.get("consent", {})
    for kind, label in ConsentText.Kind.choices:
        published = current_published(kind)
        built_in = fallback.get(kind)
        add = reverse("admin:program_consenttext_add")
        rows.append(
            {
                "label": label,
                "version": published.version if published else None,
                "published_at": published.published_at if published else None,
                "built_in": built_in["version"] if built_in and not published else None,
                "drafts": ConsentText.objects.filter(kind=kind, published_at=None).count(),
                "new_url": f"{add}?copy_of={published.pk}" if published else f"{add}?kind={kind}",
            }
        )
    return rows


def roster() -> list[dict[str, Any]]:
    """The roster's entries, each saying whether alerts page it (`care.alerts.roster`)."""
    clinicians = set(active_clinicians().values_list("pk", flat=True))
    return [
        {
            "position": e.position,
            "user": e.user.get_username(),
            "active": e.active,
            "clinician": e.user_id in clinicians,
        }
        for e in OnCallEntry.objects.select_related("user").order_by("position")
    ]


@role_required(Role.OPERATOR)
def dashboard(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    settings = ProgramSettings.current()
    release, effective = base_knowledge(), current_knowledge()
    legal = telemedicine(today)
    context = {
        "settings": settings,
        "service_states": sorted(effective.policy.service_states),
        "service_states_default": settings.service_states is None,
        "universal_asq": effective.policy.universal_asq,
        "notification_count": len(settings.notification_addresses()),
        "legal": legal,
        "warn_days": WARN_DAYS,
        "roster": roster(),
        "consents": consent_rows(),
        "policy": policy_rows(release, effective),
        "knowledge_version": release.version,
        "policy_version": effective.policy.version,
        "release_policy_version": release.policy.version,
        "cases": case_counts(),
        "eligibility": eligibility_counts(today),
        "window_days": WINDOW_DAYS,
        "cds": cds_clients(timezone.now()),
        "cds_cards": cds_cards(release, timezone.now()),
        "questionnaire_url": reverse("fhir:questionnaire", args=["crossline-assessment"]),
        "admin": {
            "settings": reverse("admin:program_programsettings_change", args=[settings.pk]),
            "roster": reverse("admin:program_oncallentry_changelist"),
            "consents": reverse("admin:program_consenttext_changelist"),
        },
    }
    return render(request, "program/dashboard.html", context)


def cds_clients(now: dt.datetime) -> list[dict[str, Any]]:
    """Each EHR trusted to call the CDS Hooks service (the configuration), with the calls it
    made in the window that were answered (the audit log's `cds.checked`: who and when only),
    the cards it was given then and how many of those its prescribers overrode (feedback)."""
    since = now - dt.timedelta(days=WINDOW_DAYS)
    calls = {
        row["actor"]: row
        for row in Event.objects.filter(action=Action.CDS_CHECKED, at__gte=since)
        .values("actor")
        .annotate(n=Count("seq"), last=Max("at"))
    }
    cards = _card_counts(since, "issuer")
    rows = []
    for issuer in sorted(django_settings.CROSSLINE.cds_clients):
        seen = calls.get(f"cds:{issuer}"[:254], {})
        given, overridden = cards.get((issuer,), (0, 0))
        rows.append(
            {
                "issuer": issuer,
                "calls": seen.get("n", 0),
                "last": seen.get("last"),
                "cards": given,
                "overridden": overridden,
            }
        )
    return rows


def cds_cards(k: Knowledge, now: dt.datetime) -> list[dict[str, Any]]:
    """The cards given in the window by what they are about (a class of medicines in the
    knowledge base's words, unrecognised names, the conditions checklist), most urgent first,
    with how many prescribers overrode: what the program's medical director reviews."""
    since = now - dt.timedelta(days=WINDOW_DAYS)
    labels = {f"class:{cid}": c.label["en"] for cid, c in k.medication_classes.items()}
    copy = k.copy["cds"]  # the cards' own summaries
    labels |= {"unrecognised": copy["unrecognised"]["en"], "conditions": copy["conditions"]["en"]}
    order = {"critical": 0, "warning": 1, "info": 2}
    rows = [
        {"kind": labels.get(kind, kind), "indicator": indicator, "cards": n, "overridden": o}
        for (kind, indicator), (n, o) in _card_counts(since, "kind", "indicator").items()
    ]
    return sorted(rows, key=lambda r: (order.get(r["indicator"], 3), -r["cards"], r["kind"]))


def _card_counts(since: dt.datetime, *by: str) -> dict[tuple[Any, ...], tuple[int, int]]:
    """Cards given since `since`, grouped `by` those columns: (given, overridden at least once).
    Distinct counts: an EHR may report the same card more than once."""
    rows = (
        CdsCard.objects.filter(issued_at__gte=since)
        .values(*by)
        .annotate(
            n=Count("uuid", distinct=True),
            o=Count("uuid", distinct=True, filter=Q(feedback__outcome="overridden")),
        )
    )
    return {tuple(r[f] for f in by): (r["n"], r["o"]) for r in rows}


def outcome_series() -> dict[int, list[Measure]]:
    """Every course's weekly scores, dated as the course page dates them
    (`course.services.measured_on`). One query; rows, not model instances (the columns the
    outcome needs)."""
    weekly = CheckIn.objects.filter(kind=CheckIn.Kind.WEEKLY).order_by("submitted_at", "pk")
    series: dict[int, list[Measure]] = {}
    columns = ("course_id", "weekly__due_on", "submitted_at", "decision")
    for course, due, at, decision in weekly.values_list(*columns).iterator():
        measure = Measure(measured_on(due, at), dict(decision["scores"]))
        series.setdefault(course, []).append(measure)
    return series


@role_required(Role.PHYSICIAN, Role.OPERATOR)
def courses(request: HttpRequest) -> HttpResponse:
    """Courses by state, and PHQ-9 / GAD-7 response and remission so far (aggregates only).

    The weekly scores are read (decrypted) to compute the rates, so the view is audited; the page
    shows no patient."""
    rows = Course.objects.values_list("pk", "status", "induction_end")
    summary = summarise(
        current_knowledge(),
        [status for _, status, _ in rows],
        outcome_series(),
        {pk: end for pk, _, end in rows},
    )
    record(Action.PROGRAM_OUTCOMES_VIEWED, request=request, detail={"courses": summary["total"]})
    outcomes = current_knowledge().docs["policy.toml"]["outcomes"]
    rate_rows = [
        {
            "label": label,
            "measured": summary["measured"][instrument],
            "cells": [summary["rates"][instrument][flag] for flag in FLAGS],
        }
        for instrument, label in (("phq9", "PHQ-9"), ("gad7", "GAD-7"))
    ]
    context = {"summary": summary, "rate_rows": rate_rows, "policy": outcomes}
    return render(request, "program/courses.html", context)


@role_required(Role.OPERATOR)
def export_screens(request: HttpRequest) -> HttpResponse:
    """The screens export: without a period, the form (the last WINDOW_DAYS days filled in);
    with a valid one, the CSV download (audited: who, which period, how many rows); with a bad
    one, the form again naming the field (400)."""
    if "start" not in request.GET and "end" not in request.GET:
        today = timezone.now().astimezone(dt.UTC).date()
        initial = {"start": today - dt.timedelta(days=WINDOW_DAYS - 1), "end": today}
        form = PeriodForm(initial={k: v.isoformat() for k, v in initial.items()})
        return _export_page(request, form)
    form = PeriodForm(request.GET)
    if not form.is_valid():
        return _export_page(request, form, status=400)
    start, end = form.cleaned_data["start"], form.cleaned_data["end"]
    rows = screen_counts(start, end)
    record(
        Action.PROGRAM_SCREENS_EXPORTED,
        request=request,
        detail={"start": start.isoformat(), "end": end.isoformat(), "rows": len(rows)},
    )
    response = HttpResponse(as_csv(rows), content_type="text/csv; charset=utf-8")
    name = f"crossline-screens-{start:%Y%m%d}-{end:%Y%m%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _export_page(request: HttpRequest, form: PeriodForm, status: int = 200) -> HttpResponse:
    context = {"form": form, "max_days": MAX_DAYS, "results": ELIGIBILITIES}
    return render(request, "program/export.html", context, status=status)
