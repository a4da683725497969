"""Staff users with roles, signed in with a verified second factor (a confirmed TOTP device
recorded in the session exactly as django_otp's `login()` does), and a clean policy cache."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from crossline.program import policy

PASSWORD = "a long enough passphrase for tests"


@pytest.fixture(autouse=True)
def _fresh_policy_cache() -> Iterator[None]:
    """The per-process cache must not carry one test's (rolled back) settings into the next."""
    policy.invalidate()
    yield
    policy.invalidate()


def make_user(username: str, *roles: str, email: str = "") -> User:
    user = User.objects.create_user(username, email or f"{username}@clinic.test", PASSWORD)
    for role in roles:
        user.groups.add(Group.objects.get_or_create(name=role)[0])
    return user


def signed_in(user: User, *, verified: bool = True) -> Client:
    """A client signed in as `user`; with `verified`, its TOTP device verified this session."""
    client = Client()
    client.force_login(user)
    if verified:
        device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
    return client


@pytest.fixture
def user_factory() -> Callable[..., User]:
    return make_user


@pytest.fixture
def operator() -> User:
    return make_user("olive.operator", "operator")


@pytest.fixture
def operator_client(operator: User) -> Client:
    return signed_in(operator)


@pytest.fixture
def client_as() -> Callable[..., Client]:
    """`client_as(*roles, verified=True)`: a new user holding `roles`, signed in."""
    count = 0

    def _as(*roles: str, verified: bool = True, **kwargs: Any) -> Client:
        nonlocal count
        count += 1
        return signed_in(make_user(f"staff{count}", *roles, **kwargs), verified=verified)

    return _as
