"""A telehealth visit of a case, and the reminders sent before it.

One `Visit` row is one appointment. Until the patient confirms, a new proposal changes the same
row (its `sequence` goes up, so a notice queued for an older time is not sent). Once confirmed,
its time went into both calendars and never changes: a new time — the clinic's, or after the
patient asks for another — cancels it (the calendar cancellation goes to both) and is a visit of
its own. Times are stored in UTC; `time_zone` is the zone the patient sees them in.

PHI here: the patient's optional message when asking for another time, and the private-link
token kept so reminders can carry the link back to the result — both encrypted.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.db import models

from crossline.clinic.models import Case
from crossline.intake.fields import EncryptedJSONField


class Visit(models.Model):
    class Status(models.TextChoices):
        PROPOSED = "proposed", "proposed, waiting for the patient"
        CONFIRMED = "confirmed", "confirmed by the patient"
        RESCHEDULE_REQUESTED = "reschedule_requested", "patient asked for another time"
        ATTENDED = "attended", "attended"
        NO_SHOW = "no_show", "no-show"
        CANCELLED = "cancelled", "cancelled"

    # The visit is still ahead of everyone: a clinician may re-propose, the patient may answer.
    OPEN = (Status.PROPOSED, Status.CONFIRMED, Status.RESCHEDULE_REQUESTED)

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="visits")
    status = models.CharField(max_length=24, choices=Status.choices, default=Status.PROPOSED)
    starts_at = models.DateTimeField()  # UTC
    duration_minutes = models.PositiveSmallIntegerField()
    time_zone = models.CharField(max_length=64)  # IANA name: how the patient sees the time
    video_url = models.URLField(max_length=500)  # the program's link at proposal time
    sequence = models.PositiveIntegerField(default=0)  # RFC 5545 SEQUENCE: +1 per new proposal
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    proposed_at = models.DateTimeField()
    answered_at = models.DateTimeField(null=True, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)  # kept if they ask for another
    language = models.CharField(max_length=2, default="en")  # the patient's, for e-mails
    patient_message = EncryptedJSONField(null=True)  # "ask for another time" note (PHI)
    result_token = EncryptedJSONField(null=True)  # the private link, for the e-mails (PHI)
    outcome_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    outcome_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-proposed_at"]
        indexes = [
            # The reminder sweep: confirmed visits starting soon.
            models.Index(fields=["status", "starts_at"], name="visit_upcoming"),
        ]

    def __str__(self) -> str:
        return f"visit {self.public_id}"

    @property
    def ends_at(self) -> datetime:
        return self.starts_at + timedelta(minutes=self.duration_minutes)

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN

    @property
    def was_confirmed(self) -> bool:
        """The patient confirmed this time, so both calendars got it: it never moves."""
        return self.confirmed_at is not None


class Reminder(models.Model):
    """One reminder of one visit. The unique constraint is the claim: a sweep that inserts the
    row sends the reminder; a concurrent sweep's insert fails and it moves on."""

    visit = models.ForeignKey(Visit, on_delete=models.CASCADE, related_name="reminders")
    kind = models.CharField(max_length=8)  # "24h", "1h": keys of reminders.REMINDERS
    sequence = models.PositiveIntegerField()  # the proposal it reminds of (a new time resets)
    claimed_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["visit", "kind", "sequence"], name="reminder_once_per_proposal"
            )
        ]
