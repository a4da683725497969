"""An authenticator code is six ASCII digits: other Unicode digits ("²", Arabic-Indic "٣") are
what `str.isdigit()` accepts and `int()` may read as the same number — never a code here."""

from __future__ import annotations

import pytest
from django.test import Client

from crossline.accounts.models import Authenticator
from tests.accounts.helpers import code_for, make_user
from tests.staff import PASSWORD, signed_in

pytestmark = pytest.mark.django_db

ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


def test_the_current_code_in_other_digits_does_not_sign_in() -> None:
    _, device, _ = make_user()
    assert device is not None
    client = Client()
    client.post("/clinic/sign-in/", {"username": "doc@example.org", "password": PASSWORD})
    response = client.post(
        "/clinic/verify/", {"otp_token": code_for(device).translate(ARABIC_INDIC)}
    )
    assert response.status_code == 400 and "_auth_user_id" not in client.session
    assert client.post("/clinic/verify/", {"otp_token": "²" * 6}).status_code == 400


def test_recovery_codes_are_not_regenerated_with_a_code_in_other_digits() -> None:
    user, device, _ = make_user()
    assert isinstance(device, Authenticator)
    client = signed_in(user)
    code = code_for(device).translate(ARABIC_INDIC)
    response = client.post("/clinic/account/", {"action": "recovery_codes", "otp_token": code})
    assert "That code is not right" in response.content.decode()
    for tampered in ("²" * 6, "1" * 5000):
        response = client.post(
            "/clinic/account/", {"action": "recovery_codes", "otp_token": tampered}
        )
        assert response.status_code == 400 and "That code is not right" in response.content.decode()


def test_a_code_used_once_is_refused_to_a_request_that_read_the_authenticator_before() -> None:
    """Two sign-ins with the same code at the same moment (someone who watched it typed): each
    request reads the authenticator, then checks the code. The second must see the first's use,
    not its own earlier read, or a code works twice within its 30 seconds."""
    _, device, _ = make_user()
    assert device is not None
    code = code_for(device)
    first, second = (Authenticator.objects.get(pk=device.pk) for _ in range(2))
    assert first.verify_token(code)
    assert not second.verify_token(code)


def test_a_wrong_code_throttles_a_request_that_read_the_authenticator_before() -> None:
    """Guesses sent in parallel each read the authenticator before any failure was counted:
    django-otp's wait after a wrong code must hold for all of them, not only for later reads."""
    _, device, _ = make_user()
    assert device is not None
    right = code_for(device)
    guess, other = (Authenticator.objects.get(pk=device.pk) for _ in range(2))
    assert not guess.verify_token(f"{(int(right) + 1) % 1_000_000:06d}")
    assert not other.verify_token(right)  # within the wait: refused, even the right code
    other.refresh_from_db()
    assert other.throttling_failure_count == 1
