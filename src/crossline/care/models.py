"""Safety alerts, their escalation history, notification deliveries, and the worker's schedule.

An alert belongs to a case whose screen was safety-positive and whose person left contact
details (`alerts.on_case_opened`). Only non-identifying values live here: levels, times, steps,
staff user ids, channel names and exception class names — never answers or contact details.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from crossline.clinic.models import Case
from crossline.intake.fields import EncryptedJSONField


class Alert(models.Model):
    class Level(models.TextChoices):
        ACUTE = "acute", "acute"
        NON_ACUTE = "non_acute", "non-acute"
        ROUTINE = "routine", "routine"  # course follow-up: notified once, not escalated

    class Source(models.TextChoices):
        SCREEN = "screen", "screen"  # a safety-positive screen with contact details
        PRE = "pre", "pre-session check-in"
        POST = "post", "after-session check-in"
        WEEKLY = "weekly", "weekly questionnaire"
        MISSED = "missed", "missed check-in"
        DISPENSING = "dispensing", "dispensing"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="alerts")
    level = models.CharField(max_length=16, choices=Level.choices)
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.SCREEN)
    # The rule ids that raised it (e.g. "checkin.pre.bp_high"): codes, never answers.
    reasons = models.JSONField(default=list, blank=True)
    # Safety answers that showed risk on a course page that could not store them (its link had
    # run out, another tab had sent it): never accepted as a check-in, kept here so the
    # clinician answering the alert sees what the person said. `[{"at", "answers"}]`, oldest
    # first; only PHQ-9 item 9 and the ASQ, well-formed values only. Encrypted like answers.
    unaccepted_answers = EncryptedJSONField(null=True, blank=True)
    created_at = models.DateTimeField()
    due_at = models.DateTimeField()  # the response deadline for this level
    # Escalation: step 0 went to the first person on the roster (and the team addresses); step
    # k to the k-th next; the step after the last roster entry goes to the team addresses
    # again and ends escalation. `next_escalation_at` is None once acknowledged or exhausted.
    step = models.PositiveSmallIntegerField(default=0)
    next_escalation_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        indexes = [
            # The sweep: unacknowledged alerts whose next step is due.
            models.Index(fields=["next_escalation_at"], name="alert_escalation_due"),
            # The list: open alerts first, by deadline.
            models.Index(fields=["acknowledged_at", "due_at"], name="alert_list"),
        ]

    def __str__(self) -> str:
        return f"alert {self.public_id}"

    @property
    def is_open(self) -> bool:
        return self.acknowledged_at is None

    @property
    def is_safety(self) -> bool:
        """A suicide-risk alert: the screen's, or a positive safety answer in a check-in."""
        return self.source == self.Source.SCREEN or bool(SAFETY_REASONS & set(self.reasons))


# The rule ids of a positive suicide-risk answer during a course (the check-in engines').
SAFETY_REASONS = frozenset({"checkin.pre.safety_positive", "weekly.safety_positive"})


class AlertEvent(models.Model):
    """The alert's history as the alert page shows it (the audit log holds the same facts)."""

    class Kind(models.TextChoices):
        CREATED = "created"
        ESCALATED = "escalated"
        ACKNOWLEDGED = "acknowledged"

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField()
    kind = models.CharField(max_length=16, choices=Kind.choices)
    step = models.PositiveSmallIntegerField(default=0)
    # Who was paged at this step (None: the team addresses), or who acknowledged.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    team = models.BooleanField(default=False)  # the program's notification addresses too

    class Meta:
        ordering = ["at", "pk"]


class Notification(models.Model):
    """One message to one recipient on one channel, with its delivery attempts."""

    class Channel(models.TextChoices):
        EMAIL = "email", "e-mail"
        WEBHOOK = "webhook", "webhook"

    class Status(models.TextChoices):
        PENDING = "pending"  # not tried yet
        RETRYING = "retrying"  # an attempt failed; another is queued
        SENT = "sent"
        FAILED = "failed"  # gave up

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="notifications")
    step = models.PositiveSmallIntegerField(default=0)
    channel = models.CharField(max_length=8, choices=Channel.choices)
    # A staff user (their account's e-mail), or a team address from the program settings
    # (staff addresses, not patient data), or neither for the webhook.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    address = models.EmailField(blank=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=80, blank=True)  # an exception class name only
    created_at = models.DateTimeField()
    queued_at = models.DateTimeField(null=True, blank=True)  # handed to the task queue
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [
            # The sweep re-queues notifications whose enqueue was lost (a crash after commit).
            models.Index(fields=["status", "queued_at"], name="notification_unqueued"),
        ]

    @property
    def recipient(self) -> str:
        if self.channel == self.Channel.WEBHOOK:
            return "webhook"
        return f"user {self.user_id}" if self.user_id else self.address


class PeriodicRun(models.Model):
    """When each periodic job last ran, so several workers run it once per interval between
    them (`schedule.claim`: a conditional UPDATE that only one worker wins)."""

    name = models.CharField(max_length=100, unique=True)
    last_run_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.name
