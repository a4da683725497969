"""django-axes: 5 failures (passwords or codes) per account and address lock sign-in for 15
minutes; the lock lifts when the cool-off has passed (time moved in the database, no sleeping)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.db.models import F
from django.test import Client

from crossline.audit.models import Event
from tests.accounts.helpers import PASSWORD, code_for, last_seq, make_user, sign_in, wrong_code

pytestmark = pytest.mark.django_db


def wrong_password(client: Client, email: str = "doc@example.org") -> object:
    return client.post("/clinic/sign-in/", {"username": email, "password": "wrong password!"})


def cool_off_passes(minutes: int = 16) -> None:
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - timedelta(minutes=minutes))


def test_five_wrong_passwords_lock_the_account_until_the_cool_off_passes() -> None:
    _, device, _ = make_user()
    client = Client()
    before = last_seq()
    for _ in range(4):
        assert wrong_password(client).status_code == 400
    locked = wrong_password(client)
    assert locked.status_code == 429
    assert b"Sign-in is locked for now" in locked.content
    assert b"15 minutes" in locked.content
    assert Event.objects.filter(seq__gt=before, action="signin.locked_out").exists()
    assert Event.objects.filter(seq__gt=before, action="signin.failed").count() == 5
    # Even the right password is refused while locked.
    response = client.post(
        "/clinic/sign-in/", {"username": "doc@example.org", "password": PASSWORD}
    )
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    # Another account from the same address is not locked (username + address).
    _, other_device, _ = make_user("other@example.org")
    assert sign_in(Client(), "other@example.org", other_device)["Location"] == "/clinic/"
    cool_off_passes()
    assert sign_in(client, "doc@example.org", device)["Location"] == "/clinic/"
    # A full sign-in clears the count.
    assert not AccessAttempt.objects.filter(username="doc@example.org").exists()


def test_wrong_codes_count_with_wrong_passwords() -> None:
    _, device, _ = make_user()
    client = Client()
    for _ in range(3):
        wrong_password(client)
    client.post("/clinic/sign-in/", {"username": "doc@example.org", "password": PASSWORD})
    before = last_seq()
    assert client.post("/clinic/verify/", {"otp_token": wrong_code(device)}).status_code == 400
    code_for(device)  # the throttle's wait passes
    locked = client.post("/clinic/verify/", {"otp_token": wrong_code(device)})
    assert locked.status_code == 429
    assert b"Sign-in is locked for now" in locked.content
    assert list(Event.objects.filter(seq__gt=before).values_list("action", flat=True)) == [
        "mfa.failed",
        "mfa.failed",
        "signin.locked_out",
    ]
    # The half-done sign-in is gone: no code is checked any more.
    assert client.post("/clinic/verify/", {"otp_token": code_for(device)})["Location"] == (
        "/clinic/sign-in/"
    )
    assert (
        client.post(
            "/clinic/sign-in/", {"username": "doc@example.org", "password": PASSWORD}
        ).status_code
        == 429
    )


def test_a_locked_account_cannot_use_a_pending_second_step() -> None:
    """Lock the account from another browser while this one waits at the second step."""
    _, device, _ = make_user()
    waiting = Client()
    waiting.post("/clinic/sign-in/", {"username": "doc@example.org", "password": PASSWORD})
    attacker = Client()
    for _ in range(5):
        wrong_password(attacker)
    response = waiting.post("/clinic/verify/", {"otp_token": code_for(device)})
    assert response.status_code == 429
    assert "_auth_user_id" not in waiting.session


def test_wrong_current_passwords_on_the_account_page_lock_and_sign_out() -> None:
    """A signed-in session left unattended is no place to guess the current password without
    limit: each wrong one counts with the sign-in failures."""
    _, device, _ = make_user()
    client = Client()
    sign_in(client, "doc@example.org", device)
    guess = {
        "action": "password",
        "old_password": "a guess that is wrong",
        "new_password1": "a brand new long passphrase",
        "new_password2": "a brand new long passphrase",
    }
    before = last_seq()
    for _ in range(4):
        assert client.post("/clinic/account/", guess).status_code == 400
    locked = client.post("/clinic/account/", guess)
    assert locked.status_code == 429
    assert "_auth_user_id" not in client.session
    failed = Event.objects.filter(seq__gt=before, action="signin.failed")
    assert failed.count() == 5 and failed.first().detail["step"] == "password_change"
    refused = client.post("/clinic/sign-in/", {"username": "doc@example.org", "password": PASSWORD})
    assert refused.status_code == 429
