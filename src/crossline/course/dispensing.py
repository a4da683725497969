"""Dispensing records and the misuse safeguards (issue 5 item 7; FACTS §B1; policy
course_dispensing).

A physician records each supply with the PDMP check before it; the flags are the engine's
(`crossline.engine.course.dispensing_flags`): early refill, doses unaccounted for, more taken
than prescribed per session, more taken than dispensed. A supply that raises a new flag, and an
after-check reporting more doses than the plan's per session or bringing the course's doses taken
beyond those dispensed (`flag_after_session`, called by the check-in service), raise a routine
alert for the clinicians. crossline never computes or suggests a dose: it counts what
was written and what the patient reported.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction
from django.http import HttpRequest

from crossline.audit import Action, record
from crossline.care.alerts import raise_alert
from crossline.care.models import Alert
from crossline.course.models import Course, Session, Supply
from crossline.course.services import CourseError, local_today, policy
from crossline.engine import course as rules

FLAG_TEXT = {
    "early_refill": "Early refill: the earlier supplies should still hold {expected_left} doses.",
    "unaccounted": "Unaccounted for: {doses} doses fewer left than dispensed minus taken.",
    "more_than_prescribed": "More than prescribed: {doses} doses taken at one session.",
    "more_than_dispensed": (
        "More taken than dispensed: {taken} doses reported taken by this day, {dispensed} "
        "dispensed by then."
    ),
}

# The counts a supply record takes (its doses, and the doses the patient reports left of the
# earlier supplies): the supply form's bounds too, so every caller is held to the same ones.
MAX_SUPPLY_DOSES = 500

# A flag that describes where the records stand rather than one event: once the course's doses
# taken are beyond those dispensed, every later session would say so again until a supply is
# recorded. Its alert is raised again only after the open one was acknowledged.
STANDING = frozenset({"course.more_than_dispensed"})


def per_session(course: Course) -> int | None:
    """The plan's units per session, as the physician wrote it; None when not written or not a
    valid count — never a default, which would read as a dose the physician did not write (and
    the "more than prescribed" flag then has nothing to compare with). A count is a whole number
    above 0: not a string of digits, and not a stored True, which Python would count as 1 (a
    plan stored before plan_course checked its contents may hold either)."""
    value = (course.plan or {}).get("units_per_session")
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        return None
    return value


def units_written(course: Course) -> bool:
    """Whether the plan holds any value for its units per session: the panel says "not a valid
    count" for one `per_session` cannot read, and "not written" only when there is none."""
    return (course.plan or {}).get("units_per_session") not in (None, "")


def session_day(session: Session, course: Course) -> date:
    """The session's day in the course's time zone: the day the flags compare supplies with."""
    return session.scheduled_for.astimezone(ZoneInfo(course.time_zone)).date()


def taken(course: Course) -> list[tuple[date, int]]:
    """(session day in the course's zone, doses the after-check reported) per done session."""
    return [
        (session_day(s, course), s.doses_taken)
        for s in course.sessions.filter(doses_taken__isnull=False)
        if s.doses_taken is not None
    ]


def _as_rules(supplies: list[Supply]) -> list[rules.Supply]:
    return [rules.Supply(s.dispensed_on, s.doses, s.doses_reported_left) for s in supplies]


def flags(course: Course) -> list[dict[str, Any]]:
    """The engine's flags for this course, each with a plain sentence (`text`)."""
    found = rules.dispensing_flags(
        _as_rules(list(course.supplies.all())), taken(course), per_session(course), policy()
    )
    return [{**f, "text": FLAG_TEXT[f["flag"]].format(**f)} for f in found]


def summary(course: Course) -> dict[str, Any]:
    """What the page and the `_dispensing.html` partial show."""
    supplies = list(course.supplies.all())
    doses_taken = taken(course)
    return {
        "supplies": supplies,
        "flags": flags(course),
        "dispensed": sum(s.doses for s in supplies),
        "taken": sum(n for _, n in doses_taken),
        "in_hand": rules.doses_in_hand(_as_rules(supplies), doses_taken),
        "per_session": per_session(course),
        "units_written": units_written(course),
    }


# Refused when the supplies changed since the page that sent the form listed them (`seen`).
NEW_SUPPLY = (
    "A supply was recorded since this page was opened: check the supplies listed, then record "
    "this one again only if it is another supply."
)


def _key(flag: dict[str, Any]) -> tuple[str, object]:
    return flag["flag"], flag["on"]


Flags = list[dict[str, Any]]


def _new_flags(before: Counter[tuple[str, object]], now: Flags) -> Flags:
    """The flags beyond those there were before, counted: two supplies flagged on one day are
    two flags (an early refill on the day of another is another early refill)."""
    counted: Counter[tuple[str, object]] = Counter()
    new = []
    for flag in now:
        counted[_key(flag)] += 1
        if counted[_key(flag)] > before[_key(flag)]:
            new.append(flag)
    return new


def record_supply(
    course: Course,
    *,
    dispensed_on: date,
    quantity: str,
    doses: int,
    pharmacy: str,
    delivery_signed: bool,
    pdmp_checked_on: date | None,
    pdmp_note: str,
    doses_reported_left: int | None,
    user: Any,
    request: HttpRequest | None,
    now: datetime,
    seen: int | None = None,
) -> Supply:
    """A dispensed supply. Refused without a PDMP check on or before the dispensing date.

    `seen`: how many supplies the physician's page listed. When another was recorded since —
    the same form sent twice, or two physicians recording one delivery — it is refused
    (nothing stored): a duplicate would stand in the Schedule III record and flag the patient
    with an early refill."""
    if pdmp_checked_on is None:
        raise CourseError("pdmp_checked_on: record the PDMP check made before this supply")
    _check_days(course, dispensed_on, pdmp_checked_on, now)
    _check_counts(doses, doses_reported_left)
    if not quantity.strip():
        raise CourseError("quantity: write the quantity as on the prescription")
    with transaction.atomic():
        locked = Course.objects.select_for_update().select_related("case").get(pk=course.pk)
        if seen is not None and locked.supplies.count() != seen:
            raise CourseError(NEW_SUPPLY)
        _check_new_pdmp(locked, dispensed_on, pdmp_checked_on)
        before = Counter(_key(f) for f in flags(locked))
        supply = Supply.objects.create(
            course=locked,
            dispensed_on=dispensed_on,
            doses=doses,
            details={
                "quantity": quantity.strip(),
                "pharmacy": pharmacy.strip(),
                "pdmp_note": pdmp_note.strip(),
            },
            delivery_signed=delivery_signed,
            pdmp_checked_on=pdmp_checked_on,
            doses_reported_left=doses_reported_left,
            recorded_by=user,
            recorded_at=now,
        )
        new = _new_flags(before, flags(locked))
        record(
            Action.SUPPLY_RECORDED,
            request=request,
            actor=user,
            patient=locked.case.public_id,
            object_type="course",
            object_id=locked.public_id,
            detail={"supply": supply.pk, "flags": ",".join(sorted({f["flag"] for f in new}))},
        )
        if new:
            # A supply adds to what was dispensed, so the only `more_than_dispensed` it can
            # bring is the first supply's: dated after doses the patient reported taken.
            reasons = sorted({f"course.{f['flag']}" for f in new})
            raise_alert(locked.case, Alert.Level.ROUTINE, Alert.Source.DISPENSING, reasons, now)
    return supply


def _check_counts(doses: int, doses_reported_left: int | None) -> None:
    """The form's bounds, for every caller: a negative count left would reach the database's
    constraint (a server error, not a message), and a count past the form's would be stored on
    SQLite and refused by PostgreSQL — and either would skew every flag after it."""
    if not 1 <= doses <= MAX_SUPPLY_DOSES:
        raise CourseError(f"doses: from 1 to {MAX_SUPPLY_DOSES}")
    if doses_reported_left is not None and not 0 <= doses_reported_left <= MAX_SUPPLY_DOSES:
        raise CourseError(f"doses_reported_left: from 0 to {MAX_SUPPLY_DOSES}, or left blank")


def _check_days(course: Course, dispensed_on: date, pdmp_checked_on: date, now: datetime) -> None:
    """Days in the course's time zone: dispensed from the day the course was planned to today,
    and the PDMP check on or before it, made for this case (not before it was opened)."""
    today = local_today(now, course.time_zone)
    planned = local_today(course.planned_at, course.time_zone)
    opened = local_today(course.case.opened_at, course.time_zone)
    if dispensed_on > today:
        raise CourseError(
            "dispensed_on: this date is in the future: choose today or an earlier day"
        )
    if dispensed_on < planned:
        raise CourseError(
            f"dispensed_on: the course was planned on {planned}: a supply under it is dispensed "
            "on that day or later"
        )
    if pdmp_checked_on > dispensed_on:
        raise CourseError(
            "pdmp_checked_on: the PDMP check must be on or before the dispensing date"
        )
    if pdmp_checked_on < opened:
        raise CourseError(
            f"pdmp_checked_on: the PDMP check must be made for this case, on or after {opened} "
            "when it was opened"
        )


def _check_new_pdmp(course: Course, dispensed_on: date, pdmp_checked_on: date) -> None:
    """A PDMP check before each new supply (policy course_dispensing; FACTS §G2–G3): a check
    dated before the previous supply was dispensed is the old one, which cannot show it."""
    previous = (
        course.supplies.filter(dispensed_on__lte=dispensed_on)
        .order_by("-dispensed_on")
        .values_list("dispensed_on", flat=True)
        .first()
    )
    if previous is not None and pdmp_checked_on < previous:
        raise CourseError(
            f"pdmp_checked_on: the PDMP check for this supply must be on or after {previous}, "
            "when the previous supply was dispensed: record the new check"
        )


def not_open(course: Course, reasons: list[str]) -> list[str]:
    """`reasons` without the STANDING ones an open dispensing alert of the case already
    carries: the clinicians know of them until they acknowledge it. Call with the course
    locked (the check-in service locks it), so two check-ins cannot both raise one."""
    if not STANDING & set(reasons):
        return reasons
    open_alerts = Alert.objects.filter(
        case_id=course.case_id, source=Alert.Source.DISPENSING, acknowledged_at__isnull=True
    )
    raised = {reason for alert in open_alerts for reason in alert.reasons}  # JSON lists
    return [r for r in reasons if r not in STANDING or r not in raised]


def flag_after_session(session: Session, now: datetime) -> Alert | None:
    """After an after-check: one routine alert when it reported more doses than the plan's per
    session, or brought the course's doses taken beyond those dispensed by the session's day
    (not again while that alert is open: `not_open`). Call inside the check-in's transaction
    (services.submit_session_checkin), which holds the course locked."""
    course = session.course
    reasons = not_open(course, [f"course.{flag}" for flag in _after_session_flags(session)])
    if not reasons:
        return None
    return raise_alert(course.case, Alert.Level.ROUTINE, Alert.Source.DISPENSING, reasons, now)


def _after_session_flags(session: Session) -> list[str]:
    """The engine's flags this session's reported doses raise."""
    course, doses = session.course, session.doses_taken
    if not doses:
        return []
    found = []
    prescribed = per_session(course)
    if prescribed is not None and doses > prescribed:
        found.append("more_than_prescribed")
    beyond = rules.more_than_dispensed(_as_rules(list(course.supplies.all())), taken(course))
    if any(f["on"] == session_day(session, course) for f in beyond):
        found.append("more_than_dispensed")
    return found
