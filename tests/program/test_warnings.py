"""The telemedicine legal basis warning (FACTS §G1): from 90 days before it lapses on every
staff page for clinicians and operators; after it lapses, approval needs an in-person
evaluation. Dates are injected; the edge is tested on both sides."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client, RequestFactory
from django.utils import timezone

from crossline.accounts.context import staff_warnings
from crossline.accounts.roles import Role
from crossline.program.models import ProgramSettings
from crossline.program.warnings import WARN_DAYS, warnings_for

pytestmark = pytest.mark.django_db

EXPIRES = dt.date(2026, 12, 31)  # the DEA flexibilities' end (FACTS §G1), the default
ALL = frozenset(Role)


def test_shown_from_90_days_before_and_not_at_91():
    assert warnings_for(ALL, today=EXPIRES - dt.timedelta(days=WARN_DAYS + 1)) == []
    [warning] = warnings_for(ALL, today=EXPIRES - dt.timedelta(days=WARN_DAYS))
    assert "lapses on 31 December 2026 — in 90 days" in warning
    assert "will require a recorded in-person evaluation" in warning


def test_shown_today_in_this_world():
    [warning] = warnings_for(ALL, today=dt.date(2026, 11, 28))
    assert "in 33 days" in warning


def test_on_its_last_day_it_is_still_in_force():
    [warning] = warnings_for(ALL, today=EXPIRES)
    assert "lapses on 31 December 2026 — today" in warning
    assert ProgramSettings.current().telemedicine_basis_in_force(EXPIRES)


def test_after_it_lapses_approval_now_needs_an_in_person_evaluation():
    for today in (EXPIRES + dt.timedelta(days=1), dt.date(2027, 6, 1)):
        [warning] = warnings_for(ALL, today=today)
        assert "lapsed on 31 December 2026" in warning
        assert "now requires a recorded in-person evaluation" in warning


def test_an_extension_recorded_by_an_operator_moves_the_warning():
    s = ProgramSettings.current()
    s.telemedicine_basis_expires = dt.date(2027, 12, 31)
    s.save()
    assert warnings_for(ALL, today=dt.date(2026, 11, 28)) == []
    assert warnings_for(ALL, today=dt.date(2027, 10, 2))  # 90 days before the new date


def test_no_basis_recorded_means_in_person_evaluation():
    s = ProgramSettings.current()
    s.telemedicine_basis = ""
    s.save()
    [warning] = warnings_for(ALL, today=dt.date(2026, 1, 1))
    assert "No legal basis" in warning and "in-person evaluation" in warning


def test_no_expiry_no_warning():
    s = ProgramSettings.current()
    s.telemedicine_basis_expires = None
    s.save()
    assert warnings_for(ALL, today=dt.date(2030, 1, 1)) == []


@pytest.mark.parametrize("role", list(Role))
def test_every_staff_role_sees_it_and_nobody_else(role: Role):
    s = ProgramSettings.current()
    s.telemedicine_basis_expires = timezone.localdate() + dt.timedelta(days=10)
    s.save()
    request = RequestFactory().get("/clinic/")
    assert len(staff_warnings(request, frozenset({role}))) == 1
    assert staff_warnings(request, frozenset()) == []


def test_the_staff_banner_and_the_dashboard_show_it(operator_client: Client):
    s = ProgramSettings.current()
    s.telemedicine_basis_expires = timezone.localdate() + dt.timedelta(days=WARN_DAYS)
    s.save()
    html = operator_client.get("/clinic/program/").content.decode()
    assert html.count("in 90 days") == 2  # the staff banner and the dashboard's section
    assert '<p class="warning" role="status">' in html
    s.telemedicine_basis_expires = timezone.localdate() + dt.timedelta(days=WARN_DAYS + 1)
    s.save()
    html = operator_client.get("/clinic/program/").content.decode()
    assert "lapses on" not in html
    assert f"<dd>{WARN_DAYS + 1}</dd>" in html  # days left still shown


def test_the_dashboard_after_the_basis_lapsed(operator_client: Client):
    s = ProgramSettings.current()
    s.telemedicine_basis_expires = timezone.localdate() - dt.timedelta(days=3)
    s.save()
    html = operator_client.get("/clinic/program/").content.decode()
    assert "Lapsed 3 days ago" in html
    assert "No — approval requires a recorded in-person evaluation" in html
    assert html.count("now requires a recorded in-person evaluation") == 2
