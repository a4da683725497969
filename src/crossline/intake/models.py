"""Assessments and contact requests. PHI columns are encrypted; the rest identifies no one.

Queue and reporting read only the plain columns (eligibility, safety level, state, times).
"""

from __future__ import annotations

import secrets
import uuid
from typing import Any

from django.db import models

from crossline import audit
from crossline.crypto import token_hash
from crossline.intake.fields import EncryptedJSONField


def new_token() -> str:
    """A private-link token: 256 bits, URL-safe. Only its hash is stored."""
    return secrets.token_urlsafe(32)


class Assessment(models.Model):
    class Status(models.TextChoices):
        IN_PROGRESS = "in_progress"
        SUBMITTED = "submitted"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    token_hash = models.CharField(max_length=64, unique=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.IN_PROGRESS)
    language = models.CharField(max_length=2, default="en")
    answers = EncryptedJSONField()
    decision = EncryptedJSONField(null=True)
    # Non-identifying columns (queue, reporting, retention). Set at submission.
    eligibility = models.CharField(max_length=32, blank=True)
    safety_level = models.CharField(max_length=16, blank=True)
    triage = models.CharField(max_length=32, blank=True)
    state = models.CharField(max_length=2, blank=True)
    engine_version = models.CharField(max_length=32, blank=True)
    knowledge_version = models.CharField(max_length=64, blank=True)
    policy_version = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True)
    linked_at = models.DateTimeField(null=True)  # first contact details: no longer anonymous
    # An API submission's Idempotency-Key, for 24 hours (`crossline.api.idempotency`): a
    # SHA-256 of the key, one of the canonical body, and the private link's token (encrypted)
    # to answer a retry with the same result_url. The worker clears all three after the 24
    # hours; NULL for every other screen. On the row itself, not a table of its own: a keyed
    # submission is then one INSERT (docs/decisions/0013-idempotency-key-on-the-row.md).
    idempotency_key = models.CharField(max_length=64, null=True, unique=True)
    idempotency_body = models.CharField(max_length=64, blank=True)
    idempotency_token = EncryptedJSONField(null=True)

    class Meta:
        indexes = [
            # retention: anonymous screens older than N days
            models.Index(fields=["linked_at", "created_at"], name="assessment_retention"),
        ]

    @classmethod
    def start(cls, language: str) -> tuple[Assessment, str]:
        token = new_token()
        return cls.objects.create(
            token_hash=token_hash(token), language=language, answers={}
        ), token

    @classmethod
    def submission(
        cls, language: str, answers: dict[str, Any], decision: dict[str, Any], now: Any
    ) -> tuple[Assessment, str]:
        """A complete submission, not saved yet: answers, decision snapshot and plain columns,
        for one INSERT (the API's submit inserts it in the transaction that counts it)."""
        token = new_token()
        assessment = cls(
            token_hash=token_hash(token),
            language=language,
            answers=answers,
            status=cls.Status.SUBMITTED,
            submitted_at=now,
        )
        assessment.record(decision)
        return assessment, token

    @classmethod
    def submit(
        cls, language: str, answers: dict[str, Any], decision: dict[str, Any], now: Any
    ) -> tuple[Assessment, str]:
        """A complete submission in one INSERT: answers, decision snapshot and plain columns."""
        assessment, token = cls.submission(language, answers, decision, now)
        assessment.save(force_insert=True)
        return assessment, token

    def submitted_event(self, request: Any, channel: str) -> audit.Pending:
        """The audit event "assessment submitted" (web or API), by the screen's id only — no
        answers — prepared for `append()` in the transaction that submits it."""
        return audit.prepare(
            audit.Action.ASSESSMENT_SUBMITTED,
            request=request,
            actor="anonymous",
            patient=self.public_id,
            object_type="assessment",
            object_id=self.public_id,
            detail={"channel": channel},
        )

    @classmethod
    def by_token(cls, token: str) -> Assessment | None:
        return cls.objects.filter(token_hash=token_hash(token)).first()

    def record(self, decision: dict[str, Any]) -> None:
        self.decision = decision
        self.eligibility = decision["eligibility"]
        self.safety_level = decision["safety"]["level"]
        self.triage = decision["triage"]
        self.state = self.answers.get("profile.state", "")
        self.engine_version = decision["engine_version"]
        self.knowledge_version = decision["knowledge_version"]
        self.policy_version = decision["policy_version"]


class ContactRequest(models.Model):
    class Kind(models.TextChoices):
        EVALUATION = "evaluation"
        CONTACT_ME = "contact_me"

    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="contacts")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    contact = EncryptedJSONField()  # name, email, phone, state confirmed
    consent_to_contact = models.BooleanField()
    consent_version = models.CharField(max_length=32)
    email_index = models.CharField(max_length=64, blank=True, db_index=True)  # blind index
    phone_index = models.CharField(max_length=64, blank=True, db_index=True)  # blind index
    created_at = models.DateTimeField(auto_now_add=True)


class AggregateCount(models.Model):
    """How many screens there were, kept after retention deletes them (no PHI): anonymous
    screens past their days, and the screens of patient records past their years.

    One row per (day the screen started, eligibility, safety level, state); retention adds to
    `count` in the same transaction that deletes the screens (`retention.add_to_counts`). A
    blank eligibility and safety level mean the screen was never submitted (blank state
    likewise: set at submission).
    """

    day = models.DateField()
    eligibility = models.CharField(max_length=32, blank=True)
    safety_level = models.CharField(max_length=16, blank=True)
    state = models.CharField(max_length=2, blank=True)
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["day", "eligibility", "safety_level", "state"], name="aggregate_count_key"
            )
        ]
