"""Every staff URL × every role → allowed or denied, and the denials hold.

The URL list is read from the URL resolver, so a new staff URL that is not classified below
fails this test until someone decides who may use it. One program per deployment: the roles
are the whole access model (anonymous, signed in without the second factor, intake clinician,
prescribing physician, operator). Object ids of other patients (unknown ids) give 404.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from crossline.care.models import Alert
from crossline.clinic.models import Case
from crossline.course import services
from crossline.course.models import Course, Session
from crossline.program.models import ConsentText, OnCallEntry, ProgramSettings
from crossline.visits.models import Visit
from tests.staff import signed_in, staff_user
from tests.web.test_contact import NON_ACUTE, contact_me_form, submitted

pytestmark = pytest.mark.django_db

CLINICAL = frozenset({"intake", "physician"})
OPERATOR = frozenset({"operator"})
PHYSICIAN = frozenset({"physician"})
SIGNED_IN = frozenset({"intake", "physician", "operator"})
ROLES = ("intake", "physician", "operator")

# route (as the resolver spells it) → (method, roles allowed). Routes not listed here and not
# public fail the test: each new staff URL needs a decision.
STAFF: dict[str, tuple[str, frozenset[str]]] = {
    "clinic/": ("GET", CLINICAL),
    "clinic/claim-next/": ("POST", CLINICAL),
    "clinic/find/": ("GET", CLINICAL),
    "clinic/cases/<uuid:public_id>/": ("GET", CLINICAL),
    "clinic/cases/<uuid:public_id>/fhir.json": ("GET", CLINICAL),
    "clinic/cases/<uuid:public_id>/claim/": ("POST", CLINICAL),
    "clinic/cases/<uuid:public_id>/release/": ("POST", CLINICAL),
    "clinic/cases/<uuid:public_id>/close/": ("POST", CLINICAL),
    "clinic/cases/<uuid:public_id>/reopen/": ("POST", CLINICAL),
    "clinic/cases/<uuid:public_id>/evaluation/": ("GET", CLINICAL),
    "clinic/cases/<uuid:public_id>/evaluation/addenda/": ("POST", CLINICAL),
    "clinic/cases/<uuid:public_id>/visit/": ("GET", CLINICAL),
    "clinic/cases/<uuid:public_id>/visit/<uuid:visit_id>/outcome": ("POST", CLINICAL),
    "clinic/cases/<uuid:public_id>/visit/<uuid:visit_id>/cancel": ("POST", CLINICAL),
    "clinic/cases/<uuid:public_id>/course/new/": ("GET", PHYSICIAN),
    "clinic/courses/<uuid:public_id>/": ("GET", CLINICAL),
    "clinic/courses/<uuid:public_id>/schedule/": ("POST", CLINICAL),
    "clinic/courses/<uuid:public_id>/sessions/<uuid:session_id>/clear/": ("POST", CLINICAL),
    "clinic/courses/<uuid:public_id>/sessions/<uuid:session_id>/done/": ("POST", CLINICAL),
    "clinic/courses/<uuid:public_id>/risk/": ("POST", CLINICAL),
    "clinic/courses/<uuid:public_id>/decision/": ("POST", PHYSICIAN),
    "clinic/courses/<uuid:public_id>/supplies/": ("GET", CLINICAL),
    "clinic/courses/<uuid:public_id>/recovery/": ("GET", CLINICAL),
    "clinic/alerts/": ("GET", CLINICAL),
    "clinic/alerts/summary.json": ("GET", CLINICAL),
    "clinic/alerts/<uuid:public_id>/": ("GET", CLINICAL),
    "clinic/alerts/<uuid:public_id>/acknowledge/": ("POST", CLINICAL),
    "clinic/audit/": ("GET", OPERATOR),
    "clinic/program/": ("GET", OPERATOR),
    "clinic/program/courses/": ("GET", frozenset({"physician", "operator"})),
    "clinic/program/export/": ("GET", OPERATOR),
    "clinic/account/": ("GET", SIGNED_IN),
    "clinic/account/sign-out-everywhere/": ("POST", SIGNED_IN),
}
# Reached before or without a session: the sign-in steps, enrolment, sign-out.
PUBLIC_STAFF = {
    "clinic/sign-in/",
    "clinic/verify/",
    "clinic/sign-out/",
    "clinic/enrol/authenticator/",
    "clinic/enrol/<str:token>/",
}
# Admin routes that only redirect elsewhere (to our sign-in / sign-out / account pages).
ADMIN_REDIRECTS = {"admin/login/", "admin/logout/", "admin/password_change/",
                   "admin/password_change/done/"}  # fmt: skip


def routes() -> list[str]:
    def walk(resolver: URLResolver, prefix: str = "") -> list[str]:
        found: list[str] = []
        for p in resolver.url_patterns:
            if isinstance(p, URLResolver):
                found += walk(p, prefix + str(p.pattern))
            elif isinstance(p, URLPattern):
                found.append(prefix + str(p.pattern))
        return found

    return [r for r in walk(get_resolver()) if r.startswith(("clinic/", "admin/"))]


@dataclass
class World:
    case: Case
    alert: Alert
    visit: Visit
    course: Course
    session: Session
    settings_id: int
    roster_id: int
    consent_id: int
    user_id: int

    def url(self, route: str, unknown: bool = False) -> str | None:
        """The route with real ids filled in (or unknown ones); None if it cannot be filled."""
        other = str(uuid.uuid4())
        values = {
            "public_id": other if unknown else str(self.case.public_id),
            "visit_id": other if unknown else str(self.visit.public_id),
            "session_id": other if unknown else str(self.session.public_id),
        }
        if route.startswith("clinic/alerts/"):
            values["public_id"] = other if unknown else str(self.alert.public_id)
        if route.startswith("clinic/courses/"):
            values["public_id"] = other if unknown else str(self.course.public_id)
        if route.startswith("admin/"):
            model = route.split("/")[2] if route.count("/") >= 3 else ""
            object_id = {
                "user": self.user_id, "group": 1, "programsettings": self.settings_id,
                "oncallentry": self.roster_id, "consenttext": self.consent_id,
            }.get(model, 1)  # fmt: skip
            values["object_id"] = str(object_id)
        if "(?P" in route or "<path:content_type_id>" in route:
            return None  # regex catch-alls: covered by the concrete admin URLs
        url = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: values[m.group(1)], route)
        return "/" + url


@pytest.fixture
def world() -> World:
    program = ProgramSettings.current()
    program.video_visit_url = "https://video.example.org/room/1"
    program.save()
    _, token = submitted(NON_ACUTE, "candidate")
    assert Client().post(f"/r/{token}/contact", contact_me_form()).status_code == 302
    case = Case.objects.get()
    clinician = staff_user("roster@example.org", "intake")
    roster = OnCallEntry.objects.create(user=clinician, position=1)
    consent = ConsentText.objects.create(
        kind="contact", version="test-1", text_en="We may contact you.", text_es="Podemos."
    )
    visit = Visit.objects.create(
        case=case,
        starts_at=timezone.now() - timedelta(hours=2),
        duration_minutes=45,
        time_zone="America/New_York",
        video_url=program.video_visit_url,
        proposed_by=clinician,
        proposed_at=timezone.now() - timedelta(days=1),
    )
    # An approved case with a planned course and one scheduled session (the course pages).
    from tests.course.conftest import approve, plan

    # (its own case: the fixture's approval has no evaluation content for the evaluation page)
    from tests.visits.conftest import make_patient

    physician = staff_user("course.physician@example.org", "physician")
    treated = make_patient().case
    approve(treated, physician)
    course = plan(treated, physician, None)
    session, _ = services.schedule_session(
        course,
        timezone.now() + timedelta(hours=2),
        user=physician,
        request=None,
        now=timezone.now(),
    )
    return World(
        case=case,
        alert=Alert.objects.get(case=case),
        visit=visit,
        course=course,
        session=session,
        settings_id=program.pk,
        roster_id=roster.pk,
        consent_id=consent.pk,
        user_id=clinician.pk,
    )


def _client(role: str | None, verified: bool = True) -> Client:
    if role is None:
        return Client()
    user = User.objects.filter(username=f"{role}@example.org").first() or staff_user(
        f"{role}@example.org", role
    )
    return signed_in(user, verified=verified)


def _request(client: Client, method: str, url: str) -> Any:
    return client.post(url, {}) if method == "POST" else client.get(url)


# What the admin refuses everyone, operators included: program settings are one row (no add,
# no delete); accounts come from `crossline createuser` and are deactivated, never deleted;
# roles are fixed; autocomplete answers only the admin's own widgets.
ADMIN_REFUSED = re.compile(
    r"admin/(program/programsettings|auth/user|auth/group)/(add/|<path:object_id>/delete/)$"
    r"|admin/autocomplete/$"
)


def _admin_expectation(route: str) -> tuple[str, frozenset[str]]:
    return ("GET", frozenset() if ADMIN_REFUSED.match(route) else OPERATOR)


def test_every_staff_route_is_classified() -> None:
    unclassified = [
        r for r in routes()
        if r not in STAFF and r not in PUBLIC_STAFF and not r.startswith("admin/")
    ]  # fmt: skip
    assert unclassified == [], f"decide who may use these URLs: {unclassified}"


def _expected_routes() -> list[tuple[str, str, frozenset[str]]]:
    table: list[tuple[str, str, frozenset[str]]] = []
    for route in routes():
        if route in PUBLIC_STAFF or route in ADMIN_REDIRECTS:
            continue
        method, allowed = STAFF[route] if route in STAFF else _admin_expectation(route)
        table.append((route, method, allowed))
    return table


def test_the_matrix(world: World) -> None:
    """Every route × anonymous / unverified / each role; the outcome is checked for each."""
    failures: list[str] = []
    checked = 0
    for route, method, allowed in _expected_routes():
        url = world.url(route)
        if url is None:
            continue
        # Anonymous: the sign-in page, whatever the URL.
        response = _request(Client(), method, url)
        if response.status_code != 302 or not response["Location"].startswith("/clinic/sign-in/"):
            failures.append(f"anonymous {method} {url} → {response.status_code}")
        # Signed in with a password but without the second factor: the verify step.
        for role in ROLES:
            response = _request(_client(role, verified=False), method, url)
            if response.status_code != 302 or not response["Location"].startswith(
                "/clinic/verify/"
            ):
                failures.append(f"unverified {role} {method} {url} → {response.status_code}")
        for role in ROLES:
            response = _request(_client(role), method, url)
            checked += 1
            if role in allowed:
                location = response.get("Location", "")
                signs_out = route.startswith("clinic/account/sign-out")  # then: sign-in page
                if response.status_code in (401, 403, 404) or (
                    location.startswith(("/clinic/sign-in/", "/clinic/verify/")) and not signs_out
                ):
                    failures.append(f"{role} should reach {method} {url}: {response.status_code}")
            elif response.status_code != 403:
                failures.append(f"{role} must be denied {method} {url}: {response.status_code}")
    assert checked > 60
    assert failures == []


def test_other_patients_ids_give_404(world: World) -> None:
    """Unknown (or another deployment's) object ids: 404 for the roles that may use the URL."""
    failures: list[str] = []
    for route, method, allowed in _expected_routes():
        if "<uuid:" not in route:
            continue
        url = world.url(route, unknown=True)
        assert url is not None
        for role in sorted(allowed):
            response = _request(_client(role), method, url)
            if response.status_code != 404:
                failures.append(f"{role} {method} {url} → {response.status_code}")
    assert failures == []


def test_denials_are_audited(world: World) -> None:
    from crossline.audit.models import Event

    before = Event.objects.filter(action="permission.denied").count()
    record_url = world.url("clinic/cases/<uuid:public_id>/") or ""
    assert _client("operator").get(record_url).status_code == 403
    assert _client("intake").get("/clinic/audit/").status_code == 403
    assert Event.objects.filter(action="permission.denied").count() == before + 2
