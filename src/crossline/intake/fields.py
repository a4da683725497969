"""A JSON model field stored encrypted (AES-GCM) with the ring from the configuration."""

from __future__ import annotations

from functools import cache
from typing import Any

from django.conf import settings
from django.db import models

from crossline.crypto import Cipher, json_bytes


@cache
def cipher() -> Cipher:
    cfg = settings.CROSSLINE
    return Cipher(cfg.encryption_keys, cfg.active_key_id)


class EncryptedJSONField(models.BinaryField):  # type: ignore[type-arg]
    """JSON in, ciphertext in the database. The column name is the associated data."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("editable", False)
        super().__init__(*args, **kwargs)

    def _aad(self) -> bytes:
        return f"{self.model._meta.label_lower}.{self.attname}".encode()

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        if value is None:
            return None
        return cipher().decrypt_json(bytes(value), self._aad())

    def to_python(self, value: Any) -> Any:
        return value

    def get_db_prep_value(self, value: Any, connection: Any, prepared: bool = False) -> Any:
        if value is None:
            return None
        return self.seal(json_bytes(value), connection)

    def seal(self, text: bytes, connection: Any) -> Any:
        """The column's database value for a JSON text encoded already (`json_bytes`), for a
        caller that needs the same text elsewhere and would otherwise encode it twice."""
        return connection.Database.Binary(cipher().encrypt(text, self._aad()))

    def value_to_string(self, obj: Any) -> str:  # never serialise plaintext via dumpdata
        return "<encrypted>"
