"""`GET /metrics`: what an operator alerts on, in Prometheus' text format.

- open alerts and overdue ones, by level (an unacknowledged acute alert past its deadline is the
  page that matters most);
- the case queue (open or claimed cases, by urgency);
- the worker's liveness: when each periodic job last ran (escalation runs every minute: if its
  timestamp stops moving, no alert escalates and no notification is sent), and how many tasks
  are ready and since when the oldest waits;
- when the audit chain was last anchored (the anchor file's modification time);
- which engine, knowledge and policy versions this process serves.

Computed from the database at each scrape (a few indexed counts), so every app process answers
the same and nothing is kept per process. Counts, timestamps and versions only: no patient data.
Off (404) unless `CROSSLINE_METRICS_TOKEN` is set; a scrape then sends it as a bearer token.
The exposition format is prometheus_client's.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db.models import Count, Min, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, InfoMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST


class Collector:
    """The gauges, read from the database when Prometheus scrapes."""

    def collect(self) -> Iterator[Any]:
        yield from _alerts()
        yield _queue()
        yield from _worker()
        yield _anchor()
        yield _build()


def _alerts() -> Iterator[GaugeMetricFamily]:
    from crossline.care.models import Alert

    unacknowledged = Alert.objects.filter(acknowledged_at__isnull=True)
    for name, rows, help_text in (
        ("crossline_alerts_open", unacknowledged, "Unacknowledged alerts, by level."),
        (
            "crossline_alerts_overdue",
            unacknowledged.filter(due_at__lt=timezone.now()),
            "Unacknowledged alerts past their response deadline, by level.",
        ),
    ):
        counts = _counts(rows, "level")
        gauge = GaugeMetricFamily(name, help_text, labels=["level"])
        for level in Alert.Level.values:
            gauge.add_metric([level], counts.get(level, 0))
        yield gauge


def _queue() -> GaugeMetricFamily:
    from crossline.clinic.models import Case, Urgency

    live = Case.objects.filter(status__in=[Case.Status.OPEN, Case.Status.CLAIMED])
    counts = _counts(live, "urgency")
    gauge = GaugeMetricFamily(
        "crossline_cases_open", "Open or claimed cases, by urgency.", labels=["urgency"]
    )
    for urgency in Urgency:
        gauge.add_metric([urgency.name.lower()], counts.get(urgency.value, 0))
    return gauge


def _counts(rows: QuerySet[Any], field: str) -> dict[Any, int]:
    """Rows per value of `field` (one GROUP BY)."""
    return dict(rows.values(field).annotate(n=Count("pk")).values_list(field, "n"))


def _worker() -> Iterator[GaugeMetricFamily]:
    from django_tasks_db.models import DBTaskResult

    from crossline.care.models import PeriodicRun
    from crossline.care.schedule import jobs

    runs = dict(PeriodicRun.objects.values_list("name", "last_run_at"))
    last = GaugeMetricFamily(
        "crossline_periodic_last_run_timestamp_seconds",
        "When each of the worker's periodic jobs last ran (0: never).",
        labels=["job"],
    )
    for job in sorted(j.name for j in jobs()):
        at = runs.get(job)
        last.add_metric([job], at.timestamp() if at else 0.0)
    yield last
    ready = DBTaskResult.objects.ready().aggregate(n=Count("id"), oldest=Min("enqueued_at"))
    yield GaugeMetricFamily(
        "crossline_tasks_ready", "Background tasks ready to run.", value=ready["n"]
    )
    oldest = ready["oldest"]
    yield GaugeMetricFamily(
        "crossline_tasks_oldest_ready_enqueued_timestamp_seconds",
        "When the oldest ready task was queued (0: none waiting).",
        value=oldest.timestamp() if oldest else 0.0,
    )


def _anchor() -> GaugeMetricFamily:
    path = Path(settings.CROSSLINE.audit_anchor_path)
    return GaugeMetricFamily(
        "crossline_audit_anchor_timestamp_seconds",
        "When the audit chain's head was last anchored outside the database (0: never).",
        value=path.stat().st_mtime if path.exists() else 0.0,
    )


def _build() -> InfoMetricFamily:
    from crossline.engine.decision import ENGINE_VERSION
    from crossline.program.policy import current_knowledge

    k = current_knowledge()
    return InfoMetricFamily(
        "crossline_build",
        "The engine, knowledge and policy versions this process serves.",
        value={
            "engine_version": ENGINE_VERSION,
            "knowledge_version": k.version,
            "policy_version": k.policy.version,
        },
    )


_REGISTRY = CollectorRegistry(auto_describe=False)
_REGISTRY.register(Collector())


@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    token = bytes(settings.CROSSLINE.metrics_token)
    if not token:
        raise Http404("metrics are off: set CROSSLINE_METRICS_TOKEN")
    sent = request.headers.get("Authorization", "").removeprefix("Bearer ").strip().encode()
    if not hmac.compare_digest(sent, token):
        response = HttpResponse("A bearer token is required.\n", status=401)
        response["WWW-Authenticate"] = 'Bearer realm="crossline metrics"'
        return response
    response = HttpResponse(generate_latest(_REGISTRY), content_type=CONTENT_TYPE_LATEST)
    response["Cache-Control"] = "no-store"
    return response
