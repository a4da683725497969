"""Idempotency-Key: a retried submission returns the original assessment, never a second one."""

from __future__ import annotations

import hashlib
import threading
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from crossline.api import idempotency
from crossline.crypto import token_hash
from crossline.intake.models import Assessment, new_token
from tests.api.conftest import ApiClient
from tests.engine.personas import burned_out_not_depressed, depressed_adult_in_florida

pytestmark = pytest.mark.django_db

BODY = {"answers": depressed_adult_in_florida(), "language": "en"}


def test_the_same_key_and_body_return_the_original_response(api: ApiClient) -> None:
    key = str(uuid.uuid4())
    first = api.submit(BODY, key=key)
    again = api.submit(BODY, key=key)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()  # same id, same decision, same result_url
    assert again["Idempotent-Replayed"] == "true"
    assert Assessment.objects.count() == 1


def test_key_order_and_spacing_of_the_body_do_not_matter(api: ApiClient) -> None:
    key = str(uuid.uuid4())
    first = api.submit(BODY, key=key).json()
    reordered = {"language": "en", "answers": dict(reversed(list(BODY["answers"].items())))}
    again = api.post("/api/v1/assessments", reordered, key=key)
    assert again.status_code == 201
    assert again.json()["id"] == first["id"]


def test_the_replayed_link_still_opens_the_result(api: ApiClient) -> None:
    key = str(uuid.uuid4())
    api.submit(BODY, key=key)
    url = api.submit(BODY, key=key).json()["result_url"]
    assert api.client.get(url.removeprefix("http://testserver")).status_code == 200


def test_the_same_key_with_a_different_body_is_a_conflict(api: ApiClient) -> None:
    key = str(uuid.uuid4())
    api.submit(BODY, key=key)
    other = {"answers": burned_out_not_depressed(), "language": "en"}
    response = api.submit(other, key=key)
    assert response.status_code == 409
    assert response.json() == {
        "errors": [{"field": "Idempotency-Key", "message": idempotency.CONFLICT}]
    }
    assert Assessment.objects.count() == 1


def test_a_different_language_is_a_different_body(api: ApiClient) -> None:
    key = str(uuid.uuid4())
    api.submit(BODY, key=key)
    assert api.submit({**BODY, "language": "es"}, key=key).status_code == 409


def test_only_hashes_of_the_key_are_stored_and_the_token_is_encrypted(api: ApiClient) -> None:
    key = "order-7f3a2c"
    url = api.submit(BODY, key=key).json()["result_url"]
    token = url.removeprefix("http://testserver/r/").removesuffix("/")
    keyed = Assessment.objects.get()
    assert keyed.idempotency_key == hashlib.sha256(key.encode()).hexdigest()
    assert keyed.idempotency_body == idempotency.body_hash(BODY)
    assert keyed.idempotency_token == token
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT idempotency_key, idempotency_body, idempotency_token FROM intake_assessment"
        )
        row = cursor.fetchone()
    raw = b"|".join(c.encode() if isinstance(c, str) else bytes(c) for c in row)
    assert key.encode() not in raw and token.encode() not in raw


def test_after_24_hours_the_key_starts_a_new_assessment(api: ApiClient) -> None:
    key = str(uuid.uuid4())
    first = api.submit(BODY, key=key).json()
    Assessment.objects.update(created_at=timezone.now() - timedelta(hours=24, seconds=1))
    again = api.submit(BODY, key=key)
    assert again.status_code == 201
    assert again.json()["id"] != first["id"]
    assert "Idempotent-Replayed" not in again
    assert Assessment.objects.count() == 2
    keyed = Assessment.objects.get(idempotency_key__isnull=False)  # the key moved to the new one
    assert str(keyed.public_id) == again.json()["id"]
    assert Assessment.objects.get(public_id=first["id"]).idempotency_token is None


def test_after_24_hours_a_different_body_is_no_conflict(api: ApiClient) -> None:
    key = str(uuid.uuid4())
    api.submit(BODY, key=key)
    Assessment.objects.update(created_at=timezone.now() - timedelta(hours=25))
    assert api.submit({"answers": burned_out_not_depressed()}, key=key).status_code == 201


def test_just_under_24_hours_the_original_is_still_returned(api: ApiClient) -> None:
    key = str(uuid.uuid4())
    first = api.submit(BODY, key=key).json()
    Assessment.objects.update(created_at=timezone.now() - timedelta(hours=23, minutes=59))
    assert api.submit(BODY, key=key).json()["id"] == first["id"]


def test_an_invalid_body_with_a_used_key_is_refused_as_invalid_not_replayed(
    api: ApiClient,
) -> None:
    key = str(uuid.uuid4())
    api.submit(BODY, key=key)
    response = api.submit({"answers": {"phq9.1": 7}}, key=key)
    assert response.status_code == 422


def _skip_on_sqlite() -> None:
    if connection.vendor == "sqlite":
        pytest.skip(
            "SQLite's in-memory test database (shared cache) fails concurrent writers with"
            " 'table is locked' instead of queueing them; the race runs on PostgreSQL"
        )


@pytest.mark.django_db(transaction=True)
def test_identical_requests_racing_create_one_assessment() -> None:
    _skip_on_sqlite()
    key, n = str(uuid.uuid4()), 8
    start = threading.Barrier(n)
    results: list[Any] = []

    def submit() -> None:
        try:
            start.wait()
            response = ApiClient().submit(BODY, key=key)
            results.append((response.status_code, response.json()))
        finally:
            connection.close()  # each thread has its own connection

    threads = [threading.Thread(target=submit) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [status for status, _ in results] == [201] * n
    assert len({data["id"] for _, data in results}) == 1
    assert len({data["result_url"] for _, data in results}) == 1
    assert Assessment.objects.count() == 1
    assert Assessment.objects.filter(idempotency_key=idempotency.key_hash(key)).count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_request_that_loses_the_race_returns_the_winners_assessment() -> None:
    """Deterministic: another request with the key commits while this one is mid-transaction."""
    _skip_on_sqlite()
    key, digest = str(uuid.uuid4()), idempotency.body_hash(BODY)
    hashed = idempotency.key_hash(key)
    winner: list[idempotency.Submitted] = []

    def create_while_another_request_commits() -> tuple[Assessment, str]:
        def other_request() -> None:
            try:
                winner.append(idempotency.submit_once(hashed, digest, _keyed(key, digest)))
            finally:
                connection.close()

        thread = threading.Thread(target=other_request)
        thread.start()
        thread.join()
        return _keyed(key, digest)()

    loser = idempotency.submit_once(hashed, digest, create_while_another_request_commits)
    assert loser.replayed
    assert loser.assessment.pk == winner[0].assessment.pk
    assert loser.token == winner[0].token
    assert Assessment.objects.count() == 1  # the loser's own assessment was rolled back


def _keyed(key: str, digest: str) -> Callable[[], tuple[Assessment, str]]:
    """A `create` for `submit_once`: a new screen carrying the key, saved in one INSERT."""

    def create() -> tuple[Assessment, str]:
        token = new_token()
        made = Assessment(token_hash=token_hash(token), language="en", answers={})
        idempotency.mark(made, key, digest, token)
        made.save(force_insert=True)
        return made, token

    return create


def test_the_worker_clears_keys_past_their_24_hours_and_keeps_the_assessments(
    api: ApiClient,
) -> None:
    """A key keeps the private link's token (encrypted) for retries only: once no retry may ask
    for it, the hourly job clears it; the assessment and its result page stay."""
    from crossline.care import periodic  # noqa: F401 — registers the jobs
    from crossline.care.schedule import _JOBS, run_due

    now = timezone.now()
    made = [api.submit(BODY, key=f"expiry-{i}").json() for i in range(3)]
    ids = [m["id"] for m in made]
    old = Assessment.objects.filter(public_id__in=ids[:2])
    old.update(created_at=now - timedelta(hours=24, seconds=1))
    assert _JOBS["api.expire_keys"].interval() == timedelta(minutes=60)
    assert "api.expire_keys" in run_due(now)
    keyed = Assessment.objects.filter(idempotency_key__isnull=False)
    assert list(keyed.values_list("public_id", flat=True)) == [uuid.UUID(ids[2])]
    cleared = Assessment.objects.filter(public_id__in=ids[:2])
    assert [(a.idempotency_body, a.idempotency_token) for a in cleared] == [("", None)] * 2
    assert Assessment.objects.count() == 3
    assert idempotency.expire(now) == 0  # nothing left to clear
    # The key is free again: a retry after 24 hours is a new submission (as before).
    again = api.submit(BODY, key="expiry-0")
    assert again.status_code == 201 and again.json()["id"] != ids[0]
    Assessment.objects.update(created_at=now - timedelta(days=2))  # two keys
    assert idempotency.expire(now, batch_size=1) == 2 and not keyed.exists()
    result = made[0]["result_url"].removeprefix("http://testserver")
    assert api.client.get(result).status_code == 200  # the private link still opens
