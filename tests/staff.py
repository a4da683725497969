"""Staff users for tests: a user with roles, a confirmed TOTP device and a verified session.

A verified session is what `django_otp.login` leaves after a correct code: the confirmed
device's persistent id under django-otp's session key, so `OTPMiddleware` marks the user
verified on every request. (Tests of the real two-step sign-in live in tests/accounts.)
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group, User
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY

from crossline.accounts.models import Authenticator
from crossline.accounts.roles import Role

PASSWORD = "correct horse battery staple"


def staff_user(
    username: str,
    *roles: Role | str,
    email: str | None = None,
    password: str | None = PASSWORD,
    totp: bool = True,
    **fields: Any,
) -> User:
    """A user holding `roles` (Role or its name). `email` defaults to `username` when that is an
    address, else blank; `password=None` leaves it unusable; `totp` adds a confirmed device."""
    if email is None:
        email = username if "@" in username else ""
    user = User.objects.create_user(username, email, password, **fields)
    for role in roles:
        # get_or_create: a browser test's flush empties the groups the roles migration made
        user.groups.add(Group.objects.get_or_create(name=str(role))[0])
    if totp:
        totp_device(user)
    return user


def totp_device(user: User, name: str = "phone") -> Authenticator:
    """The user's confirmed authenticator (secret sealed, as enrolment makes it), created if
    they have none."""
    found = Authenticator.objects.filter(user=user, confirmed=True).first()
    return found or Authenticator.enrol(user, name, confirmed=True)


def signed_in(user: User, client: Client | None = None, *, verified: bool = True) -> Client:
    """`client` (a new one by default) signed in as `user`; `verified` also marks the second
    factor as passed this session (adding a confirmed TOTP device if the user has none)."""
    client = client or Client()
    client.force_login(user)
    if verified:
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = totp_device(user).persistent_id
        session.save()
    return client


def staff_client(
    username: str, *roles: Role | str, verified: bool = True, **fields: Any
) -> tuple[Client, User]:
    """A new user holding `roles` (see `staff_user`) and a client signed in as them."""
    user = staff_user(username, *roles, **fields)
    return signed_in(user, verified=verified), user


def session_key(user: User) -> str:
    """The session cookie's value of a verified session of `user`, for a browser to carry."""
    return signed_in(user).session.session_key or ""
