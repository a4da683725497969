"""Staff pages show times in the clinic's zone (`CROSSLINE_TIME_ZONE`), with its abbreviation;
the database keeps UTC. UTC when nothing is configured."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.test import Client, override_settings

from crossline.clinic.models import Case
from tests.clinic.conftest import OpenCase

pytestmark = pytest.mark.django_db

OPENED = datetime(2026, 1, 15, 19, 5, tzinfo=UTC)  # 14:05 in New York (EST)


def _record(client: Client, case: Case) -> str:
    response = client.get(f"/clinic/cases/{case.public_id}/")
    assert response.status_code == 200
    return response.content.decode()


def test_by_default_staff_pages_say_utc(intake: Client, new_case: OpenCase) -> None:
    case = new_case(at=OPENED)
    Case.objects.filter(pk=case.pk).update(opened_at=OPENED)
    assert "Jan 15, 2026 19:05 UTC" in _record(intake, case)


@override_settings(TIME_ZONE="America/New_York")
def test_with_a_clinic_zone_the_record_and_the_queue_show_local_times(
    intake: Client, new_case: OpenCase
) -> None:
    case = new_case(at=OPENED)
    Case.objects.filter(pk=case.pk).update(opened_at=OPENED)
    html = _record(intake, case)
    assert "Jan 15, 2026 14:05 EST" in html
    assert 'datetime="2026-01-15T14:05:00-05:00"' in html  # the same instant, machine-readable
    assert "19:05" not in html
    alerts = intake.get("/clinic/alerts/").content.decode()
    assert "Times are in America/New_York." in alerts
