"""Staff users for tests: a user with roles, a confirmed TOTP device and a verified session."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group, User
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice


def staff_user(email: str, *roles: str, password: str = "correct horse battery staple") -> User:
    user = User.objects.create_user(username=email, email=email, password=password)
    for role in roles:
        user.groups.add(Group.objects.get(name=role))
    TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    return user


def signed_in(client: Client, user: User, verified: bool = True) -> Client:
    """Sign the client in as `user`; `verified` also marks the second factor as done."""
    client.force_login(user)
    if verified:
        session = client.session
        device = TOTPDevice.objects.get(user=user)
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
    return client


def staff_client(email: str, *roles: str, **kwargs: Any) -> tuple[Client, User]:
    user = staff_user(email, *roles)
    return signed_in(Client(**kwargs), user), user
