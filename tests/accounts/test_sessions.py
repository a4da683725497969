"""Session limits (30 minutes idle, 12 hours at most) and sign-out everywhere. Time passes by
moving the session's own timestamps back; nothing sleeps."""

from __future__ import annotations

import pytest
from django.test import Client

from crossline.accounts.middleware import SEEN, STARTED
from crossline.audit.models import Event
from tests.accounts.helpers import code_for, last_seq, make_user, sign_in

pytestmark = pytest.mark.django_db


def signed_in(email: str = "doc@example.org") -> tuple[Client, object]:
    _, device, _ = make_user(email)
    client = Client()
    assert sign_in(client, email, device)["Location"] == "/clinic/"
    return client, device


def move_back(client: Client, key: str, seconds: float) -> None:
    session = client.session
    session[key] = session[key] - seconds
    session.save()


def test_thirty_minutes_idle_ends_the_session_with_a_message() -> None:
    client, _ = signed_in()
    move_back(client, SEEN, 29 * 60)
    assert client.get("/clinic/account/").status_code == 200  # still inside the limit
    move_back(client, SEEN, 31 * 60)
    before = last_seq()
    page = client.get("/clinic/account/", follow=True)
    assert page.redirect_chain[0][0] == "/clinic/sign-in/?next=%2Fclinic%2Faccount%2F"
    assert b"signed out after 30 minutes without activity" in page.content
    event = Event.objects.get(seq=before + 1)
    assert (event.action, event.actor, event.detail) == (
        "session.expired",
        "doc@example.org",
        {"reason": "idle"},
    )
    assert "_auth_user_id" not in client.session


def test_activity_keeps_the_session_but_not_past_twelve_hours() -> None:
    client, _ = signed_in()
    move_back(client, STARTED, 20 * 60)
    move_back(client, SEEN, 20 * 60)
    client.get("/clinic/account/")  # activity: the last-seen time moves forward
    assert client.session[SEEN] - client.session[STARTED] >= 20 * 60 - 1
    move_back(client, STARTED, 12 * 60 * 60 + 1)
    before = last_seq()
    page = client.get("/clinic/account/", follow=True)
    assert b"a session lasts at most 12 hours" in page.content
    assert Event.objects.get(seq=before + 1).detail == {"reason": "absolute"}


def test_sign_out_everywhere_ends_another_browsers_session() -> None:
    _, device, _ = make_user()
    laptop, phone = Client(), Client()
    sign_in(laptop, "doc@example.org", device)
    sign_in(phone, "doc@example.org", device)
    assert phone.get("/clinic/account/").status_code == 200
    before = last_seq()
    response = laptop.post("/clinic/account/sign-out-everywhere/")
    assert response["Location"] == "/clinic/sign-in/"
    assert [e.action for e in Event.objects.filter(seq__gt=before)] == ["signout.everywhere"]
    page = phone.get("/clinic/account/", follow=True)
    assert page.redirect_chain[0][0].startswith("/clinic/sign-in/")
    assert b"signed out on every device" in page.content
    assert laptop.get("/clinic/account/")["Location"].startswith("/clinic/sign-in/")
    # Signing in again works, on either.
    code_for(device)
    assert sign_in(phone, "doc@example.org", device)["Location"] == "/clinic/"
    assert phone.get("/clinic/account/").status_code == 200


def test_a_password_change_keeps_this_session_and_ends_the_others() -> None:
    _, device, _ = make_user()
    here, elsewhere = Client(), Client()
    sign_in(here, "doc@example.org", device)
    sign_in(elsewhere, "doc@example.org", device)
    response = here.post(
        "/clinic/account/",
        {
            "action": "password",
            "old_password": "correct horse battery staple",
            "new_password1": "a brand new long passphrase",
            "new_password2": "a brand new long passphrase",
        },
    )
    assert response["Location"] == "/clinic/account/"
    assert here.get("/clinic/account/").status_code == 200
    assert elsewhere.get("/clinic/account/")["Location"].startswith("/clinic/sign-in/")


def test_session_cookie_flags() -> None:
    _, device, _ = make_user()
    client = Client()
    sign_in(client, "doc@example.org", device)
    from django.conf import settings

    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
    assert settings.SESSION_COOKIE_SECURE is False  # http://testserver; True under https
