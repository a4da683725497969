"""Accounts for tests: made through the real services, signed in through the real views."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticToken

from crossline.accounts import services
from crossline.accounts.models import Authenticator
from crossline.audit.models import Event
from tests.staff import PASSWORD, totp_device


def make_user(
    email: str = "doc@example.org",
    roles: tuple[str, ...] = ("physician",),
    password: str | None = PASSWORD,
    authenticator: bool = True,
) -> tuple[Any, Authenticator | None, list[str]]:
    """A user as `crossline createuser` makes them, then (optionally) enrolled: a password, a
    confirmed authenticator and ten recovery codes."""
    user, _token = services.create_user(email, list(roles))
    device = None
    codes: list[str] = []
    if password is not None:
        user.set_password(password)
        user.save()
    if authenticator:
        device = totp_device(user, name="test")
        codes = services.new_recovery_codes(user)
    return get_user_model().objects.get(pk=user.pk), device, codes


def code_for(device: Authenticator, fresh: bool = True) -> str:
    """The code the authenticator app shows now (django-otp's own TOTP). A code is accepted
    once per 30-second step; `fresh` forgets the last step used, as if the next step came."""
    device.refresh_from_db()
    if fresh:
        device.last_t = -1
        device.throttle_reset(commit=False)
        device.save()
    value = totp(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{value:0{device.digits}d}"


def wrong_code(device: Authenticator) -> str:
    right = code_for(device, fresh=False)
    return f"{(int(right) + 500_000) % 1_000_000:06d}"


def sign_in(
    client: Client, email: str, device: Authenticator, password: str = PASSWORD, next_url: str = ""
) -> Any:
    """Password, then the authenticator code; returns the second step's response."""
    data = {"username": email, "password": password}
    if next_url:
        data["next"] = next_url
    response = client.post("/clinic/sign-in/", data)
    assert response.status_code == 302, response.content[:500]
    assert response["Location"] == "/clinic/verify/"
    return client.post("/clinic/verify/", {"otp_token": code_for(device)})


def actions(*, since: int = 0) -> list[str]:
    return list(
        Event.objects.filter(seq__gt=since).order_by("seq").values_list("action", flat=True)
    )


def last_seq() -> int:
    return int(Event.objects.order_by("-seq").values_list("seq", flat=True).first() or 0)


def tokens_left(user: Any) -> int:
    return int(StaticToken.objects.filter(device__user=user).count())
