"""The second factor's secrets are not readable from a copy of the database.

An authenticator's TOTP secret is stored encrypted with the key ring (and rotated with it); a
recovery code only as a keyed digest. Sign-in with either works exactly as before, and the
migration converts devices enrolled before it without anyone enrolling again.
"""

from __future__ import annotations

import binascii
import os
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from crossline.accounts import services
from crossline.accounts.models import SEALED, Authenticator, AuthenticatorSecret, RecoveryCodes
from crossline.intake.management.commands.rotate_keys import encrypted_fields
from tests import migrating
from tests.accounts.helpers import make_user, sign_in, tokens_left
from tests.staff import PASSWORD
from tests.web.test_crypto import K1, K2, UseRing, key_id, rotate, use_ring  # noqa: F401

pytestmark = pytest.mark.django_db


def column(sql: str, *params: Any) -> list[Any]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


def stored_secret(device: Authenticator) -> bytes:
    (blob,) = column("SELECT key FROM accounts_authenticatorsecret WHERE device_id = %s", device.pk)
    return bytes(blob)


def test_the_totp_secret_is_encrypted_at_rest_and_sign_in_still_works() -> None:
    _, device, _ = make_user("sealed@example.org")
    assert device is not None
    secret = device.bin_key
    assert len(secret) == 20  # django-otp's default: 160 bits
    assert column("SELECT key FROM otp_totp_totpdevice WHERE id = %s", device.pk) == [SEALED]
    blob = stored_secret(device)
    assert secret.hex().encode() not in blob and secret not in blob
    assert blob.startswith(b"v1")  # the key ring's ciphertext format
    assert sign_in(Client(), "sealed@example.org", device).status_code == 302


def test_a_device_read_as_django_otps_own_model_cannot_verify() -> None:
    """The plaintext column holds no key: read through django-otp's TOTPDevice, the device fails
    instead of checking codes against a wrong key."""
    _, device, _ = make_user("plain@example.org")
    assert device is not None
    plain = TOTPDevice.objects.get(pk=device.pk)
    with pytest.raises(binascii.Error):
        plain.verify_token("123456")


def test_enrolment_shows_the_decrypted_secret_once_sealed() -> None:
    user, _token = services.create_user("enrol@example.org", ["physician"])
    device = services.pending_totp(user)
    assert services.pending_totp(user).pk == device.pk  # the same device on every visit
    assert column("SELECT key FROM otp_totp_totpdevice WHERE id = %s", device.pk) == [SEALED]
    assert "secret=" in device.config_url  # the QR code carries the real secret
    assert AuthenticatorSecret.objects.get(pk=device.pk).key == device.bin_key.hex()


def test_recovery_codes_are_stored_only_as_keyed_digests() -> None:
    user, _, codes = make_user("codes@example.org")
    stored = column("SELECT token FROM otp_static_statictoken")
    assert len(stored) == 10 and not set(codes) & set(stored)
    assert all(len(t) == 16 and int(t, 16) >= 0 for t in stored)  # 64-bit hex digests
    client = Client()
    client.post("/clinic/sign-in/", {"username": "codes@example.org", "password": PASSWORD})
    assert client.post("/clinic/verify/", {"otp_token": codes[3].upper()}).status_code == 302
    assert tokens_left(user) == 9  # used once, then gone
    again = Client()
    again.post("/clinic/sign-in/", {"username": "codes@example.org", "password": PASSWORD})
    assert again.post("/clinic/verify/", {"otp_token": codes[3]}).status_code == 400
    # The digest itself is not a code: a stolen table does not sign anyone in.
    third = Client()
    third.post("/clinic/sign-in/", {"username": "codes@example.org", "password": PASSWORD})
    assert third.post("/clinic/verify/", {"otp_token": stored[0]}).status_code == 400


def test_authenticator_secrets_rotate_with_the_key_ring(use_ring: UseRing) -> None:  # noqa: F811
    assert ("accounts.AuthenticatorSecret", "key") in {
        (m._meta.label, f.name) for m, f in encrypted_fields()
    }
    use_ring({"k1": K1})
    _, device, _ = make_user("rotate@example.org")
    assert device is not None
    secret = device.bin_key
    assert key_id(stored_secret(device)) == "k1"
    use_ring({"k2": K2, "k1": K1})
    assert "accounts.AuthenticatorSecret.key: re-encrypted 1" in rotate()
    use_ring({"k2": K2})
    assert key_id(stored_secret(device)) == "k2"
    assert Authenticator.objects.get(pk=device.pk).bin_key == secret


# --- the migration --------------------------------------------------------------------------

BEFORE = [("accounts", "0002_profile_enrolmenttoken")]
AFTER = [("accounts", "0003_sealed_second_factor")]
LATEST = [("accounts", "0004_recovery_key_check")]  # where every other test expects the schema


def migrate(target: list[tuple[str, str]]) -> Any:
    return migrating.migrate("accounts", target)


@pytest.mark.django_db(transaction=True)
def test_the_migration_seals_devices_enrolled_before_it_and_can_be_undone() -> None:
    old = migrate(BEFORE)
    User = old.get_model("auth", "User")
    user = User.objects.create(username="early@example.org")
    key = os.urandom(20).hex()
    device = old.get_model("otp_totp", "TOTPDevice").objects.create(
        user=user, name="phone", confirmed=True, key=key
    )
    static = old.get_model("otp_static", "StaticDevice").objects.create(
        user=user, name="Recovery codes", confirmed=True
    )
    old.get_model("otp_static", "StaticToken").objects.create(device=static, token="abcd2345")
    try:
        migrate(AFTER)
        sealed = Authenticator.objects.get(pk=device.pk)
        assert column("SELECT key FROM otp_totp_totpdevice WHERE id = %s", device.pk) == [SEALED]
        assert key.encode() not in stored_secret(sealed)
        assert sealed.bin_key.hex() == key  # the same app keeps working: same secret
        code = f"{totp(sealed.bin_key):06d}"
        assert sealed.verify_token(code)
        (token,) = StaticToken.objects.filter(device_id=static.pk)
        assert token.token != "abcd2345"
        assert RecoveryCodes.objects.get(pk=static.pk).verify_token("abcd2345")

        migrate(BEFORE)  # backwards: the secret returns to django-otp's column
        assert column("SELECT key FROM otp_totp_totpdevice WHERE id = %s", device.pk) == [key]
        assert column("SELECT COUNT(*) FROM otp_static_statictoken") == [0]
    finally:
        migrate(LATEST)
