"""Field encryption (AES-256-GCM) with a key ring for rotation, and keyed blind indexes.

Ciphertext layout: b"v1" | len(key_id) (1 byte) | key_id | nonce (12 bytes) | ciphertext+tag.
The first key of the ring encrypts; any key in the ring decrypts, so rotation is: add the new
key first, keep the old ones until `crossline manage rotate_keys` has re-encrypted every row.
The associated data binds a ciphertext to the column it belongs to.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
from collections.abc import Mapping
from typing import Any

import orjson
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

VERSION = b"v1"
NONCE_BYTES = 12


class DecryptionError(Exception):
    """The ciphertext was altered, or its key is not in the ring."""


class Cipher:
    def __init__(self, keys: Mapping[str, bytes], active: str) -> None:
        self._keys = {k: AESGCM(v) for k, v in keys.items()}
        self._active = active

    @property
    def active_key_id(self) -> str:
        return self._active

    def encrypt(self, plaintext: bytes, aad: bytes) -> bytes:
        key_id = self._active.encode()
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._keys[self._active].encrypt(nonce, plaintext, aad)
        return VERSION + bytes([len(key_id)]) + key_id + nonce + sealed

    def decrypt(self, blob: bytes, aad: bytes) -> bytes:
        if blob[:2] != VERSION:
            raise DecryptionError("not a crossline ciphertext (unknown version)")
        try:
            key_id = self.key_id_of(blob)
        except (IndexError, UnicodeDecodeError):
            raise DecryptionError("not a crossline ciphertext (cut short or garbled)") from None
        n = blob[2]
        nonce = blob[3 + n : 3 + n + NONCE_BYTES]
        key = self._keys.get(key_id)
        if key is None:
            raise DecryptionError(f"key {key_id!r} is not in the ring")
        try:
            return key.decrypt(nonce, blob[3 + n + NONCE_BYTES :], aad)
        except Exception as exc:  # cryptography raises InvalidTag
            raise DecryptionError("ciphertext failed authentication") from exc

    def key_id_of(self, blob: bytes) -> str:
        return blob[3 : 3 + blob[2]].decode()

    def encrypt_json(self, value: Any, aad: bytes) -> bytes:
        return self.encrypt(json_bytes(value), aad)

    def decrypt_json(self, blob: bytes, aad: bytes) -> Any:
        return json.loads(self.decrypt(blob, aad))


def json_bytes(value: Any) -> bytes:
    """The compact JSON text (UTF-8) crossline encrypts, and may send as it is.

    orjson encodes a decision twelve times faster than the standard library (docs/decisions/
    0012). A value orjson does not take as plain JSON — keys that are not strings, an integer
    beyond 64 bits, a datetime or a dataclass — goes to `json.dumps`, which encodes or refuses
    it as it always has."""
    try:
        return orjson.dumps(value, option=_STRICT)
    except orjson.JSONEncodeError:
        return json.dumps(value, separators=(",", ":")).encode()


# Types the standard library would refuse are refused here too (and then refused by it).
_STRICT = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


def blind_index(key: bytes, kind: str, value: str) -> str:
    """HMAC-SHA256 of a normalised e-mail or phone: finds a person's screens, reveals nothing."""
    return hmac.new(
        key, f"{kind}:{normalise_contact(kind, value)}".encode(), hashlib.sha256
    ).hexdigest()


def code_digest(key: bytes, code: str) -> str:
    """A recovery code as stored: HMAC-SHA256 keyed outside the database, 64 bits in hex (the
    length django-otp's token column holds). Codes are random, so no slow hash is needed: without
    the key, a stored digest cannot be tested against any guess."""
    return hmac.new(key, f"recovery-code:{code}".encode(), hashlib.sha256).hexdigest()[:16]


def normalise_contact(kind: str, value: str) -> str:
    if kind == "email":
        return value.strip().lower()
    digits = re.sub(r"\D", "", value)
    return digits[1:] if len(digits) == 11 and digits.startswith("1") else digits


def token_hash(token: str) -> str:
    """Private-link tokens are stored only as their SHA-256."""
    return hashlib.sha256(token.encode()).hexdigest()
