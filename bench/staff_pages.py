"""What the staff pages cost once a program has a year of data: time and queries per page.

A throw-away data directory (SQLite, crossline's PRAGMAs) or PostgreSQL database gets one real
case with a course, built through crossline's own functions (a screen, a request, a decided
evaluation, a planned course, sessions with their check-ins, weekly questionnaires), then that
case copied in bulk to the program's size (`--screens`, `--cases`, `--courses`, audit events
by one bulk INSERT; contact details' blind indexes distinct, so nobody is the same person by
accident). Every staff page and download is then asked for through Django's test client (the
whole middleware stack) `--repeat` times: the median wall-clock time and the queries of one.

    .venv/bin/python bench/staff_pages.py [--database sqlite|postgres]
        [--screens 20000] [--cases 3000] [--courses 500] [--events 50000] [--repeat 3]

Prints a table and writes bench/out/staff_pages_<database>.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import secrets
import statistics
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

from audit_export import _INSERT
from web_server import BENCH_RATE_LIMIT, in_process

HERE = Path(__file__).resolve().parent
METRICS_TOKEN = "bench-metrics-token-" + "x" * 24
BATCH = 1000


def _template() -> dict[str, Any]:
    """One case with a course through crossline's own functions: the rows every copy clones."""
    from django.utils import timezone
    from tests.course.conftest import (
        SAFE_POST,
        SAFE_PRE,
        Planned,
        approve,
        plan,
        schedule,
        sign,
        weekly_answers,
    )
    from tests.staff import staff_user
    from tests.visits.conftest import make_patient

    from crossline.course import services

    doctor = staff_user("dr.bench", "physician", email="dr.bench@program.example")
    patient = make_patient()
    approve(patient.case, doctor)
    course = plan(patient.case, doctor, patient.token)
    planned = Planned(course, patient.case, patient.token, doctor)
    sign(planned)
    for n in range(course.weeklies.count()):
        weekly = course.weeklies.get(number=n)
        extra = {"course.bladder": "no"} if weekly.bladder else {}
        answers = weekly_answers([2 - n // 2] * 8 + [0], [1] * 7, **extra)
        services.submit_weekly(weekly, answers, "en", timezone.now())
    for _ in range(course.sessions_planned):
        session, _token = schedule(planned)
        services.submit_session_checkin(session, "pre", SAFE_PRE, "en", timezone.now())
        services.submit_session_checkin(session, "post", SAFE_POST, "en", timezone.now())
    return {"patient": patient, "course": course, "doctor": doctor}


def _copy(obj: Any, **changes: Any) -> Any:
    """An unsaved copy of `obj` with new ids and `changes`."""
    values = {
        f.attname: getattr(obj, f.attname)
        for f in obj._meta.concrete_fields
        if not f.primary_key and f.attname not in ("public_id",)
    }
    values.update(changes)
    return type(obj)(**values)


def _fresh() -> str:
    return secrets.token_hex(32)


def _seed(t: dict[str, Any], screens: int, cases: int, courses: int) -> None:
    from django.db import transaction
    from django.utils import timezone

    from crossline.care.models import Alert
    from crossline.clinic.models import Case
    from crossline.course.models import CheckIn, Course, Session, Weekly
    from crossline.evaluation.models import Evaluation
    from crossline.intake.models import Assessment, ContactRequest

    case = Case.objects.get(pk=t["patient"].case.pk)
    screen = Assessment.objects.get(pk=case.assessment_id)
    request = ContactRequest.objects.get(assessment=screen)
    evaluation = Evaluation.objects.get(case=case)
    course = Course.objects.get(pk=t["course"].pk)
    weeklies = list(Weekly.objects.filter(course=course))
    sessions = list(Session.objects.filter(course=course))
    checkins = list(CheckIn.objects.filter(course=course))
    now = timezone.now()
    statuses = [Case.Status.OPEN] * 3 + [Case.Status.CLAIMED] + [Case.Status.CLOSED] * 12
    with transaction.atomic():
        for start in range(0, screens - 1, BATCH):
            n = min(BATCH, screens - 1 - start)
            made = Assessment.objects.bulk_create(
                _copy(
                    screen,
                    token_hash=_fresh(),
                    created_at=now - timedelta(minutes=26 * (start + i)),
                )
                for i in range(n)
            )
            # `created_at` is auto_now_add: spread the screens over a year afterwards.
            for i, a in enumerate(made):
                a.created_at = now - timedelta(minutes=26 * (start + i))
            Assessment.objects.bulk_update(made, ["created_at"])
        linked = list(
            Assessment.objects.exclude(pk=screen.pk).order_by("pk").values_list("pk", flat=True)
        )[: cases - 1]
        ContactRequest.objects.bulk_create(
            _copy(request, assessment_id=a, email_index=_fresh(), phone_index=_fresh())
            for a in linked
        )
        made_cases = Case.objects.bulk_create(
            _copy(
                case,
                assessment_id=a,
                status=statuses[i % len(statuses)] if i >= courses else Case.Status.DECIDED,
                urgency=(0, 1, 2, 2, 2, 2, 2, 2)[i % 8],
                opened_at=now - timedelta(hours=i),
                due_at=now + timedelta(minutes=30 - i) if i % 8 < 2 else None,
                claimed_by_id=None,
                claimed_at=None,
            )
            for i, a in enumerate(linked)
        )
        with_course = made_cases[: courses - 1]
        Evaluation.objects.bulk_create(_copy(evaluation, case_id=c.pk) for c in with_course)
        made_courses = Course.objects.bulk_create(_copy(course, case_id=c.pk) for c in with_course)
        for c in made_courses:
            new_weeklies = {
                w.pk: Weekly.objects.create(
                    **{
                        f.attname: getattr(w, f.attname)
                        for f in Weekly._meta.concrete_fields
                        if not f.primary_key and f.attname != "public_id"
                    }
                    | {"course_id": c.pk, "token_hash": _fresh()}
                ).pk
                for w in weeklies
            }
            new_sessions = dict(
                zip(
                    [s.pk for s in sessions],
                    [
                        s.pk
                        for s in Session.objects.bulk_create(
                            _copy(s, course_id=c.pk, token_hash=_fresh()) for s in sessions
                        )
                    ],
                    strict=True,
                )
            )
            CheckIn.objects.bulk_create(
                _copy(
                    ch,
                    course_id=c.pk,
                    session_id=new_sessions.get(ch.session_id),
                    weekly_id=new_weeklies.get(ch.weekly_id),
                )
                for ch in checkins
            )
        Alert.objects.bulk_create(
            Alert(
                case_id=c.pk,
                level=("acute", "non_acute", "routine")[i % 3],
                source="screen",
                reasons=["weekly.non_response"],
                created_at=now - timedelta(hours=i),
                due_at=now - timedelta(hours=i) + timedelta(minutes=30),
                acknowledged_at=None if i % 10 == 0 else now - timedelta(hours=i - 1),
                acknowledged_by_id=None if i % 10 == 0 else t["doctor"].pk,
            )
            for i, c in enumerate(made_cases[:300])
        )


def _events(n: int) -> None:
    from django.db import connection, transaction
    from django.utils import timezone

    from crossline.audit.models import Event

    head = Event.objects.order_by("-seq").values_list("seq", flat=True).first() or 0
    now = timezone.now()
    rows = [
        (
            head + i, now - timedelta(minutes=n - i), "record.viewed", 1, "olive@clinic.test",
            str(uuid.UUID(int=i)), "case", str(i), "r" * 32,
            json.dumps({"view": "record"}), "0" * 64, "0" * 64, "a1",
        )
        for i in range(1, n + 1)
    ]  # fmt: skip
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.executemany(_INSERT, rows)


def _pages(t: dict[str, Any]) -> list[tuple[str, str, str, dict[str, Any]]]:
    """(who, method, url, data) for every staff page and download measured."""
    from tests.visits.conftest import PATIENT_EMAIL

    case, course = t["patient"].case, t["course"]
    today = dt.datetime.now(dt.UTC).date()
    last, first = today.isoformat(), (today - timedelta(days=365)).isoformat()
    return [
        ("nurse", "GET", "/clinic/", {}),
        ("nurse", "GET", "/clinic/", {"status": "all"}),
        ("nurse", "GET", "/clinic/", {"status": "closed", "page": "40"}),
        ("nurse", "POST", "/clinic/find/", {"contact": PATIENT_EMAIL}),
        ("nurse", "GET", f"/clinic/cases/{case.public_id}/", {}),
        ("nurse", "GET", f"/clinic/cases/{case.public_id}/fhir.json", {}),
        ("nurse", "GET", f"/clinic/courses/{course.public_id}/", {}),
        ("nurse", "GET", "/clinic/alerts/", {}),
        ("nurse", "GET", "/clinic/alerts/summary.json", {}),
        ("operator", "GET", "/clinic/program/", {}),
        ("operator", "GET", "/clinic/program/courses/", {}),
        ("operator", "GET", "/clinic/program/export/", {"start": first, "end": last}),
        ("operator", "GET", "/clinic/audit/", {}),
        ("operator", "GET", "/clinic/audit/", {"actor": "OLIVE@clinic.test"}),
        ("operator", "GET", "/clinic/audit/", {"patient": str(uuid.UUID(int=7))}),
        ("operator", "GET", "/clinic/audit/", {"action": "record.viewed", "format": "csv"}),
        ("metrics", "GET", "/metrics", {}),
        ("nurse", "POST", "/clinic/claim-next/", {}),
    ]  # fmt: skip


def _measure(client: Any, method: str, url: str, data: dict[str, Any], **extra: Any) -> Any:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        response = getattr(client, method.lower())(url, data, **extra)
        size = len(b"".join(response.streaming_content)) if response.streaming else 0
        seconds = time.perf_counter() - started
    assert response.status_code in (200, 302), (url, response.status_code)
    return seconds, len(queries.captured_queries), size


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    p.add_argument("--screens", type=int, default=20_000)
    p.add_argument("--cases", type=int, default=3_000)
    p.add_argument("--courses", type=int, default=500)
    p.add_argument("--events", type=int, default=50_000)
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args(argv)
    results = []
    extra = {
        "CROSSLINE_METRICS_TOKEN": METRICS_TOKEN,
        "CROSSLINE_RATE_LIMIT_PER_MINUTE": BENCH_RATE_LIMIT,
    }
    with in_process(args.database, "crossline-staff-", **extra):
        from django.conf import settings
        from django.db import connection
        from django.test import Client

        sys.path.insert(0, str(HERE.parent))
        from tests.staff import signed_in, staff_user

        settings.DEBUG = False
        started = time.perf_counter()
        t = _template()
        _seed(t, args.screens, args.cases, args.courses)
        _events(args.events)
        seeded = time.perf_counter() - started
        clients = {
            "nurse": signed_in(staff_user("nina.nurse", "intake")),
            "operator": signed_in(staff_user("olive.operator", "operator")),
            "metrics": Client(HTTP_AUTHORIZATION=f"Bearer {METRICS_TOKEN}"),
        }
        for who, method, url, data in _pages(t):
            runs = [
                _measure(clients[who], method, url, data)
                for _ in range(1 if "claim" in url else args.repeat)
            ]
            query = "&".join(f"{k}={v}" for k, v in data.items())
            name = f"{method} {url}" + (f"?{query}" if query and method == "GET" else "")
            ms = round(1000 * statistics.median(r[0] for r in runs), 1)
            results.append({"page": name, "ms": ms, "queries": runs[-1][1]})
            print(f"{ms:9.1f} ms {runs[-1][1]:4d} queries  {name}", flush=True)
        connection.close()
    report = {
        "database": args.database,
        "screens": args.screens,
        "cases": args.cases,
        "courses": args.courses,
        "events": args.events,
        "seed_seconds": round(seeded, 1),
        "pages": results,
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }
    out = HERE / "out" / f"staff_pages_{args.database}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps({k: v for k, v in report.items() if k != "pages"}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
