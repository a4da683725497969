"""NIST SP 800-63B allows long passphrases: at least 64 characters must be accepted."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError

MAX_PASSWORD_LENGTH = 256  # ≥ 64 as NIST asks; the cap only bounds Argon2's input


class MaximumLengthValidator:
    def validate(self, password: str, user: Any = None) -> None:
        if len(password) > MAX_PASSWORD_LENGTH:
            raise ValidationError(
                f"This password is too long: at most {MAX_PASSWORD_LENGTH} characters.",
                code="password_too_long",
            )

    def get_help_text(self) -> str:
        return f"At most {MAX_PASSWORD_LENGTH} characters; a long passphrase is welcome."
