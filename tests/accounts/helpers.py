"""Accounts for tests: made through the real services, signed in through the real views."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.contrib.auth import get_user_model
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from crossline.accounts import services
from crossline.audit.models import Event

PASSWORD = "correct horse battery staple"


def make_user(
    email: str = "doc@example.org",
    roles: tuple[str, ...] = ("physician",),
    password: str | None = PASSWORD,
    authenticator: bool = True,
) -> tuple[Any, TOTPDevice | None, list[str]]:
    """A user as `crossline createuser` makes them, then (optionally) enrolled: a password, a
    confirmed authenticator and ten recovery codes."""
    user, _token = services.create_user(email, list(roles))
    device = None
    codes: list[str] = []
    if password is not None:
        user.set_password(password)
        user.save()
    if authenticator:
        device = TOTPDevice.objects.create(user=user, name="test", confirmed=True)
        codes = services.new_recovery_codes(user)
    return get_user_model().objects.get(pk=user.pk), device, codes


def code_for(device: TOTPDevice, fresh: bool = True) -> str:
    """The code the authenticator app shows now (django-otp's own TOTP). A code is accepted
    once per 30-second step; `fresh` forgets the last step used, as if the next step came."""
    device.refresh_from_db()
    if fresh:
        device.last_t = -1
        device.throttle_reset(commit=False)
        device.save()
    value = totp(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{value:0{device.digits}d}"


def wrong_code(device: TOTPDevice) -> str:
    right = code_for(device, fresh=False)
    return f"{(int(right) + 500_000) % 1_000_000:06d}"


def sign_in(
    client: Client, email: str, device: TOTPDevice, password: str = PASSWORD, next_url: str = ""
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


@contextmanager
def flush_can_empty_the_audit_log() -> Iterator[None]:
    """Transaction tests (the browser tests) end with Django's flush, which the audit log's
    append-only triggers refuse (SQLite: DELETE, PostgreSQL: TRUNCATE). For tests only, the
    flush lifts the trigger for its own statement and restores it in the same transaction; the
    role groups the flush empties are made again (post_migrate, as Django does content types)."""
    from django.contrib.auth.models import Group

    # Through each backend's base module: importing an operations module first is circular.
    from django.db.backends.postgresql.base import DatabaseOperations as PgOps
    from django.db.backends.sqlite3.base import DatabaseOperations as SqliteOps
    from django.db.models.signals import post_migrate

    from crossline.accounts.roles import Role

    if getattr(SqliteOps.sql_flush, "lets_audit_go", False):  # already in place: nothing to do
        yield
        return
    migration = importlib.import_module("crossline.audit.migrations.0001_initial")
    sqlite_trigger = next(s for s in migration.APPEND_ONLY_SQLITE if "no_delete" in s).replace(
        "CREATE TRIGGER ", "CREATE TRIGGER IF NOT EXISTS ", 1
    )
    originals = {PgOps: PgOps.sql_flush, SqliteOps: SqliteOps.sql_flush}

    def wrap(ops: Any, before: str, after: str) -> Any:
        original = originals[ops]

        def sql_flush(self: Any, style: Any, tables: Any, **options: Any) -> list[str]:
            sql: list[str] = original(self, style, tables, **options)
            return [before, *sql, after] if "audit_event" in tables else sql

        sql_flush.lets_audit_go = True  # type: ignore[attr-defined]
        return sql_flush

    def roles_again(sender: Any, **kwargs: Any) -> None:
        if getattr(sender, "label", "") == "accounts":
            for role in Role:
                Group.objects.get_or_create(name=role.value)

    PgOps.sql_flush = wrap(  # type: ignore[method-assign]
        PgOps,
        "ALTER TABLE audit_event DISABLE TRIGGER audit_event_append_only;",
        "ALTER TABLE audit_event ENABLE TRIGGER audit_event_append_only;",
    )
    SqliteOps.sql_flush = wrap(  # type: ignore[method-assign]
        SqliteOps, "DROP TRIGGER IF EXISTS audit_event_no_delete;", sqlite_trigger
    )
    post_migrate.connect(roles_again, dispatch_uid="accounts-tests-roles")
    try:
        yield
    finally:
        post_migrate.disconnect(dispatch_uid="accounts-tests-roles")
        for ops, original in originals.items():
            ops.sql_flush = original  # type: ignore[method-assign]
