"""Dispensing and the misuse safeguards: the engine's flags (table-driven), the supplies page
(physicians record, intake views), the PDMP check required before each supply, the routine
alerts a new flag raises, and the after-check hook for more doses than prescribed."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.template.loader import render_to_string
from django.test import Client
from django.utils import timezone

from crossline.accounts.roles import Role
from crossline.audit.models import Event
from crossline.care.models import Alert
from crossline.clinic.models import Case
from crossline.course import dispensing, services
from crossline.course.models import Course, Session, Supply
from crossline.engine import course as rules
from tests.course.conftest import (
    PLAN,
    SAFE_POST,
    SAFE_PRE,
    Planned,
    course_today,
    schedule,
    sign,
)
from tests.staff import signed_in, staff_user

pytestmark = pytest.mark.django_db

D = date(2026, 3, 1)
POLICY = rules.CoursePolicy(6, 2, 30, 48, 7, 28, 24, 24, 2)  # early refill at 2 doses left


def day(n: int) -> date:
    return D + timedelta(days=n)


def supply(n: int, doses: int, left: int | None = None) -> rules.Supply:
    return rules.Supply(day(n), doses, left)


CASES: list[tuple[str, list[rules.Supply], list[tuple[date, int]], list[tuple[str, int]]]] = [
    ("nothing yet", [], [], []),
    ("one supply", [supply(0, 4)], [], []),
    ("refill when used up", [supply(0, 4), supply(14, 4, 0)], [(day(n), 1) for n in range(4)], []),
    ("one dose left: not early", [supply(0, 4), supply(10, 4)], [(day(n), 1) for n in range(3)],
     []),
    ("two doses left: early", [supply(0, 4), supply(7, 4)], [(day(1), 1), (day(3), 1)],
     [("early_refill", 7)]),
    ("reported fewer left", [supply(0, 4), supply(14, 4, 0)], [(day(n), 1) for n in range(3)],
     [("unaccounted", 14)]),
    ("reported as expected", [supply(0, 4), supply(14, 4, 1)], [(day(n), 1) for n in range(3)],
     []),
    ("two at one session", [supply(0, 4)], [(day(2), 2)], [("more_than_prescribed", 2)]),
    ("taken after the refill not counted before it", [supply(0, 2), supply(5, 2)],
     [(day(6), 1), (day(7), 1)], [("early_refill", 5)]),
    ("more taken than dispensed", [supply(0, 2)], [(day(n), 1) for n in (1, 3, 5)],
     [("more_than_dispensed", 5)]),
    ("still beyond at each later session that took doses", [supply(0, 1)],
     [(day(1), 1), (day(2), 1), (day(3), 0), (day(4), 1)],
     [("more_than_dispensed", 2), ("more_than_dispensed", 4)]),
    ("a supply on a session's day is in hand for it", [supply(0, 1), supply(3, 1, 0)],
     [(day(1), 1), (day(3), 1)], []),
    ("taken before the first supply", [supply(2, 4)], [(day(1), 1)],
     [("more_than_dispensed", 1)]),
    ("no supply recorded: nothing to compare with", [], [(day(1), 1), (day(2), 1)], []),
]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "supplies", "taken", "expected"), CASES, ids=[c[0] for c in CASES]
)
def test_the_flags(name: str, supplies: Any, taken: Any, expected: list[tuple[str, int]]) -> None:
    found = rules.dispensing_flags(supplies, taken, 1, POLICY)
    assert [(f["flag"], (f["on"] - D).days) for f in found] == expected


def test_more_than_dispensed_counts_a_days_sessions_together() -> None:
    """Two sessions on one day: a day's total, as supplies carry only a day — whichever came
    first, the day ends beyond what was dispensed (one flag, with the counts it compared)."""
    found = rules.more_than_dispensed([supply(0, 2)], [(day(1), 1), (day(1), 2)])
    assert found == [{"flag": "more_than_dispensed", "on": day(1), "taken": 3, "dispensed": 2}]


# --- the page -----------------------------------------------------------------------------------


def form(**overrides: Any) -> dict[str, str]:
    today = course_today()  # where the course runs: the form refuses days after it
    values = {
        "dispensed_on": today.isoformat(),
        "quantity": "4 troches",
        "doses": "4",
        "pharmacy": "Harborview Compounding",
        "delivery_signed": "yes",
        "pdmp_checked_on": today.isoformat(),  # the case was opened today
        "pdmp_note": "No other controlled prescriptions.",
        "doses_reported_left": "",
        "seen": str(Supply.objects.count()),  # the supplies the page listed
    }
    values.update(overrides)
    return values


def url(p: Planned) -> str:
    return f"/clinic/courses/{p.course.public_id}/supplies/"


@pytest.fixture
def doctor(planned: Planned) -> Client:
    return signed_in(planned.physician)


@pytest.fixture
def intake() -> Client:
    return signed_in(staff_user("intake@program.example", Role.INTAKE))


def test_a_physician_records_a_supply(planned: Planned, doctor: Client) -> None:
    response = doctor.post(url(planned), form())
    assert response.status_code == 302
    stored = Supply.objects.get(course=planned.course)
    assert stored.doses == 4 and stored.delivery_signed
    assert stored.details == {"quantity": "4 troches", "pharmacy": "Harborview Compounding",
                              "pdmp_note": "No other controlled prescriptions."}  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute("SELECT details FROM course_supply")
        raw = str(cursor.fetchone()[0])
    assert "Harborview" not in raw and "troches" not in raw  # encrypted at rest
    [event] = Event.objects.filter(action="supply.recorded")
    assert event.detail == {"supply": stored.pk, "flags": ""}
    assert not Alert.objects.filter(source="dispensing").exists()
    page = doctor.get(url(planned)).content.decode()
    assert "Harborview Compounding" in page and "No dispensing flags" in page


def test_an_early_refill_is_flagged_and_alerted(planned: Planned, doctor: Client) -> None:
    today = course_today().isoformat()
    doctor.post(url(planned), form())
    again = form(doses_reported_left="4", pdmp_checked_on=today)  # a new check for a new supply
    assert doctor.post(url(planned), again).status_code == 302
    [alert] = Alert.objects.filter(case=planned.case, source="dispensing")
    assert alert.level == "routine" and alert.reasons == ["course.early_refill"]
    page = doctor.get(url(planned)).content.decode()
    assert "Early refill: the earlier supplies should still hold 4 doses." in page
    partial = render_to_string("course/_dispensing.html", {"course": planned.course})
    assert "Early refill" in partial and "Doses dispensed</dt><dd>8" in partial
    flags = dispensing.flags(planned.course)
    assert [f["flag"] for f in flags] == ["early_refill"]
    assert Event.objects.filter(action="supply.recorded").last().detail["flags"] == "early_refill"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"pdmp_checked_on": (date.today() + timedelta(days=1)).isoformat()},
         "The PDMP check must be on or before the dispensing date."),
        ({"pdmp_checked_on": ""}, "PDMP checked on: This field is required."),
        ({"doses": "0"}, "Doses: Ensure this value is greater than or equal to 1."),
        ({"quantity": ""}, "Quantity as written: This field is required."),
    ],
)  # fmt: skip
def test_bad_supplies_are_refused(
    planned: Planned, doctor: Client, overrides: dict[str, str], message: str
) -> None:
    response = doctor.post(url(planned), form(**overrides))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Supply.objects.exists()
    assert not Event.objects.filter(action="supply.recorded").exists()


@pytest.mark.parametrize("day", ["tomorrow", "2999-12-31"])
def test_a_supply_dispensed_in_the_future_is_refused(
    planned: Planned, doctor: Client, day: str
) -> None:
    dispensed = (course_today() + timedelta(days=1)).isoformat() if day == "tomorrow" else day
    response = doctor.post(url(planned), form(dispensed_on=dispensed))
    assert response.status_code == 400
    assert "Dispensed on: This date is in the future" in response.content.decode()
    assert not Supply.objects.exists()


def test_the_service_refuses_a_supply_without_a_pdmp_check(planned: Planned) -> None:
    with pytest.raises(services.CourseError, match="pdmp_checked_on"):
        dispensing.record_supply(
            planned.course, dispensed_on=date.today(), quantity="4", doses=4, pharmacy="P",
            delivery_signed=True, pdmp_checked_on=None, pdmp_note="", doses_reported_left=None,
            user=planned.physician, request=None, now=timezone.now(),
        )  # fmt: skip
    assert not Supply.objects.exists()


def test_intake_views_but_cannot_record(planned: Planned, intake: Client) -> None:
    page = intake.get(url(planned))
    assert page.status_code == 200
    assert "Only a prescribing physician records supplies." in page.content.decode()
    assert intake.post(url(planned), form()).status_code == 403
    assert not Supply.objects.exists()
    assert Event.objects.filter(action="permission.denied").exists()


def test_anonymous_is_sent_to_sign_in(planned: Planned) -> None:
    response = Client().get(url(planned))
    assert response.status_code == 302 and response["Location"].startswith("/clinic/sign-in/")
    assert Client().post(url(planned), form()).status_code == 302
    assert not Supply.objects.exists()


def test_an_unknown_course_is_404(doctor: Client, planned: Planned) -> None:
    assert (
        doctor.get("/clinic/courses/00000000-0000-0000-0000-000000000000/supplies/").status_code
        == 404
    )


# --- the after-check hook -------------------------------------------------------------------------


def after_session(p: Planned, doses: int) -> Any:
    sign(p)
    session, _ = schedule(p)
    now = timezone.now()
    services.submit_session_checkin(session, "pre", SAFE_PRE, "en", now)
    services.submit_session_checkin(session, "post", SAFE_POST, "en", now, doses_taken=doses)
    session.refresh_from_db()
    return session


def test_more_doses_than_prescribed_raise_a_routine_alert(planned: Planned) -> None:
    session = after_session(planned, 2)
    alert = dispensing.flag_after_session(session, timezone.now())
    assert alert is not None
    assert (alert.level, alert.source) == ("routine", "dispensing")
    assert alert.reasons == ["course.more_than_prescribed"]
    assert [f["flag"] for f in dispensing.flags(planned.course)] == ["more_than_prescribed"]


def test_doses_as_prescribed_raise_nothing(planned: Planned, physician: User) -> None:
    session = after_session(planned, 1)
    assert dispensing.flag_after_session(session, timezone.now()) is None
    assert not Alert.objects.filter(source="dispensing").exists()
    assert dispensing.summary(planned.course)["taken"] == 1


def test_a_plan_without_units_per_session_shows_none_and_compares_nothing(
    planned: Planned, doctor: Client
) -> None:
    """No default stands in for what the physician did not write: it would read as a dose."""
    Course.objects.filter(pk=planned.course.pk).update(plan={"prescription_text": "As written."})
    planned.course.refresh_from_db()
    session = after_session(planned, 3)
    assert dispensing.flag_after_session(session, timezone.now()) is None
    assert dispensing.flags(planned.course) == []
    page = doctor.get(f"/clinic/courses/{planned.course.public_id}/").content.decode()
    assert "not written in the plan" in page


@pytest.mark.parametrize(
    ("units", "read_as"), [(150, 150), ("2", None), (True, None), (0, None), (-1, None)]
)
def test_a_stored_plan_the_service_now_refuses_is_still_read(
    planned: Planned, doctor: Client, units: Any, read_as: Any
) -> None:
    """A course planned before plan_course checked the plan's contents keeps its plan as
    stored: its page and dispensing panel still read it, a count beyond the form's 99 still
    compared, a value that is no count — a stored True among them — read as none (and said
    to be not a valid count, which is not the same as not written)."""
    stored = {**PLAN, "units_per_session": units, "medication": "", "extra": "kept"}
    Course.objects.filter(pk=planned.course.pk).update(plan=stored)
    planned.course.refresh_from_db()
    assert dispensing.summary(planned.course)["per_session"] == read_as
    page = doctor.get(f"/clinic/courses/{planned.course.public_id}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert ("not a valid count in the plan" in html) is (read_as is None)
    assert "not written in the plan" not in html


def test_a_stored_true_is_not_a_count_of_one(planned: Planned, doctor: Client) -> None:
    """True is 1 to Python: read as a count, two doses at one session would be "more than
    prescribed" against a number the physician never wrote, and the panel would show "True"."""
    stored = {**PLAN, "units_per_session": True}
    Course.objects.filter(pk=planned.course.pk).update(plan=stored)
    planned.course.refresh_from_db()
    session = after_session(planned, 2)
    assert dispensing.flag_after_session(session, timezone.now()) is None
    assert not Alert.objects.filter(source="dispensing").exists()
    assert dispensing.flags(planned.course) == []
    page = doctor.get(f"/clinic/courses/{planned.course.public_id}/").content.decode()
    panel = page.split('id="dispensing-title"')[1]
    assert "not a valid count in the plan" in panel and "True" not in panel


def record(p: Planned, doses: int, **overrides: Any) -> Supply:
    today = course_today()
    values: dict[str, Any] = {
        "dispensed_on": today, "quantity": f"{doses} troches", "doses": doses, "pharmacy": "P",
        "delivery_signed": True, "pdmp_checked_on": today, "pdmp_note": "",
        "doses_reported_left": None, "user": p.physician, "request": None, "now": timezone.now(),
    }  # fmt: skip
    values.update(overrides)
    return dispensing.record_supply(p.course, **values)


def more_than_dispensed_alerts(p: Planned) -> list[Alert]:
    found = Alert.objects.filter(case=p.case, source="dispensing").order_by("pk")
    return [a for a in found if "course.more_than_dispensed" in a.reasons]


def test_more_taken_than_dispensed_alerts_once_while_open(planned: Planned, doctor: Client) -> None:
    """The second dose of a one-dose supply: a routine alert and a line on the page. The sessions
    after it are still beyond the supply — the same state, not a new event — so they add no
    alert until the open one is acknowledged."""
    record(planned, 1)
    after_session(planned, 1)
    assert not Alert.objects.filter(source="dispensing").exists()
    after_session(planned, 1)
    [alert] = more_than_dispensed_alerts(planned)
    assert (alert.level, alert.reasons) == ("routine", ["course.more_than_dispensed"])
    after_session(planned, 1)
    assert more_than_dispensed_alerts(planned) == [alert]
    page = doctor.get(url(planned)).content.decode()
    line = "More taken than dispensed: 3 doses reported taken by this day, 1 dispensed by then."
    assert line in page
    assert doctor.post(f"/clinic/alerts/{alert.public_id}/acknowledge/").status_code == 302
    after_session(planned, 1)
    assert len(more_than_dispensed_alerts(planned)) == 2


def test_one_after_check_beyond_both_raises_one_alert(planned: Planned) -> None:
    record(planned, 1)
    after_session(planned, 2)  # the plan says 1 unit per session; 1 was dispensed
    [alert] = Alert.objects.filter(case=planned.case, source="dispensing")
    assert alert.reasons == ["course.more_than_prescribed", "course.more_than_dispensed"]


def test_doses_within_the_supplies_raise_nothing(planned: Planned) -> None:
    record(planned, 2)
    after_session(planned, 1)
    after_session(planned, 1)
    assert not Alert.objects.filter(source="dispensing").exists()
    assert dispensing.flags(planned.course) == []


def test_without_a_supply_recorded_doses_are_not_compared(planned: Planned, doctor: Client) -> None:
    """No supply recorded: the records hold no dispensing to compare with, and the page says
    so rather than flag every session."""
    after_session(planned, 1)
    assert not Alert.objects.filter(source="dispensing").exists()
    page = doctor.get(url(planned)).content.decode()
    assert "no supply recorded yet, so not compared with dispensing" in page


def test_a_first_supply_dated_after_doses_taken_flags_them(planned: Planned) -> None:
    """Doses reported at yesterday's session, the first supply recorded as dispensed today: the
    doses were taken from nothing the records show (a supply not recorded, or recorded with the
    wrong day), and recording it says so."""
    session = after_session(planned, 1)
    Session.objects.filter(pk=session.pk).update(
        scheduled_for=session.scheduled_for - timedelta(days=1)
    )
    record(planned, 4)
    [alert] = Alert.objects.filter(case=planned.case, source="dispensing")
    assert alert.reasons == ["course.more_than_dispensed"]
    [flag] = dispensing.flags(planned.course)
    assert (flag["taken"], flag["dispensed"]) == (1, 0)


# --- each supply once, with its own PDMP check, within the course ----------------------------


def test_the_same_supply_sent_twice_is_recorded_once(planned: Planned, doctor: Client) -> None:
    """A double click, or two physicians recording the delivery from the same page: the second
    is refused (nothing stored, no early-refill alert on the patient) and the page shows the
    supply now listed, the form ready to record another deliberately."""
    sent = form()
    assert doctor.post(url(planned), sent).status_code == 302
    again = doctor.post(url(planned), sent)
    assert again.status_code == 400
    page = again.content.decode()
    assert "A supply was recorded since this page was opened" in page
    assert Supply.objects.count() == 1
    assert not Alert.objects.filter(source="dispensing").exists()
    assert Event.objects.filter(action="supply.recorded").count() == 1
    assert 'name="seen" value="1"' in page  # sending it again now records a second supply


def test_a_supply_page_without_the_count_is_refused(planned: Planned, doctor: Client) -> None:
    sent = form()
    del sent["seen"]
    assert doctor.post(url(planned), sent).status_code == 400
    assert not Supply.objects.exists()


def test_each_supply_needs_a_pdmp_check_of_its_own(planned: Planned, doctor: Client) -> None:
    """Policy course_dispensing (FACTS §G2–G3): a PDMP check before each new supply. The check
    made for the previous supply, dated before it was dispensed, is not a new one."""
    today = course_today()
    a_week_ago = timezone.now() - timedelta(days=7)
    Case.objects.filter(pk=planned.case.pk).update(opened_at=a_week_ago)
    Course.objects.filter(pk=planned.course.pk).update(planned_at=a_week_ago)
    first, check = (today - timedelta(days=5)).isoformat(), (today - timedelta(days=6)).isoformat()
    assert (
        doctor.post(url(planned), form(dispensed_on=first, pdmp_checked_on=check)).status_code
        == 302
    )
    response = doctor.post(url(planned), form(pdmp_checked_on=check))
    assert response.status_code == 400
    assert (
        f"PDMP checked on: the PDMP check for this supply must be on or after {first}, when the "
        "previous supply was dispensed: record the new check"
    ) in response.content.decode()
    assert Supply.objects.count() == 1
    assert doctor.post(url(planned), form(pdmp_checked_on=first)).status_code == 302


def test_a_supply_before_the_course_is_refused(planned: Planned, doctor: Client) -> None:
    """A supply dispensed before the course was planned (a mistyped year) belongs to no
    prescription crossline holds, and would count as doses in hand for the flags."""
    year_ago = (course_today() - timedelta(days=365)).isoformat()
    response = doctor.post(url(planned), form(dispensed_on=year_ago, pdmp_checked_on=year_ago))
    assert response.status_code == 400
    assert "Dispensed on: the course was planned on" in response.content.decode()
    assert not Supply.objects.exists()


def test_a_pdmp_check_from_before_the_case_is_refused(planned: Planned, doctor: Client) -> None:
    response = doctor.post(url(planned), form(pdmp_checked_on="2000-01-01"))
    assert response.status_code == 400
    assert "PDMP checked on: the PDMP check must be made for this case" in (
        response.content.decode()
    )
    assert not Supply.objects.exists()


def test_the_service_refuses_a_supply_in_the_future(planned: Planned) -> None:
    tomorrow = course_today() + timedelta(days=1)
    with pytest.raises(services.CourseError, match=r"^dispensed_on: "):
        dispensing.record_supply(
            planned.course, dispensed_on=tomorrow, quantity="4", doses=4, pharmacy="P",
            delivery_signed=True, pdmp_checked_on=course_today(), pdmp_note="",
            doses_reported_left=None, user=planned.physician, request=None, now=timezone.now(),
        )  # fmt: skip
    assert not Supply.objects.exists()


def test_a_second_early_refill_on_the_same_day_is_flagged_again(planned: Planned) -> None:
    """Each supply is judged on its own: a third supply the same day as a flagged early refill
    is another early refill (the alert and the audit event say so), not the same one again."""
    today = course_today()
    for number in range(3):
        dispensing.record_supply(
            planned.course, dispensed_on=today, quantity="4", doses=4, pharmacy="P",
            delivery_signed=True, pdmp_checked_on=today, pdmp_note="", doses_reported_left=None,
            user=planned.physician, request=None, now=timezone.now(), seen=number,
        )  # fmt: skip
    recorded = Event.objects.filter(action="supply.recorded").order_by("pk")
    assert [e.detail["flags"] for e in recorded] == ["", "early_refill", "early_refill"]
    assert Alert.objects.filter(case=planned.case, source="dispensing").count() == 2


@pytest.mark.parametrize(
    ("counts", "message"),
    [
        ({"doses": 0}, "doses: from 1 to 500"),
        ({"doses": 501}, "doses: from 1 to 500"),
        ({"doses": 40000}, "doses: from 1 to 500"),  # SQLite stored it; PostgreSQL refused it
        ({"doses": 4, "doses_reported_left": -1}, "doses_reported_left: from 0 to 500"),
        ({"doses": 4, "doses_reported_left": 501}, "doses_reported_left: from 0 to 500"),
    ],
)
def test_the_service_holds_every_caller_to_the_forms_counts(
    planned: Planned, counts: dict[str, int], message: str
) -> None:
    """A negative count left reached the database's constraint (a server error, on both
    databases); counts past the form's were stored. Now a message naming the field, and
    nothing stored."""
    doses = counts.pop("doses")
    with pytest.raises(services.CourseError) as refused:
        record(planned, doses, **counts)
    assert str(refused.value).startswith(message)
    assert not Supply.objects.exists()
    assert not Event.objects.filter(action="supply.recorded").exists()
