"""The evaluation of a case and the letter a decline or referral produces.

Everything the clinician writes — answers, notes, medicines, the reason — is PHI and lives in
one encrypted column (`content`); the plain columns identify no one: status, decision kind,
who decided and when. A letter keeps its own encrypted copy of the clinician's words, so the
patient sees what was issued even if the record is later amended.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from crossline.clinic.models import Case
from crossline.intake.fields import EncryptedJSONField
from crossline.intake.models import Assessment


class Decision(models.TextChoices):
    APPROVE = "approve", "Approve for a course"
    DECLINE = "decline", "Decline"
    REFER = "refer", "Refer elsewhere"


class Evaluation(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft"
        DECIDED = "decided"

    case = models.OneToOneField(Case, on_delete=models.PROTECT, related_name="evaluation")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    decision = models.CharField(max_length=16, choices=Decision.choices, blank=True)
    content = EncryptedJSONField()  # see forms.EvaluationForm.content() for the shape
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    # One more on every save. The form carries the version it was loaded at (0: none saved yet),
    # and a save against another version is refused (record.save): two tabs or two clinicians
    # never overwrite each other's entries silently.
    version = models.PositiveIntegerField(default=0)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    def __str__(self) -> str:
        return f"evaluation of {self.case}"


class Addendum(models.Model):
    """A note added to a decided evaluation, which is itself final: what a clinician corrects or
    completes after the decision, with who and when. It changes neither the decision nor a letter
    already issued. Append-only: there is no edit and no delete."""

    evaluation = models.ForeignKey(Evaluation, on_delete=models.PROTECT, related_name="addenda")
    text = EncryptedJSONField()  # {"text": ...}: the clinician's words are PHI
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"addendum {self.pk} to {self.evaluation}"


class Letter(models.Model):
    """What the patient sees at /r/<token>/letter/ after a decline or a referral."""

    evaluation = models.OneToOneField(Evaluation, on_delete=models.PROTECT, related_name="letter")
    assessment = models.ForeignKey(Assessment, on_delete=models.PROTECT, related_name="letters")
    kind = models.CharField(max_length=16, choices=Decision.choices)  # decline | refer
    language = models.CharField(max_length=2)  # the screen's language
    text = EncryptedJSONField()  # {"reason": ...} or {"where": ...}, as the clinician wrote it
    issued_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.kind} letter for {self.evaluation.case}"
