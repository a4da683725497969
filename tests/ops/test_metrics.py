"""GET /metrics: off unless a token is configured; with it, the operational gauges in
Prometheus' format, read from the database — alerts open and overdue, the case queue, the
worker's periodic jobs and tasks, the audit anchor, the versions — and no patient data."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from prometheus_client.parser import text_string_to_metric_families

from crossline.care.models import Alert, PeriodicRun
from crossline.config import ConfigError, from_environment
from tests.care.support import ACUTE, LEAKS, NON_ACUTE, contact_me, on_call, staff, submitted

pytestmark = pytest.mark.django_db

TOKEN = "mT9v2Qx7LpZr4Wc8Kd1Hs6Nf3Bj5Ye0Ua"  # 34 characters, not a placeholder
ESCALATION = ("crossline_periodic_last_run_timestamp_seconds", (("job", "alerts.escalate"),))


@pytest.fixture
def token(settings: Any, tmp_path: Path) -> str:
    settings.CROSSLINE = replace(
        settings.CROSSLINE,
        metrics_token=TOKEN.encode(),
        audit_anchor_path=tmp_path / "anchors",
    )
    return TOKEN


def scrape(token: str | None = TOKEN) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = Client().get("/metrics", headers=headers)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=")
    assert response["Cache-Control"] == "no-store"
    body = response.content.decode()
    for leak in LEAKS:
        assert leak not in body
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(body)
        for s in family.samples
    }


def test_metrics_are_off_without_a_token_and_refuse_a_wrong_one(token: str, settings: Any) -> None:
    assert Client().get("/metrics").status_code == 401
    wrong = Client().get("/metrics", headers={"Authorization": "Bearer " + "x" * 34})
    assert wrong.status_code == 401 and wrong["WWW-Authenticate"].startswith("Bearer")
    settings.CROSSLINE = replace(settings.CROSSLINE, metrics_token=b"")
    assert Client().get("/metrics", headers={"Authorization": f"Bearer {token}"}).status_code == 404


def test_the_gauges_follow_alerts_cases_the_worker_and_the_anchor(token: str) -> None:
    empty = scrape()
    assert empty[("crossline_alerts_open", (("level", "acute"),))] == 0
    assert empty[("crossline_cases_open", (("urgency", "acute"),))] == 0
    assert empty[("crossline_audit_anchor_timestamp_seconds", ())] == 0
    assert empty[ESCALATION] == 0

    on_call(staff("ada", "physician"))
    for answers in (ACUTE, NON_ACUTE):
        assessment, _ = submitted(answers)
        contact_me(assessment)
    acute = Alert.objects.get(level="acute")
    Alert.objects.filter(pk=acute.pk).update(due_at=timezone.now() - timedelta(minutes=3))
    PeriodicRun.objects.update_or_create(
        name="alerts.escalate", defaults={"last_run_at": timezone.now()}
    )
    from crossline.audit.log import anchor

    anchor()
    now = timezone.now().timestamp()
    found = scrape()
    assert found[("crossline_alerts_open", (("level", "acute"),))] == 1
    assert found[("crossline_alerts_open", (("level", "non_acute"),))] == 1
    assert found[("crossline_alerts_overdue", (("level", "acute"),))] == 1
    assert found[("crossline_alerts_overdue", (("level", "non_acute"),))] == 0
    assert found[("crossline_cases_open", (("urgency", "acute"),))] == 1
    assert found[("crossline_cases_open", (("urgency", "non_acute"),))] == 1
    assert abs(found[ESCALATION] - now) < 60
    assert abs(found[("crossline_audit_anchor_timestamp_seconds", ())] - now) < 60
    waiting = DBTaskResult.objects.ready().count()  # the alerts' notifications, for the worker
    assert found[("crossline_tasks_ready", ())] == waiting
    oldest = found[("crossline_tasks_oldest_ready_enqueued_timestamp_seconds", ())]
    assert (abs(oldest - now) < 60) if waiting else oldest == 0
    build = [k for k in found if k[0] == "crossline_build_info"]
    assert len(build) == 1 and {"engine_version", "knowledge_version", "policy_version"} == {
        name for name, _ in build[0][1]
    }


def test_a_short_or_placeholder_token_stops_start_up(tmp_path: Path) -> None:
    env = {"CROSSLINE_DATA_DIR": str(tmp_path)}
    for bad in ("short", "change-me-change-me-change-me-change-me"):
        with pytest.raises(ConfigError, match="CROSSLINE_METRICS_TOKEN"):
            from_environment({**env, "CROSSLINE_METRICS_TOKEN": bad})
    assert from_environment({**env, "CROSSLINE_METRICS_TOKEN": TOKEN}).metrics_token
