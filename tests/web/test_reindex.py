"""Changing the index key: `reindex_contacts` recomputes every contact request's blind indexes,
so a person's earlier screens are found again under the new key."""

from __future__ import annotations

import io
import os
from dataclasses import replace
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from crossline.intake.contact import earlier_screens
from crossline.intake.models import ContactRequest
from tests.web.test_crypto import records

pytestmark = pytest.mark.django_db

I1, I2 = os.urandom(32), os.urandom(32)


def use_index_key(settings: Any, key: bytes) -> None:
    settings.CROSSLINE = replace(settings.CROSSLINE, index_key=key)


def reindex(*args: str) -> str:
    out = io.StringIO()
    call_command("reindex_contacts", *args, stdout=out)
    return out.getvalue()


def add_contact() -> ContactRequest:
    """A contact request with both an e-mail and a phone, indexed as the intake stores it."""
    from crossline.intake.contact import contact_index

    made = records()["contact"]
    made.contact = {"name": "Ana", "email": "Ana.Ruiz@example.org", "phone": "2015550100"}
    made.email_index = contact_index("email", made.contact["email"])
    made.phone_index = contact_index("phone", made.contact["phone"])
    made.save()
    return made


def test_after_a_new_index_key_earlier_screens_are_found_again(settings: Any) -> None:
    use_index_key(settings, I1)
    made = add_contact()
    assert list(earlier_screens(email="ana.ruiz@example.org")) == [made.assessment]
    use_index_key(settings, I2)
    assert not earlier_screens(email="ana.ruiz@example.org").exists()  # stale under I2
    assert "would re-index 1, 0 already current" in reindex("--dry-run")
    assert not earlier_screens(phone="(201) 555-0100").exists()  # a dry run changes nothing
    assert "re-indexed 1, 0 already current" in reindex("--batch-size", "1")
    assert list(earlier_screens(email="ana.ruiz@example.org")) == [made.assessment]
    assert list(earlier_screens(phone="(201) 555-0100")) == [made.assessment]
    assert "re-indexed 0, 1 already current" in reindex()  # done: a rerun writes nothing


def test_a_contact_that_cannot_be_decrypted_stops_the_command_naming_where(
    settings: Any,
) -> None:
    from crossline.intake.fields import cipher

    use_index_key(settings, I1)
    add_contact()
    use_index_key(settings, I2)
    settings.CROSSLINE = replace(
        settings.CROSSLINE, encryption_keys={"k9": os.urandom(32)}, active_key_id="k9"
    )
    cipher.cache_clear()
    try:
        with pytest.raises(CommandError, match="cannot be decrypted"):
            reindex()
    finally:
        cipher.cache_clear()


def test_a_bad_batch_size_is_refused() -> None:
    with pytest.raises(CommandError, match="--batch-size"):
        reindex("--batch-size", "0")
