"""Enrolment from the one-time link: a password (NIST rules), an authenticator confirmed with a
real code, ten recovery codes shown once, signed in. Links expire after 72 hours, work once,
and are stored only as a hash."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from crossline.accounts import services
from crossline.accounts.models import Authenticator, EnrolmentToken, hash_token
from crossline.audit.models import Event
from tests.accounts.helpers import PASSWORD, code_for, last_seq, make_user, sign_in, tokens_left

pytestmark = pytest.mark.django_db

GOOD = "a long and memorable passphrase"


def set_password(client: Client, token: str, password: str = GOOD, again: str | None = None):  # type: ignore[no-untyped-def]
    return client.post(
        f"/clinic/enrol/{token}/",
        {"new_password1": password, "new_password2": password if again is None else again},
    )


def test_full_enrolment_then_a_later_sign_in() -> None:
    user, token = services.create_user("New.Doc@Example.org", ["intake", "physician"])
    assert user.username == "new.doc@example.org"
    assert not user.has_usable_password()
    assert EnrolmentToken.objects.get(user=user).token_hash == hash_token(token)
    assert not EnrolmentToken.objects.filter(token_hash=token).exists()  # never in clear
    client = Client()
    page = client.get(f"/clinic/enrol/{token}/")
    assert page.status_code == 200 and b"new.doc@example.org" in page.content
    before = last_seq()
    response = set_password(client, token)
    assert response["Location"] == "/clinic/enrol/authenticator/"
    assert "_auth_user_id" not in client.session  # not signed in before the second factor
    page = client.get("/clinic/enrol/authenticator/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "<svg" in html and "<path" in html  # the server-drawn QR code
    assert "<script" not in html and "style=" not in html  # CSP: no inline script or style
    device = Authenticator.objects.get(user=user, confirmed=False)
    assert services.manual_secret(device) in html
    wrong = client.post("/clinic/enrol/authenticator/", {"otp_token": "000000"})
    assert wrong.status_code == 400
    done = client.post("/clinic/enrol/authenticator/", {"otp_token": code_for(device)})
    assert done.status_code == 200
    codes = re.findall(r"<li><code>([a-z2-7]+)</code></li>", done.content.decode())
    assert len(codes) == 10 and len(set(codes)) == 10
    assert tokens_left(user) == 10
    assert client.get("/clinic/account/").status_code == 200  # signed in
    assert list(Event.objects.filter(seq__gt=before).values_list("action", flat=True)) == [
        "mfa.failed",
        "mfa.enrolled",
        "enrolment.completed",
        "signin.succeeded",
    ]
    device.refresh_from_db()
    assert device.confirmed
    # Later: sign in with the password and a code from the same app.
    client.post("/clinic/sign-out/")
    assert sign_in(Client(), "new.doc@example.org", device, password=GOOD)["Location"] == (
        "/clinic/"
    )


def test_the_link_works_once() -> None:
    _, token = services.create_user("once@example.org", ["intake"])
    assert set_password(Client(), token).status_code == 302
    for client in (Client(), Client()):
        assert client.get(f"/clinic/enrol/{token}/").status_code == 410
        assert set_password(client, token, "another long passphrase").status_code == 410


def test_the_link_expires_after_72_hours() -> None:
    user, token = services.create_user("late@example.org", ["intake"])
    link = EnrolmentToken.objects.get(user=user)
    assert link.expires_at - link.created_at == timedelta(hours=72)
    now = timezone.now()
    link.created_at = now - timedelta(hours=71)  # 71 hours have passed: still good
    link.expires_at = link.created_at + timedelta(hours=72)
    link.save()
    assert Client().get(f"/clinic/enrol/{token}/").status_code == 200
    link.created_at = now - timedelta(hours=72, seconds=1)  # 72 hours and a second
    link.expires_at = link.created_at + timedelta(hours=72)
    link.save()
    page = Client().get(f"/clinic/enrol/{token}/")
    assert page.status_code == 410
    assert b"more than 72 hours old" in page.content


def test_an_unknown_link_is_refused() -> None:
    assert Client().get("/clinic/enrol/not-a-real-token/").status_code == 410


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("seven77", "too short"),
        ("password123", "too common"),
        ("x" * 257, "too long"),
    ],
)
def test_password_policy_refuses(password: str, message: str) -> None:
    user, token = services.create_user("policy@example.org", ["intake"])
    response = set_password(Client(), token, password)
    assert response.status_code == 400
    assert message in response.content.decode()
    user.refresh_from_db()
    assert not user.has_usable_password()
    assert EnrolmentToken.objects.get(user=user).used_at is None  # nothing used up


@pytest.mark.parametrize("password", ["eight888", "y" * 64, "a very long passphrase " * 11])
def test_password_policy_accepts_long_passphrases_without_composition_rules(
    password: str,
) -> None:
    assert len(password) <= 256
    user, token = services.create_user("long@example.org", ["intake"])
    assert set_password(Client(), token, password).status_code == 302
    user.refresh_from_db()
    assert user.check_password(password)


def test_the_two_passwords_must_match() -> None:
    _, token = services.create_user("match@example.org", ["intake"])
    response = set_password(Client(), token, GOOD, again=GOOD + "!")
    assert response.status_code == 400


def test_reissue_resets_the_account_and_kills_the_old_link() -> None:
    user, old = services.create_user("reset@example.org", ["physician"])
    client = Client()
    set_password(client, old)
    device = services.pending_totp(user)
    client.post("/clinic/enrol/authenticator/", {"otp_token": code_for(device)})
    assert client.get("/clinic/account/").status_code == 200
    _, new = services.reissue_enrolment("reset@example.org")
    assert client.get("/clinic/account/")["Location"].startswith("/clinic/sign-in/")
    user.refresh_from_db()
    assert not user.has_usable_password()
    assert not TOTPDevice.objects.filter(user=user).exists() and tokens_left(user) == 0
    assert Client().get(f"/clinic/enrol/{old}/").status_code == 410
    assert Client().get(f"/clinic/enrol/{new}/").status_code == 200


def test_recovery_codes_are_regenerated_after_a_fresh_code() -> None:
    user, device, codes = make_user()
    client = Client()
    sign_in(client, "doc@example.org", device)
    wrong = client.post("/clinic/account/", {"action": "recovery_codes", "otp_token": "123456"})
    assert wrong.status_code == 400
    before = last_seq()
    page = client.post(
        "/clinic/account/", {"action": "recovery_codes", "otp_token": code_for(device)}
    )
    assert page.status_code == 200
    new = re.findall(r"<li><code>([a-z2-7]+)</code></li>", page.content.decode())
    assert len(new) == 10 and not set(new) & set(codes)
    assert Event.objects.get(seq=before + 1).action == "mfa.recovery_codes_regenerated"
    assert tokens_left(user) == 10


def _age_link(user, hours: float) -> None:  # type: ignore[no-untyped-def]
    """The user's newest link as if issued `hours` ago."""
    link = EnrolmentToken.objects.filter(user=user).latest("created_at")
    link.created_at = timezone.now() - timedelta(hours=hours)
    link.expires_at = link.created_at + timedelta(hours=72)
    link.save()


def test_set_up_left_after_the_password_may_be_finished_at_a_later_sign_in_within_72_hours() -> (
    None
):
    user, token = services.create_user("later@example.org", ["intake"])
    set_password(Client(), token)  # then the tab was closed before the authenticator
    _age_link(user, 71)
    client = Client()
    response = client.post("/clinic/sign-in/", {"username": "later@example.org", "password": GOOD})
    assert response["Location"] == "/clinic/enrol/authenticator/"
    assert client.get("/clinic/enrol/authenticator/").status_code == 200
    device = Authenticator.objects.get(user=user, confirmed=False)
    done = client.post("/clinic/enrol/authenticator/", {"otp_token": code_for(device)})
    assert done.status_code == 200 and client.get("/clinic/account/").status_code == 200


def test_set_up_left_after_the_password_cannot_be_finished_once_the_link_is_72_hours_old() -> None:
    """A password alone must not let whoever learns it, any time later, add their own
    authenticator to an account no second factor protected yet: the account needs a new link."""
    user, token = services.create_user("abandoned@example.org", ["physician"])
    first = Client()
    set_password(first, token)
    first.get("/clinic/enrol/authenticator/")  # the secret was shown once, never confirmed
    _age_link(user, 72 + 1 / 3600)
    client = Client()
    before = last_seq()
    response = client.post(
        "/clinic/sign-in/", {"username": "abandoned@example.org", "password": GOOD}
    )
    assert response.status_code == 400
    assert "no authenticator app was added within 72 hours" in response.content.decode()
    assert "--reissue" in response.content.decode()
    assert services.PENDING not in client.session and "_auth_user_id" not in client.session
    event = Event.objects.get(seq=before + 1)
    assert (event.action, event.actor_id) == ("signin.failed", user.pk)
    assert event.detail == {"step": "enrolment_expired", "locked": False}
    # Neither the new session nor the one that chose the password reaches the set-up page.
    for c in (client, first):
        page = c.get("/clinic/enrol/authenticator/")
        assert page.status_code == 302 and page["Location"] == "/clinic/sign-in/"
        assert c.get("/clinic/verify/")["Location"] == "/clinic/sign-in/"
    assert not Authenticator.objects.filter(user=user, confirmed=True).exists()
    # A new link starts it over, and works.
    _, new = services.reissue_enrolment("abandoned@example.org")
    again = Client()
    set_password(again, new)
    again.get("/clinic/enrol/authenticator/")
    device = Authenticator.objects.get(user=user, confirmed=False)
    done = again.post("/clinic/enrol/authenticator/", {"otp_token": code_for(device)})
    assert done.status_code == 200


def test_a_reset_ends_a_sign_in_that_had_passed_the_password_step() -> None:
    """A reset (--reissue) is how an operator answers a password someone else knows. Whoever
    typed that password minutes before — and was waiting at the second step — must not carry on
    to the set-up page the reset opens and add their own authenticator."""
    user, _device, _ = make_user()
    intruder = Client()
    response = intruder.post(
        "/clinic/sign-in/", {"username": "doc@example.org", "password": PASSWORD}
    )
    assert response["Location"] == "/clinic/verify/"
    services.reissue_enrolment("doc@example.org")
    for path in ("/clinic/verify/", "/clinic/enrol/authenticator/"):
        page = intruder.get(path)
        assert page.status_code == 302 and page["Location"] == "/clinic/sign-in/", path
    assert not Authenticator.objects.filter(user=user).exists()
    assert services.PENDING not in intruder.session


def test_signing_out_everywhere_also_ends_a_sign_in_waiting_at_the_second_step() -> None:
    _, device, _ = make_user()
    waiting = Client()
    waiting.post("/clinic/sign-in/", {"username": "doc@example.org", "password": PASSWORD})
    me = Client()
    sign_in(me, "doc@example.org", device)
    me.post("/clinic/account/sign-out-everywhere/")
    response = waiting.post("/clinic/verify/", {"otp_token": code_for(device)})
    assert response["Location"] == "/clinic/sign-in/"
    assert "_auth_user_id" not in waiting.session
