"""Staff users with roles, signed in with a verified second factor (tests/staff.py), and a
clean policy cache."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from crossline.program import policy
from tests.staff import signed_in, staff_user


@pytest.fixture(autouse=True)
def _fresh_policy_cache() -> Iterator[None]:
    """The per-process cache must not carry one test's (rolled back) settings into the next."""
    policy.invalidate()
    yield
    policy.invalidate()


def make_user(username: str, *roles: str, email: str = "") -> User:
    return staff_user(username, *roles, email=email or f"{username}@clinic.test")


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


def cds_card(issuer: str, kind: str, indicator: str, days_ago: int = 0, overridden: int = 0) -> Any:
    """A CDS Hooks card given to `issuer` `days_ago`, reported overridden that many times (an
    EHR may report the same card more than once)."""
    import uuid
    from datetime import timedelta

    from django.utils import timezone

    from crossline.api.models import CdsCard, CdsFeedback

    now = timezone.now()
    card = CdsCard.objects.create(
        uuid=uuid.uuid4(),
        issuer=issuer,
        service="crossline-ketamine-order-sign",
        kind=kind,
        indicator=indicator,
        issued_at=now - timedelta(days=days_ago),
    )
    for _ in range(overridden):
        CdsFeedback.objects.create(card=card, outcome="overridden", outcome_at=now, received_at=now)
    return card
