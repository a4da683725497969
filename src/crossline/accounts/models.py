"""Per-user security state: the session epoch ("sign out everywhere") and enrolment links.

An enrolment link's token is shown once (printed by `crossline createuser`); only its SHA-256
is stored, so a copy of the database cannot be used to enrol.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone

ENROLMENT_LIFETIME = timedelta(hours=72)


class Profile(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="crossline_profile"
    )
    # Every session records the epoch it was signed in under; raising it ends them all.
    session_epoch = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"profile of user {self.user_id}"

    @classmethod
    def epoch_of(cls, user_id: int) -> int:
        epoch = cls.objects.filter(user_id=user_id).values_list("session_epoch", flat=True).first()
        return int(epoch or 0)

    @classmethod
    def bump_epoch(cls, user_id: int) -> None:
        cls.objects.get_or_create(user_id=user_id)
        cls.objects.filter(user_id=user_id).update(session_epoch=models.F("session_epoch") + 1)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class EnrolmentToken(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="enrolment_tokens"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)  # a newer link was issued

    def __str__(self) -> str:
        return f"enrolment link for user {self.user_id}"

    @classmethod
    def issue(cls, user: models.Model) -> str:
        """Revoke the user's open links and return a new one's token (shown once)."""
        now = timezone.now()
        cls.objects.filter(user=user, used_at=None, revoked_at=None).update(revoked_at=now)
        token = secrets.token_urlsafe(32)
        cls.objects.create(
            user=user,
            token_hash=hash_token(token),
            created_at=now,
            expires_at=now + ENROLMENT_LIFETIME,
        )
        return token

    @classmethod
    def find_valid(cls, token: str) -> EnrolmentToken | None:
        if not token or len(token) > 100:
            return None
        found = cls.objects.select_related("user").filter(token_hash=hash_token(token)).first()
        if found is None or not found.is_valid():
            return None
        return found

    def is_valid(self) -> bool:
        return (
            self.used_at is None
            and self.revoked_at is None
            and timezone.now() < self.expires_at
            and self.user.is_active
        )
