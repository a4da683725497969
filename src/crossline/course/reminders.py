"""Course reminders and missed check-ins, run by the worker (crossline.care.periodic).

`sweep(now)`: one reminder per session (`reminder_hours_before` before it, while its pre
check-in is not in) and per weekly questionnaire (the same hours before the start of its due
day in the course's time zone; one planned later is reminded on its due day). By e-mail and, if
a sender is configured, by text (crossline.course.sms). Each goes out once even with several
workers: the conditional UPDATE of `reminded_at IS NULL` is the claim exactly one sweep wins. A
failed e-mail releases the claim so the next sweep tries again.

`flag_missed(now)`: `missed_after_hours` after a session's time with no pre check-in, the
session is missed (a held one never: it waits for a clinician); with the pre check-in in but no
after-check, the clinician is told; a weekly still due that long after its due day is missed.
Each with a routine alert, once (`missed_flagged_at`, claimed the same way).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from crossline.audit import Action, record
from crossline.care.alerts import raise_alert
from crossline.care.models import Alert
from crossline.course import mail, sms
from crossline.course.models import Course, Session, Weekly
from crossline.course.services import policy
from crossline.engine import course as rules

logger = logging.getLogger(__name__)

SWEEP_EVERY_MINUTES = 5


def day_start(course: Course, day: object) -> datetime:
    """Midnight of `day` in the course's time zone, as UTC."""
    local = datetime.combine(day, time(0), tzinfo=ZoneInfo(course.time_zone))  # type: ignore[arg-type]
    return local.astimezone(UTC)


def weekly_remind_at(weekly: Weekly, p: rules.CoursePolicy) -> datetime:
    return day_start(weekly.course, weekly.due_on) - timedelta(hours=p.reminder_hours_before)


def weekly_missed_at(weekly: Weekly, p: rules.CoursePolicy) -> datetime:
    """`missed_after_hours` after the end of the due day (course time zone)."""
    end = day_start(weekly.course, weekly.due_on + timedelta(days=1))
    return end + timedelta(hours=p.missed_after_hours)


# --- reminders ----------------------------------------------------------------------------------


def sweep(now: datetime) -> int:
    """Send the reminders due at `now`; returns how many this sweep sent."""
    p = policy()
    sender = sms.sender()
    sent = 0
    sessions = due_sessions(now, p)
    for session in sessions.select_related("course__case__assessment"):
        sent += _remind(sessions, session, session.course, now, sender)
    weeklies = due_weeklies(now, p)
    for weekly in weeklies.select_related("course__case__assessment"):
        end_of_day = day_start(weekly.course, weekly.due_on + timedelta(days=1))
        if weekly_remind_at(weekly, p) <= now < end_of_day:
            sent += _remind(weeklies, weekly, weekly.course, now, sender)
    return sent


def due_sessions(now: datetime, p: rules.CoursePolicy) -> QuerySet[Session]:
    return Session.objects.filter(
        status=rules.SCHEDULED,
        course__status=rules.ACTIVE,  # suspended or paused: the session page says wait
        reminded_at__isnull=True,
        scheduled_for__gt=now,
        scheduled_for__lte=now + timedelta(hours=p.reminder_hours_before),
    )


def due_weeklies(now: datetime, p: rules.CoursePolicy) -> QuerySet[Weekly]:
    today = now.date()
    return Weekly.objects.filter(
        status=Weekly.Status.DUE,
        reminded_at__isnull=True,
        # Questionnaires go on while a course is suspended or paused (they are monitoring),
        # not once it is stopped.
        course__status__in=(rules.ACTIVE, rules.SUSPENDED, rules.PAUSED),
        due_on__gte=today - timedelta(days=1),
        due_on__lte=today + timedelta(days=1 + p.reminder_hours_before // 24),
    )


def _remind(
    due: QuerySet[Session] | QuerySet[Weekly],
    item: Session | Weekly,
    course: Course,
    now: datetime,
    sender: sms.Sender,
) -> int:
    """Claim and send one reminder. The claim re-checks that it is still due (`due`: not
    reminded, and the session still scheduled in an active course or the questionnaire still
    due in a course not stopped), as the sweep read it possibly minutes earlier — the sends
    before it wait on SMTP: a session cancelled or a course suspended or stopped meanwhile
    gets no reminder."""
    model = due.model
    claimed = due.filter(pk=item.pk, reminded_at__isnull=True).update(reminded_at=now)
    if not claimed:
        return 0  # sent already, another sweep is sending it now, or no longer due
    kind = "weekly" if isinstance(item, Weekly) else "session"
    message = mail.email(course, item)
    try:
        if message is not None:
            message.send()
    except OSError:
        logger.warning("course %s reminder not sent (SMTP error); retried next sweep", kind)
        model.objects.filter(pk=item.pk).update(reminded_at=None)
        return 0
    texted = False
    phone = mail.patient_phone(course.case) if sms.enabled(sender) else None
    if phone:
        try:
            sender.send(phone, mail.sms_body(course, item))
            texted = True
        except Exception as exc:  # a provider's failure: logged without the number or text
            logger.warning("course %s reminder text not sent (%s)", kind, type(exc).__name__)
    record(
        Action.REMINDER_SENT,
        actor="system",
        patient=course.case.public_id,
        object_type=kind,
        object_id=item.public_id,
        detail={"email": message is not None, "sms": texted},
    )
    return 1 if message is not None or texted else 0


# --- missed check-ins -----------------------------------------------------------------------------


def flag_missed(now: datetime) -> int:
    """Flag the check-ins missed at `now`; returns how many this run flagged."""
    p = policy()
    late = now - timedelta(hours=p.missed_after_hours)
    flagged = 0
    sessions = Session.objects.filter(
        status__in=(rules.SCHEDULED, rules.READY),
        missed_flagged_at__isnull=True,
        scheduled_for__lte=late,
    ).select_related("course__case")
    for session in sessions:
        flagged += _flag_session(session, now)
    weeklies = Weekly.objects.filter(
        status=Weekly.Status.DUE,
        course__status__in=(rules.ACTIVE, rules.SUSPENDED, rules.PAUSED),
        missed_flagged_at__isnull=True,
        due_on__lte=now.date(),
    ).select_related("course__case")
    for weekly in weeklies:
        if weekly_missed_at(weekly, p) <= now:
            flagged += _flag_weekly(weekly, now)
    return flagged


def _flag_session(session: Session, now: datetime) -> int:
    case = session.course.case
    with transaction.atomic():
        if session.status == rules.SCHEDULED:
            status = rules.session_after(session.status, "miss")
            won = Session.objects.filter(
                pk=session.pk, status=rules.SCHEDULED, missed_flagged_at__isnull=True
            ).update(status=status, missed_flagged_at=now)
            if not won:
                return 0
            record(
                Action.SESSION_MISSED,
                actor="system",
                patient=case.public_id,
                object_type="session",
                object_id=session.public_id,
                detail={"number": session.number},
            )
            reason = "course.session_missed"
        else:  # ready: the pre check-in is in, the after-check is not
            won = Session.objects.filter(
                pk=session.pk, status=rules.READY, missed_flagged_at__isnull=True
            ).update(missed_flagged_at=now)
            if not won:
                return 0
            reason = "course.after_check_missing"
        raise_alert(case, Alert.Level.ROUTINE, Alert.Source.MISSED, [reason], now)
    return 1


def _flag_weekly(weekly: Weekly, now: datetime) -> int:
    with transaction.atomic():
        won = Weekly.objects.filter(
            pk=weekly.pk, status=Weekly.Status.DUE, missed_flagged_at__isnull=True
        ).update(status=Weekly.Status.MISSED, missed_flagged_at=now)
        if not won:
            return 0
        raise_alert(
            weekly.course.case,
            Alert.Level.ROUTINE,
            Alert.Source.MISSED,
            ["course.weekly_missed"],
            now,
        )
    return 1


def run(now: datetime | None = None) -> int:
    """Both, as the worker's job does."""
    moment = now or timezone.now()
    return sweep(moment) + flag_missed(moment)
