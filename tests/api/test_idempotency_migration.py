"""The migration that moved an Idempotency-Key from its own table onto its assessment's row
(intake 0003): a retry sent across the upgrade still gets its original answer."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from crossline.api import idempotency
from crossline.crypto import token_hash
from crossline.intake.models import Assessment
from tests import migrating
from tests.api.conftest import ApiClient
from tests.engine.personas import depressed_adult_in_florida

BEFORE = [("intake", "0002_aggregate_counts")]
LATEST = [("intake", "0003_idempotency_key_on_the_assessment")]
BODY = {"answers": depressed_adult_in_florida(), "language": "en"}


def migrate(target: list[tuple[str, str]]) -> Any:
    return migrating.migrate("intake", target)


@pytest.mark.django_db(transaction=True)
def test_a_key_recorded_before_the_upgrade_still_replays_after_it_and_can_go_back() -> None:
    key, token = f"before-{uuid.uuid4()}", "a-private-link-token"
    old = migrate(BEFORE)
    screen = old.get_model("intake", "Assessment").objects.create(
        token_hash=token_hash(token), language="en", answers={}, status="submitted"
    )
    old.get_model("intake", "IdempotencyRecord").objects.create(
        key_hash=idempotency.key_hash(key),
        body_hash=idempotency.body_hash(BODY),
        assessment_id=screen.pk,
        token=token,  # encrypted under the record's column
    )
    try:
        migrate(LATEST)
        moved = Assessment.objects.get(pk=screen.pk)
        assert moved.idempotency_key == idempotency.key_hash(key)
        assert moved.idempotency_token == token  # decrypted, encrypted again under its new column
        again = ApiClient().submit(BODY, key=key)
        assert again.status_code == 201 and again["Idempotent-Replayed"] == "true"
        assert again.json()["id"] == str(moved.public_id)
        assert again.json()["result_url"].endswith(f"/r/{token}/")

        old = migrate(BEFORE)  # backwards: the key returns to a record of its own
        (record,) = old.get_model("intake", "IdempotencyRecord").objects.all()
        assert (record.assessment_id, record.token) == (screen.pk, token)
    finally:
        migrate(LATEST)
