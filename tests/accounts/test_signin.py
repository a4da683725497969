"""Sign-in: password, then an authenticator (TOTP) or recovery code; a new session; `next`."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY

from crossline.audit.models import Event
from tests.accounts.helpers import (
    PASSWORD,
    actions,
    code_for,
    last_seq,
    make_user,
    sign_in,
    tokens_left,
    wrong_code,
)

pytestmark = pytest.mark.django_db


def test_password_and_totp_sign_in_reach_the_workspace_with_a_verified_session() -> None:
    user, device, _ = make_user()
    client = Client()
    before = last_seq()
    response = sign_in(client, "doc@example.org", device)
    assert response.status_code == 302
    assert response["Location"] == "/clinic/"
    assert client.session["_auth_user_id"] == str(user.pk)
    assert client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id
    page = client.get("/clinic/account/")
    assert page.status_code == 200
    assert b"doc@example.org" in page.content
    assert actions(since=before) == ["signin.succeeded"]
    event = Event.objects.get(seq=before + 1)
    assert event.actor == "doc@example.org" and event.actor_id == user.pk
    assert event.detail == {"method": "totp"}


def test_the_email_is_matched_whatever_its_case_and_spaces() -> None:
    _, device, _ = make_user()
    response = sign_in(Client(), "  Doc@Example.ORG ", device)
    assert response["Location"] == "/clinic/"


def test_sign_in_gives_a_new_session_key_and_the_old_one_is_dead() -> None:
    _, device, _ = make_user()
    client = Client()
    client.get("/clinic/sign-in/")
    client.session.save()  # an anonymous session, as a visitor's browser would already hold
    anonymous_key = client.session.session_key
    client.cookies[settings.SESSION_COOKIE_NAME] = anonymous_key
    response = client.post(
        "/clinic/sign-in/", {"username": "doc@example.org", "password": PASSWORD}
    )
    pending_key = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert response["Location"] == "/clinic/verify/"
    assert pending_key != anonymous_key
    client.post("/clinic/verify/", {"otp_token": code_for(device)})
    signed_in_key = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert signed_in_key not in (anonymous_key, pending_key)
    from django.contrib.sessions.models import Session

    assert not Session.objects.filter(session_key__in=[anonymous_key, pending_key]).exists()
    # Someone holding the pre-sign-in cookie (session fixation) is not signed in.
    fixated = Client()
    fixated.cookies[settings.SESSION_COOKIE_NAME] = anonymous_key
    assert fixated.get("/clinic/account/")["Location"].startswith("/clinic/sign-in/")


def test_a_wrong_password_is_refused_and_recorded_without_the_typed_text() -> None:
    make_user()
    client = Client()
    before = last_seq()
    response = client.post(
        "/clinic/sign-in/", {"username": "doc@example.org", "password": "not-my-password"}
    )
    assert response.status_code == 400
    assert b"do not match an account" in response.content
    assert "_auth_user_id" not in client.session
    event = Event.objects.get(seq=before + 1)
    assert event.action == "signin.failed" and event.actor == "doc@example.org"
    assert "not-my-password" not in str(event.detail)


def test_a_failed_sign_in_for_an_unknown_name_records_unknown_not_what_was_typed() -> None:
    make_user()
    before = last_seq()
    # People type their password into the email field: it must never reach the log.
    Client().post("/clinic/sign-in/", {"username": "hunter2-secret", "password": "x" * 12})
    event = Event.objects.get(seq=before + 1)
    assert event.action == "signin.failed"
    assert event.actor == "unknown" and event.actor_id is None
    assert "hunter2" not in str(Event.objects.filter(seq__gt=before).values())


def test_the_password_alone_does_not_sign_in() -> None:
    _, _device, _ = make_user()
    client = Client()
    client.post("/clinic/sign-in/", {"username": "doc@example.org", "password": PASSWORD})
    assert "_auth_user_id" not in client.session
    assert client.get("/clinic/account/")["Location"].startswith("/clinic/sign-in/")
    assert client.get("/admin/")["Location"].startswith("/clinic/sign-in/")


def test_a_wrong_code_is_refused_recorded_and_throttled() -> None:
    user, device, _ = make_user()
    client = Client()
    client.post("/clinic/sign-in/", {"username": "doc@example.org", "password": PASSWORD})
    before = last_seq()
    response = client.post("/clinic/verify/", {"otp_token": wrong_code(device)})
    assert response.status_code == 400
    assert b"not right" in response.content
    assert "_auth_user_id" not in client.session
    assert actions(since=before) == ["mfa.failed"]
    assert Event.objects.get(seq=before + 1).actor_id == user.pk
    # django-otp's throttling is on: right after a failure even the right code must wait.
    device.refresh_from_db()
    assert device.throttling_failure_count == 1
    right = code_for(device, fresh=False)
    response = client.post("/clinic/verify/", {"otp_token": right})
    assert response.status_code == 400 and b"Too many wrong codes" in response.content
    # The wait passes (the failure's time moved back), and the right code works.
    device.refresh_from_db()
    device.throttling_failure_timestamp -= __import__("datetime").timedelta(minutes=5)
    device.save()
    response = client.post("/clinic/verify/", {"otp_token": right})
    assert response["Location"] == "/clinic/"


def test_a_recovery_code_signs_in_once_only() -> None:
    user, _device, codes = make_user()
    client = Client()
    client.post("/clinic/sign-in/", {"username": "doc@example.org", "password": PASSWORD})
    before = last_seq()
    response = client.post("/clinic/verify/", {"otp_token": codes[0].upper()})
    assert response["Location"] == "/clinic/"
    assert actions(since=before) == ["mfa.recovery_code_used", "signin.succeeded"]
    assert Event.objects.get(seq=before + 1).detail == {"codes_left": 9}
    assert tokens_left(user) == 9
    again = Client()
    again.post("/clinic/sign-in/", {"username": "doc@example.org", "password": PASSWORD})
    response = again.post("/clinic/verify/", {"otp_token": codes[0]})
    assert response.status_code == 400
    assert "_auth_user_id" not in again.session


def test_the_second_step_without_the_first_goes_back_to_sign_in() -> None:
    response = Client().get("/clinic/verify/")
    assert response["Location"] == "/clinic/sign-in/"


def test_next_is_followed_only_to_a_local_path() -> None:
    _, device, _ = make_user(roles=("operator",))
    response = sign_in(Client(), "doc@example.org", device, next_url="/admin/")
    assert response["Location"] == "/admin/"
    for evil in ("https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:x"):
        response = sign_in(Client(), "doc@example.org", device, next_url=evil)
        assert response["Location"] == "/clinic/program/", evil  # an operator's home


def test_anonymous_clinic_and_admin_pages_go_to_sign_in() -> None:
    client = Client()
    for path in (
        "/clinic/",
        "/clinic/account/",
        "/clinic/anything/12/",
        "/admin/",
        "/admin/auth/user/",
    ):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith("/clinic/sign-in/?next="), path
    page = client.get("/admin/", follow=True)
    assert page.redirect_chain[-1][0].startswith("/clinic/sign-in/")
    assert b"<h1>Sign in</h1>" in page.content
    # The admin's own login page is ours too.
    assert (
        client.get("/admin/login/?next=/admin/")["Location"] == "/clinic/sign-in/?next=%2Fadmin%2F"
    )


def test_a_user_without_an_authenticator_is_sent_to_enrol_one() -> None:
    """While the enrolment link's 72 hours last (make_user's link is new); after them, see
    test_enrolment.py: the account needs a new link."""
    make_user(authenticator=False)
    client = Client()
    response = client.post(
        "/clinic/sign-in/", {"username": "doc@example.org", "password": PASSWORD}
    )
    assert response["Location"] == "/clinic/enrol/authenticator/"
    assert client.get("/clinic/verify/")["Location"] == "/clinic/enrol/authenticator/"
    assert "_auth_user_id" not in client.session


def test_an_inactive_account_cannot_sign_in() -> None:
    user, _device, _ = make_user()
    user.is_active = False
    user.save()
    response = Client().post(
        "/clinic/sign-in/", {"username": "doc@example.org", "password": PASSWORD}
    )
    assert response.status_code == 400


def test_sign_out_ends_the_session_and_is_recorded() -> None:
    _, device, _ = make_user()
    client = Client()
    sign_in(client, "doc@example.org", device)
    assert client.get("/clinic/sign-out/").status_code == 405  # a link cannot sign anyone out
    before = last_seq()
    response = client.post("/clinic/sign-out/")
    assert response["Location"] == "/clinic/sign-in/"
    assert actions(since=before) == ["signout"]
    assert client.get("/clinic/account/")["Location"].startswith("/clinic/sign-in/")


def test_application_logs_never_see_what_was_typed_at_sign_in(
    caplog: pytest.LogCaptureFixture,
) -> None:
    _, device, _ = make_user()
    client = Client()
    for _ in range(6):  # failures, then a lockout
        client.post("/clinic/sign-in/", {"username": "typed-secret-9f3", "password": "x" * 9})
    client.post("/clinic/sign-in/", {"username": "doc@example.org", "password": "typed-pw-7c1"})
    sign_in(Client(), "doc@example.org", device)
    assert "typed-secret-9f3" not in caplog.text
    assert "typed-pw-7c1" not in caplog.text
    assert "127.0.0.1" not in caplog.text  # a client address can identify a person
