"""The clinician queue: one case per screen whose person asked to be contacted.

A case opens when an evaluation request or an "ask a clinician to contact me" request is stored
(`cases.open_case`, in the same transaction). Its urgency and deadline come from the screen's
stored safety level (never recomputed) and the program's alert deadlines. Only non-identifying
columns live here; the answers and contact details stay encrypted on the assessment and request.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from crossline.intake.models import Assessment


class Urgency(models.IntegerChoices):
    ACUTE = 0, "acute suicide risk"
    NON_ACUTE = 1, "non-acute suicide risk"
    ROUTINE = 2, "evaluation request"


class CloseReason(models.TextChoices):
    CONTACTED = "contacted", "Contact made; nothing more to do"
    WITHDRAWN = "withdrawn", "The person withdrew"
    UNREACHABLE = "unreachable", "Could not be reached after repeated attempts"
    DUPLICATE = "duplicate", "A duplicate of another case"


class ReopenReason(models.TextChoices):
    GOT_IN_TOUCH = "got_in_touch", "The person got in touch again"
    CLOSED_IN_ERROR = "closed_in_error", "It was closed by mistake"


class Case(models.Model):
    class Status(models.TextChoices):
        OPEN = "open"  # in the queue, nobody has it
        CLAIMED = "claimed"  # a clinician has it
        DECIDED = "decided"  # evaluation decided (approve / decline / refer)
        CLOSED = "closed"  # contact made and nothing more to do, or withdrawn

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    assessment = models.OneToOneField(Assessment, on_delete=models.PROTECT, related_name="case")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    urgency = models.PositiveSmallIntegerField(choices=Urgency.choices)
    evaluation_requested = models.BooleanField(default=False)
    contact_requested = models.BooleanField(default=False)  # the safety "contact me" request
    # Copied from the screen's stored decision: the queue reads no encrypted column.
    eligibility = models.CharField(max_length=32)
    safety_level = models.CharField(max_length=16)
    state = models.CharField(max_length=2, blank=True)
    opened_at = models.DateTimeField()
    due_at = models.DateTimeField(null=True, blank=True)  # response deadline (safety cases)
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    claimed_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    close_reason = models.CharField(max_length=16, choices=CloseReason.choices, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["status", "urgency", "opened_at"], name="case_queue"),
        ]

    def __str__(self) -> str:
        return f"case {self.public_id}"


# A case still being worked: in the queue, or held by a clinician (not decided, not closed).
ACTIVE = (Case.Status.OPEN, Case.Status.CLAIMED)


class RecordHold(models.Model):
    """A legal hold on a patient record: patient-record retention (`clinic.retention`) never
    deletes a held record, whatever its age. Placed and released by an operator in the admin
    (each an audit event); released by deleting the hold."""

    case = models.OneToOneField(Case, on_delete=models.PROTECT, related_name="hold")
    reference = models.CharField(
        "hold reference",
        max_length=80,
        help_text=(
            "Why the record is kept, as your records or legal team refers to it (for example a "
            "matter number). Never a patient's name or details."
        ),
    )
    placed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    placed_at = models.DateTimeField()

    class Meta:
        verbose_name = "legal hold"

    def __str__(self) -> str:
        return f"legal hold on {self.case}"
