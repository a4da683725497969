"""The worker's built-in periodic jobs (registered with `crossline.care.schedule.every`)."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings

from crossline.care.schedule import every


@every(1, name="alerts.escalate")
def escalate(now: datetime) -> int:
    """Escalate due alerts, and queue any notification whose enqueue was lost."""
    from crossline.care.alerts import escalate_due
    from crossline.care.tasks import requeue_lost

    requeue_lost(now)
    return escalate_due(now)


@every(1, name="course.first_steps")
def alert_left_first_steps(now: datetime) -> int:
    """A check-in left at the ASQ step that its PHQ-9 item 9 above 0 opened: the safety alert,
    `ASQ_STEP_GRACE` (5 minutes, program policy) after the first step, at the level of the
    answers known (acute: the acuity unknown). Every minute, like escalation: it pages."""
    from crossline.course.services import alert_left_first_steps as report

    return report(now)


def _anchor_minutes() -> float:
    return float(settings.CROSSLINE.anchor_every_minutes)


@every(_anchor_minutes, name="audit.anchor")
def anchor_audit_chain(now: datetime) -> int:
    """Anchor the audit chain's head outside the database (`crossline audit verify` then
    detects deletions up to here)."""
    from crossline.audit import Action, record
    from crossline.audit.log import anchor

    head = anchor()
    record(Action.AUDIT_ANCHORED, actor="worker", detail={"head": head.seq})
    return head.seq


def _reminder_minutes() -> float:
    from crossline.visits.reminders import SWEEP_EVERY_MINUTES

    return float(SWEEP_EVERY_MINUTES)


@every(_reminder_minutes, name="visits.reminders")
def send_visit_reminders(now: datetime) -> int:
    """Reminders before telehealth visits (24 h and 1 h before; each sent once)."""
    from crossline.visits.reminders import sweep

    return sweep(now)


def _course_minutes() -> float:
    from crossline.course.reminders import SWEEP_EVERY_MINUTES

    return float(SWEEP_EVERY_MINUTES)


@every(_course_minutes, name="course.reminders")
def send_course_reminders(now: datetime) -> int:
    """Reminders before course sessions and weekly questionnaires (e-mail, SMS; each once)."""
    from crossline.course.reminders import sweep

    return sweep(now)


@every(_course_minutes, name="course.missed")
def flag_missed_checkins(now: datetime) -> int:
    """Missed sessions, missing after-checks and missed weeklies: flagged once, routine alert."""
    from crossline.course.reminders import flag_missed

    return flag_missed(now)


@every(60, name="api.expire_keys")
def expire_idempotency_keys(now: datetime) -> int:
    """Clear API Idempotency-Keys past their 24 hours (each keeps a private link's token,
    encrypted, on its assessment's row, for retries only)."""
    from crossline.api.idempotency import expire

    return expire(now)


@every(60, name="api.forget_cds_cards")
def forget_cds_cards(now: datetime) -> int:
    """Delete the CDS Hooks cards given more than 90 days ago, with the feedback on them."""
    from crossline.api.cds import forget_cards

    return forget_cards(now)


@every(60, name="sessions.clear_expired")
def clear_expired_sessions(now: datetime) -> int:
    """Delete expired sessions (Django leaves them in the table): a patient's session holds
    the token of a screen in progress, a staff member's the second factor's state."""
    from django.contrib.sessions.models import Session

    deleted: int = Session.objects.filter(expire_date__lt=now).delete()[0]
    return deleted


# Retention runs hourly, each run stopping after this many seconds of deleting: the loop that
# runs it also runs the escalation sweep every minute, which must not wait behind a backlog
# (the first run after a period is set may find years of records due; bench/retention.py).
RETENTION_BUDGET_SECONDS = 10.0


@every(60, name="intake.purge_anonymous")
def purge_anonymous_screens(now: datetime) -> int:
    """Delete anonymous screens past the policy's days, keeping their counts (PRODUCT.md:
    "deleted after 90 days"): the worker keeps that promise without a cron line."""
    from crossline.intake.retention import purge_anonymous
    from crossline.knowledge import load

    days = load().policy.anonymous_retention_days
    return purge_anonymous(now, days, budget=RETENTION_BUDGET_SECONDS).deleted


@every(60, name="clinic.purge_records")
def purge_patient_records(now: datetime) -> int:
    """Apply the operator's patient-record retention (program settings; unset: nothing)."""
    from crossline.clinic import retention
    from crossline.program.models import ProgramSettings

    years = ProgramSettings.current().record_retention_years
    if years is None:
        return 0
    return retention.apply(now, years, budget=RETENTION_BUDGET_SECONDS).deleted
