"""After the index key changes, recovery codes (kept only as digests under it) stop working and
cannot be re-digested; the user is told so on every staff page until they make new ones, and
`reindex_contacts` says how many people that is. The migration records the key of codes made
before it."""

from __future__ import annotations

import io
import os
from dataclasses import replace
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client

from crossline.accounts.context import STALE_CODES
from crossline.accounts.models import RecoveryCodes, RecoveryKeyCheck, key_check
from tests.accounts.helpers import code_for, make_user, sign_in
from tests.accounts.test_sealed_factor import AFTER, LATEST, migrate
from tests.staff import PASSWORD

pytestmark = pytest.mark.django_db


def new_index_key(monkeypatch: pytest.MonkeyPatch) -> None:
    changed = replace(settings.CROSSLINE, index_key=os.urandom(32))
    monkeypatch.setattr(settings, "CROSSLINE", changed)


def test_codes_record_their_key_and_are_current_until_it_changes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    user, _, _ = make_user("keys@example.org")
    check = RecoveryKeyCheck.objects.get(device__user=user)
    assert check.value == key_check() and not RecoveryCodes.stale(user)
    new_index_key(monkeypatch)
    assert RecoveryCodes.stale(user)
    assert RecoveryCodes.holders_of_stale_codes() == 1


def test_after_a_key_change_the_user_is_told_and_new_codes_work(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    user, device, codes = make_user("told@example.org")
    assert device is not None
    client = Client()
    assert sign_in(client, "told@example.org", device).status_code == 302
    assert STALE_CODES not in client.get("/clinic/account/").content.decode()

    new_index_key(monkeypatch)
    # Every staff page says so, and the account page counts no working codes.
    assert STALE_CODES in client.get("/clinic/").content.decode()
    account = client.get("/clinic/account/").content.decode()
    assert STALE_CODES in account and "none that work" in account
    # (An old code is refused at sign-in like any wrong code: nothing says why to a stranger.)
    other = Client()
    other.post("/clinic/sign-in/", {"username": "told@example.org", "password": PASSWORD})
    assert other.post("/clinic/verify/", {"otp_token": codes[0]}).status_code == 400

    made = client.post(
        "/clinic/account/", {"action": "recovery_codes", "otp_token": code_for(device)}
    )
    assert made.status_code == 200
    assert not RecoveryCodes.stale(user)
    assert STALE_CODES not in client.get("/clinic/").content.decode()
    fresh = made.context["codes"]
    again = Client()
    again.post("/clinic/sign-in/", {"username": "told@example.org", "password": PASSWORD})
    assert again.post("/clinic/verify/", {"otp_token": fresh[0]}).status_code == 302


def test_reindex_contacts_says_how_many_must_make_new_codes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    make_user("one@example.org")
    make_user("two@example.org")
    out = io.StringIO()
    call_command("reindex_contacts", stdout=out)
    assert "recovery codes" not in out.getvalue()
    new_index_key(monkeypatch)
    out = io.StringIO()
    call_command("reindex_contacts", "--dry-run", stdout=out)
    assert "recovery codes: 2 staff member(s) hold codes made under an earlier index key" in (
        out.getvalue()
    )


@pytest.mark.django_db(transaction=True)
def test_the_migration_records_the_current_key_for_codes_made_before_it() -> None:
    old: Any = migrate(AFTER)
    User = old.get_model("auth", "User")
    user = User.objects.create(username="before@example.org")
    device = old.get_model("otp_static", "StaticDevice").objects.create(
        user=user, name="Recovery codes", confirmed=True
    )
    try:
        migrate(LATEST)
        assert RecoveryKeyCheck.objects.get(device_id=device.pk).value == key_check()
        assert not RecoveryCodes.stale(get_user_model().objects.get(pk=user.pk))
    finally:
        migrate(LATEST)
