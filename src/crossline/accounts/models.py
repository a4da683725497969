"""Per-user security state: the session epoch ("sign out everywhere"), enrolment links and the
second factor's secrets.

An enrolment link's token is shown once (printed by `crossline createuser`); only its SHA-256
is stored, so a copy of the database cannot be used to enrol. Likewise a copy of the database
cannot be used to pass the second step: an authenticator's TOTP secret is stored encrypted with
the field-encryption key ring (`AuthenticatorSecret`), and recovery codes only as keyed digests
(`RecoveryCodes`). Both are django-otp devices: its verification, replay guard, drift and
throttling are used unchanged; only where the secret lives differs.
"""

from __future__ import annotations

import hashlib
import secrets
from binascii import unhexlify
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone
from django_otp.plugins.otp_static.models import (  # type: ignore[import-untyped]
    StaticDevice,
    StaticToken,
)
from django_otp.plugins.otp_totp.models import (  # type: ignore[import-untyped]
    TOTPDevice,
    default_key,
)

from crossline.crypto import code_digest
from crossline.intake.fields import EncryptedJSONField

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

    @classmethod
    def set_up_may_continue(cls, user: models.Model) -> bool:
        """Whether an account with no authenticator yet may add one after its password: only
        while its newest link is live (72 hours from issue, not replaced). The link is the
        invitation; after it, a password alone would let whoever learns it enrol their own
        authenticator, and so hold an account no second factor ever protected."""
        newest = cls.objects.filter(user=user).order_by("-created_at", "-pk").first()
        return (
            newest is not None and newest.revoked_at is None and timezone.now() < newest.expires_at
        )

    def is_valid(self) -> bool:
        return (
            self.used_at is None
            and self.revoked_at is None
            and timezone.now() < self.expires_at
            and self.user.is_active
        )


# --- the second factor --------------------------------------------------------------------

# What an Authenticator keeps in django-otp's plaintext `key` column instead of its secret. It is
# not hex: code that read the column as a key (django-otp's own TOTPDevice) fails, never
# verifies against a wrong key.
SEALED = "sealed"


class CheckedUnderLock:
    """A device whose code check reads the device row again, locked, in the transaction that
    records the result. django-otp checks against the row as the request read it: two requests
    that read it before either checked would both pass the same authenticator code (its replay
    guard is the last time step used, in that row) or the same recovery code, and parallel
    guesses would all miss the wait a wrong code imposes. Locked, they take turns."""

    def verify_token(self, token: Any) -> bool:
        with transaction.atomic():
            model: Any = type(self)
            self.refresh_from_db(from_queryset=model.objects.select_for_update())  # type: ignore[attr-defined]
            return bool(super().verify_token(token))  # type: ignore[misc]


class Authenticator(CheckedUnderLock, TOTPDevice):  # type: ignore[misc]
    """An authenticator app: django-otp's TOTP device, whose secret is in `AuthenticatorSecret`
    (encrypted) rather than in the device row."""

    class Meta:
        proxy = True

    @classmethod
    def enrol(cls, user: Any, name: str, confirmed: bool = False) -> Authenticator:
        """A new device with a new random secret (django-otp's default: 20 bytes)."""
        with transaction.atomic():
            device: Authenticator = cls.objects.create(
                user=user, name=name, confirmed=confirmed, key=SEALED
            )
            AuthenticatorSecret.objects.create(device=device, key=default_key())
        return device

    @property
    def bin_key(self) -> bytes:
        """The secret, decrypted (django-otp reads it to verify a code and for the set-up QR)."""
        return unhexlify(self.sealed_key.key.encode())


class AuthenticatorSecret(models.Model):
    """An authenticator's TOTP secret (hex, as django-otp makes it), encrypted at rest with the
    key ring: re-encrypted by `rotate_keys` like every other encrypted column."""

    device = models.OneToOneField(
        TOTPDevice, primary_key=True, on_delete=models.CASCADE, related_name="sealed_key"
    )
    key = EncryptedJSONField()

    def __str__(self) -> str:
        return f"secret of authenticator {self.device_id}"


class RecoveryKeyCheck(models.Model):
    """Which index key a user's recovery codes were digested under, as a keyed digest of a
    constant (it reveals nothing without the key). The codes themselves cannot be re-digested
    when the key changes (only their digests are kept), so after a change they stop working;
    this tells that apart from a code typed wrong, so the user can be told to make new ones."""

    device = models.OneToOneField(
        StaticDevice, primary_key=True, on_delete=models.CASCADE, related_name="key_check"
    )
    value = models.CharField(max_length=64)

    def __str__(self) -> str:
        return f"key check of recovery codes {self.device_id}"


class RecoveryCodes(CheckedUnderLock, StaticDevice):  # type: ignore[misc]
    """A user's single-use recovery codes: django-otp's static device, whose tokens are stored
    as keyed digests of the codes (`crypto.code_digest`, keyed by the index key, which is
    never in the database). A code is shown once, when it is made."""

    class Meta:
        proxy = True

    @classmethod
    def stale(cls, user: Any) -> bool:
        """True when the user's codes were made under an index key that has since changed (or
        before the key was recorded and it cannot be told): they no longer work."""
        found = StaticDevice.objects.filter(user=user, confirmed=True).values_list(
            "key_check__value", flat=True
        )
        current = key_check()
        return any(check != current for check in found)

    @classmethod
    def holders_of_stale_codes(cls) -> int:
        """How many users hold recovery codes that no longer work (see `stale`)."""
        devices = StaticDevice.objects.filter(confirmed=True).exclude(key_check__value=key_check())
        return int(devices.values("user").distinct().count())

    @classmethod
    def issue(cls, user: Any, count: int) -> list[str]:
        """Replace the user's recovery codes with `count` new ones; returns the codes."""
        with transaction.atomic():
            StaticDevice.objects.filter(user=user).delete()
            device = cls.objects.create(user=user, name="Recovery codes", confirmed=True)
            RecoveryKeyCheck.objects.create(device=device, value=key_check())
            codes = [StaticToken.random_token() for _ in range(count)]
            StaticToken.objects.bulk_create(
                [StaticToken(device=device, token=recovery_digest(c)) for c in codes]
            )
        return codes

    def verify_token(self, token: Any) -> bool:
        """django-otp's check (throttled, the matching token deleted), against the digest."""
        if not isinstance(token, str):
            return False
        return bool(super().verify_token(recovery_digest(token)))


def recovery_digest(code: str) -> str:
    return code_digest(bytes(settings.CROSSLINE.index_key), code)


def key_check() -> str:
    """The current index key's check value (see RecoveryKeyCheck)."""
    return code_digest(bytes(settings.CROSSLINE.index_key), "\x00recovery codes key check")
