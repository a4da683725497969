"""A treatment course: the physician's plan, the home sessions, the patient's check-ins.

One `Course` per approved case. Plain columns hold only what the course rules and lists need —
states, dates, counts, who did what — and never a name, an answer or the prescription: those
live in encrypted columns. Every change goes through `crossline.course.services`, in one
transaction with its audit event; the state rules are the engine's (`crossline.engine.course`).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from crossline.clinic.models import Case
from crossline.engine import course as rules
from crossline.intake.fields import EncryptedJSONField

USER = settings.AUTH_USER_MODEL


def _choices(values: tuple[str, ...]) -> list[tuple[str, str]]:
    return [(v, v) for v in values]


class Course(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    case = models.OneToOneField(Case, on_delete=models.PROTECT, related_name="course")
    status = models.CharField(
        max_length=16, choices=_choices(rules.COURSE_STATES), default=rules.ACTIVE
    )
    # Why the course is paused or suspended, for the lists (engine PAUSE_REASONS, or safety):
    # reevaluation | risk_high | risk_reassessed (a high risk a later assessment rated lower,
    # still for the physician to decide) | emergency (an after-session check's) | bladder (new
    # symptoms in a weekly check-in) | safety
    status_reason = models.CharField(max_length=24, blank=True)
    start_date = models.DateField()
    block = models.PositiveSmallIntegerField(default=1)  # re-evaluation blocks so far
    sessions_planned = models.PositiveSmallIntegerField()  # in this block, ≤ the program cap
    reevaluation_after = models.PositiveSmallIntegerField()  # sessions done in this block
    sessions_per_week = models.PositiveSmallIntegerField()
    induction_end = models.DateField()  # the planned re-evaluation date (outcomes' end)
    time_zone = models.CharField(max_length=64)
    language = models.CharField(max_length=2, default="en")  # the patient's, for e-mails
    # The physician's plan as written (PHI): prescription text and structured fields, the
    # monitor's name, notes. See forms.PlanForm.plan() for the shape, which plan_course checks
    # (services.check_plan_contents) for new plans only: older ones are read as stored. Never a
    # computed dose.
    plan = EncryptedJSONField()
    # The pre-session rules that apply, as policy values at planning time (with citations).
    rules_snapshot = models.JSONField()
    knowledge_version = models.CharField(max_length=64)
    policy_version = models.CharField(max_length=64)
    result_token = EncryptedJSONField(null=True)  # the private result link, for e-mails
    planned_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    planned_at = models.DateTimeField()
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"course {self.public_id}"


class Session(models.Model):
    """One planned home session. Its private check-in link (a new token per session, expiring)
    carries the patient to the pre- and after-session check-ins."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    course = models.ForeignKey(Course, on_delete=models.PROTECT, related_name="sessions")
    block = models.PositiveSmallIntegerField()
    number = models.PositiveSmallIntegerField()  # 1, 2, … across the whole course
    status = models.CharField(
        max_length=16, choices=_choices(rules.SESSION_STATES), default=rules.SCHEDULED
    )
    scheduled_for = models.DateTimeField()  # UTC
    token_hash = models.CharField(max_length=64, unique=True)
    token = EncryptedJSONField()  # for the reminder e-mails (PHI: it opens the check-in)
    link_expires_at = models.DateTimeField()
    scheduled_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    scheduled_at = models.DateTimeField()
    override_reason = EncryptedJSONField(null=True)  # scheduled without the previous after-check
    held_at = models.DateTimeField(null=True, blank=True)
    cleared_at = models.DateTimeField(null=True, blank=True)
    cleared_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    clear_note = EncryptedJSONField(null=True)
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(  # None: the patient's after-check marked it done
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    doses_taken = models.PositiveSmallIntegerField(null=True, blank=True)  # from the after-check
    reminded_at = models.DateTimeField(null=True, blank=True)
    missed_flagged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["number"]
        constraints = [
            models.UniqueConstraint(fields=["course", "number"], name="session_number_once")
        ]
        indexes = [models.Index(fields=["status", "scheduled_for"], name="session_due")]

    def __str__(self) -> str:
        return f"session {self.number} of {self.course}"


class Weekly(models.Model):
    """One weekly questionnaire (PHQ-9, GAD-7, the ASQ when item 9 > 0, bladder questions
    monthly, the recovery-plan line). The first, due on the start date, is the baseline."""

    class Status(models.TextChoices):
        DUE = "due"
        DONE = "done"
        MISSED = "missed"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    course = models.ForeignKey(Course, on_delete=models.PROTECT, related_name="weeklies")
    number = models.PositiveSmallIntegerField()  # 0 = baseline
    due_on = models.DateField()
    bladder = models.BooleanField(default=False)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.DUE)
    token_hash = models.CharField(max_length=64, unique=True)
    token = EncryptedJSONField()
    link_expires_at = models.DateTimeField()
    done_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    missed_flagged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["number"]
        constraints = [
            models.UniqueConstraint(fields=["course", "number"], name="weekly_number_once")
        ]
        indexes = [models.Index(fields=["status", "due_on"], name="weekly_due")]


class CheckIn(models.Model):
    """One submitted check-in: the answers and the engine's decision, with its versions (never
    recomputed). `action`: pre proceed|hold; post ok|alert|emergency; weekly ok|alert."""

    class Kind(models.TextChoices):
        PRE = "pre"
        POST = "post"
        WEEKLY = "weekly"

    course = models.ForeignKey(Course, on_delete=models.PROTECT, related_name="checkins")
    session = models.ForeignKey(
        Session, null=True, blank=True, on_delete=models.PROTECT, related_name="checkins"
    )
    weekly = models.OneToOneField(
        Weekly, null=True, blank=True, on_delete=models.PROTECT, related_name="checkin"
    )
    kind = models.CharField(max_length=8, choices=Kind.choices)
    action = models.CharField(max_length=16)
    safety_level = models.CharField(max_length=16, default="none")
    answers = EncryptedJSONField()
    decision = EncryptedJSONField()  # reasons, scores, safety — as the engine returned it
    language = models.CharField(max_length=2)
    submitted_at = models.DateTimeField()
    engine_version = models.CharField(max_length=32)
    knowledge_version = models.CharField(max_length=64)
    policy_version = models.CharField(max_length=64)

    class Meta:
        ordering = ["submitted_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["session", "kind"],
                condition=models.Q(session__isnull=False),
                name="checkin_once_per_session_kind",
            )
        ]


class FirstStep(models.Model):
    """A check-in's first step that answered PHQ-9 item 9 above 0 (pre-session or weekly). Its
    ASQ step comes next and nothing of the check-in is stored until that is sent — but the
    person may leave there, so the program acts on this step at once (FACTS §F2 ✎ 4): these
    safety answers are kept and the course is suspended (`services.first_step_at_risk`). The
    ASQ step, stored as the check-in, resolves it; if it never comes, the worker raises the
    safety alert with these answers (`services.alert_left_first_steps`)."""

    course = models.ForeignKey(Course, on_delete=models.PROTECT, related_name="first_steps")
    # The sitting: the session (pre-session check-in) or the weekly questionnaire.
    session = models.ForeignKey(
        Session, null=True, blank=True, on_delete=models.PROTECT, related_name="first_steps"
    )
    weekly = models.ForeignKey(
        Weekly, null=True, blank=True, on_delete=models.PROTECT, related_name="first_steps"
    )
    # The safety answers sent (item 9; the ASQ if posted with it), well-formed values only.
    answers = EncryptedJSONField()
    sent_at = models.DateTimeField()
    # Its ASQ step stored as the check-in, sent where it could not be stored (reported on an
    # alert), or a clinician's documented risk assessment made with it on the page.
    resolved_at = models.DateTimeField(null=True, blank=True)
    # The alert these answers were reported on when the ASQ step did not come (the worker).
    alert = models.ForeignKey(
        "care.Alert", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["sent_at", "pk"]
        # The worker's sweep: first steps still waiting, oldest first.
        indexes = [models.Index(fields=["resolved_at", "sent_at"], name="first_step_waiting")]


class ConsentSignature(models.Model):
    """The patient's signature of a version of the treatment consent."""

    course = models.ForeignKey(Course, on_delete=models.PROTECT, related_name="consents")
    version = models.CharField(max_length=32)
    signed_name = EncryptedJSONField()  # the name typed as the signature (PHI)
    language = models.CharField(max_length=2)
    signed_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["course", "version"], name="consent_signed_once")
        ]


class RiskAssessment(models.Model):
    """A clinician's documented suicide-risk assessment after a positive screen in the course."""

    class Risk(models.TextChoices):
        LOW = "low"
        MODERATE = "moderate"
        HIGH = "high"

    course = models.ForeignKey(Course, on_delete=models.PROTECT, related_name="risk_assessments")
    risk = models.CharField(max_length=16, choices=Risk.choices)
    note = EncryptedJSONField()
    documented_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    documented_at = models.DateTimeField()


class CourseDecision(models.Model):
    """The physician's decision at a re-evaluation point: continue, stop or change."""

    course = models.ForeignKey(Course, on_delete=models.PROTECT, related_name="decisions")
    block = models.PositiveSmallIntegerField()
    decision = models.CharField(max_length=16, choices=_choices(rules.DECISIONS))
    sessions_added = models.PositiveSmallIntegerField(default=0)
    note = EncryptedJSONField()
    decided_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField()


class Supply(models.Model):
    """One dispensed supply (Schedule III at home), with the PDMP check before it."""

    course = models.ForeignKey(Course, on_delete=models.PROTECT, related_name="supplies")
    dispensed_on = models.DateField()
    doses = models.PositiveSmallIntegerField()  # in the plan's units, as written
    details = EncryptedJSONField()  # quantity as written, pharmacy, PDMP note
    delivery_signed = models.BooleanField()
    pdmp_checked_on = models.DateField()
    doses_reported_left = models.PositiveSmallIntegerField(null=True, blank=True)
    recorded_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["dispensed_on", "pk"]


class RecoveryPlan(models.Model):
    """The non-drug plan beside the medicine (therapy, rest, boundaries, support people)."""

    course = models.OneToOneField(Course, on_delete=models.PROTECT, related_name="recovery")
    content = EncryptedJSONField()
    agreed_on = models.DateField()
    updated_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    updated_at = models.DateTimeField()
