"""Request limits: oversized bodies (413) and too many submissions from one client (429)."""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import replace
from typing import Any

import pytest
from django.conf import settings
from django.db import DatabaseError, connection
from django.test import RequestFactory, override_settings
from django.test.utils import CaptureQueriesContext

from crossline.api import assessments, ratelimit
from crossline.api.assessments import TOO_MANY
from crossline.api.models import RateCounter
from crossline.audit import log as audit_log
from crossline.audit.models import Event
from crossline.intake.models import Assessment
from crossline.program.policy import current_knowledge
from crossline.web import MAX_BODY_BYTES
from tests.api.conftest import ApiClient
from tests.engine.personas import burned_out_not_depressed

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("one_rate_window")]

BODY = {"answers": burned_out_not_depressed()}


def limited_to(n: int) -> override_settings:
    return override_settings(CROSSLINE=replace(settings.CROSSLINE, rate_limit_per_minute=n))


@pytest.mark.parametrize("path", ["/api/v1/assessments", "/api/v1/flow/next"])
def test_a_body_over_64_kb_is_refused_with_413_and_nothing_stored(
    api: ApiClient, path: str
) -> None:
    padding = "x" * 190
    body = {"answers": {"medications": [padding] * 400}}  # about 78 KB
    raw = json.dumps(body).encode()
    assert len(raw) > MAX_BODY_BYTES
    response = api.post(path, raw)
    assert response.status_code == 413
    assert response.json() == {
        "errors": [{"field": "$", "message": f"body larger than {MAX_BODY_BYTES} bytes"}]
    }
    assert Assessment.objects.count() == 0


def test_a_body_just_under_the_limit_is_read(api: ApiClient) -> None:
    raw = json.dumps(BODY).encode()
    raw = raw[:-1] + b" " * (MAX_BODY_BYTES - len(raw)) + b"}"
    assert len(raw) == MAX_BODY_BYTES
    assert api.post("/api/v1/assessments", raw).status_code == 201


def test_submissions_over_the_limit_get_429_with_retry_after(api: ApiClient) -> None:
    with limited_to(3):
        statuses = [api.submit(BODY).status_code for _ in range(3)]
        refused = api.submit(BODY)
    assert statuses == [201, 201, 201]
    assert refused.status_code == 429
    assert refused.json() == {"errors": [{"field": "$", "message": TOO_MANY}]}
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert Assessment.objects.count() == 3


def test_once_refused_a_client_is_refused_again_without_touching_the_database(
    api: ApiClient,
) -> None:
    with limited_to(1):
        assert api.submit(BODY).status_code == 201
        assert api.submit(BODY).status_code == 429  # counted in the database, rolled back
        with CaptureQueriesContext(connection) as queries:
            again = api.submit(BODY, key="flood-1")
        assert again.status_code == 429 and 1 <= int(again["Retry-After"]) <= 60
        assert again.json() == {"errors": [{"field": "$", "message": TOO_MANY}]}
        assert queries.captured_queries == []  # no evaluation, no transaction, no write lock
        assert ApiClient(remote_addr="203.0.113.7").submit(BODY).status_code == 201
    with limited_to(5):  # a higher limit in force: the remembered refusal no longer applies
        assert api.submit(BODY).status_code == 201
    assert Assessment.objects.count() == 3
    assert RateCounter.objects.filter(hits=2).count() == 1  # this client: two stored counts


def test_a_remembered_refusal_lasts_only_its_window() -> None:
    request = RequestFactory().post("/", REMOTE_ADDR="192.0.2.1")
    t = 1_800_000_000.0  # a window boundary
    assert ratelimit.refused_already(request, "test", limit=1, now=t) is None
    ratelimit.hit(request, "test", limit=1, now=t)
    assert ratelimit.refused_already(request, "test", limit=1, now=t) is None  # never refused
    assert not ratelimit.hit(request, "test", limit=1, now=t + 1).allowed
    remembered = ratelimit.refused_already(request, "test", limit=1, now=t + 30)
    assert remembered is not None and not remembered.allowed and remembered.retry_after == 30
    assert ratelimit.refused_already(request, "other", limit=1, now=t + 30) is None
    assert ratelimit.refused_already(request, "test", limit=1, now=t + 60) is None


def test_invalid_submissions_count_toward_the_limit(api: ApiClient) -> None:
    with limited_to(2):
        api.submit({"answers": {"phq9.1": 9}})
        api.submit(b"not json")
        assert api.submit(BODY).status_code == 429


def test_idempotent_retries_count_too_but_never_create_a_second_assessment(
    api: ApiClient,
) -> None:
    with limited_to(2):
        first = api.submit(BODY, key="retry-1")
        assert api.submit(BODY, key="retry-1").json()["id"] == first.json()["id"]
        assert api.submit(BODY, key="retry-1").status_code == 429
    assert Assessment.objects.count() == 1


def test_the_limit_is_per_client(api: ApiClient) -> None:
    with limited_to(1):
        assert api.submit(BODY).status_code == 201
        assert api.submit(BODY).status_code == 429
        assert ApiClient(remote_addr="203.0.113.7").submit(BODY).status_code == 201


def test_the_flow_endpoint_is_not_limited_by_submissions(api: ApiClient) -> None:
    with limited_to(1):
        api.submit(BODY)
        assert api.submit(BODY).status_code == 429
        assert api.next(BODY).status_code == 200


def test_counters_live_in_a_shared_table_without_the_address(api: ApiClient) -> None:
    """A table every worker process shares: one row per client and scope, no raw IP in it."""
    ApiClient(remote_addr="198.51.100.23").submit(BODY)
    ApiClient(remote_addr="198.51.100.23").submit(BODY)
    (counter,) = RateCounter.objects.all()
    assert counter.bucket == f"submit:{client_key('198.51.100.23')}:{counter.minute}"
    assert counter.hits == 2
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {RateCounter._meta.db_table}")
        rows = cursor.fetchall()
    assert all("198.51.100.23" not in str(col) for row in rows for col in row)


def test_a_submission_is_counted_in_the_transaction_that_stores_it(api: ApiClient) -> None:
    """One transaction: the assessment (its Idempotency-Key on its own row), its audit event,
    then the count — last, so a busy client's counter row is locked only to the commit."""
    current_knowledge()  # the program settings are read once per process, outside any write
    with CaptureQueriesContext(connection) as queries:
        assert api.submit(BODY, key="one-transaction").status_code == 201
    statements = [q["sql"].split(" (")[0].split(" WHERE")[0] for q in queries.captured_queries]
    # Inside the test's own transaction, atomic() is a savepoint; in a server it is BEGIN/COMMIT.
    # The audit append reads the chain's head (and, on PostgreSQL, takes its advisory lock).
    assert statements[0].startswith("SAVEPOINT") and statements[-1].startswith("RELEASE")
    writes = [s.split(" ")[2] for s in statements if s.startswith("INSERT")]
    assert writes == [
        '"intake_assessment"',
        '"audit_event"',
        '"api_ratecounter"',
    ]
    reads = [s for s in statements[1:-1] if not s.startswith("INSERT")]
    assert all(s.startswith("SELECT") for s in reads) and len(reads) <= 2


@pytest.mark.parametrize("step", ["the assessment", "the audit event", "the count"])
@pytest.mark.parametrize("key", [None, "k1"])
def test_a_submission_that_fails_at_any_step_leaves_no_count_row_or_event(
    monkeypatch: pytest.MonkeyPatch, step: str, key: str | None
) -> None:
    def fail(*args: object, **kwargs: object) -> None:
        raise DatabaseError("disk full")

    target = {
        "the assessment": (assessments._ASSESSMENT, "run"),
        "the audit event": (audit_log.Pending, "write"),
        "the count": (ratelimit, "_count"),
    }[step]
    monkeypatch.setattr(*target, fail)
    events = Event.objects.count()
    with pytest.raises(DatabaseError):
        ApiClient().submit(BODY, key=key)
    assert not RateCounter.objects.exists()
    assert not Assessment.objects.exists()
    assert Event.objects.count() == events


def test_a_refused_submission_stores_nothing_and_does_not_raise_the_count(
    api: ApiClient,
) -> None:
    with limited_to(2):
        assert [api.submit(BODY, key=f"k{i}").status_code for i in range(4)] == [
            201,
            201,
            429,
            429,
        ]
    assert Assessment.objects.filter(idempotency_key__isnull=False).count() == 2
    assert Assessment.objects.count() == 2
    assert RateCounter.objects.get().hits == 2  # each refusal's count rolled back with it


def test_a_new_window_starts_at_one_and_old_counters_are_forgotten(
    django_capture_on_commit_callbacks: Any,
) -> None:
    request = RequestFactory().post("/", REMOTE_ADDR="192.0.2.1")
    t = 1_800_000_000.0  # a window boundary
    minute = int(t // 60)
    RateCounter.objects.create(bucket="submit:stale", minute=minute - 2, hits=5)
    RateCounter.objects.create(bucket="submit:previous", minute=minute - 1, hits=5)
    ratelimit.hit(request, "test", limit=2, now=t - 1)
    ratelimit.hit(request, "test", limit=2, now=t - 1)
    with django_capture_on_commit_callbacks(execute=True):
        verdict = ratelimit.hit(request, "test", limit=2, now=t)
    assert verdict.allowed and verdict.count == 1
    client = client_key("192.0.2.1")
    assert sorted(RateCounter.objects.values_list("bucket", "minute", "hits")) == [
        ("submit:previous", minute - 1, 5),  # the previous window is kept (clocks differ)
        (f"test:{client}:{minute - 1}", minute - 1, 2),
        (f"test:{client}:{minute}", minute, 1),
    ]


def test_a_scope_too_long_for_its_bucket_is_refused() -> None:
    request = RequestFactory().post("/", REMOTE_ADDR="192.0.2.1")
    with pytest.raises(ValueError):
        ratelimit.hit(request, "s" * (ratelimit.MAX_SCOPE_LENGTH + 1))


def _skip_on_sqlite() -> None:
    if connection.vendor == "sqlite":
        pytest.skip(
            "SQLite's in-memory test database (shared cache) fails concurrent writers with"
            " 'table is locked' instead of queueing them; the race runs on PostgreSQL"
        )


@pytest.mark.django_db(transaction=True)
def test_concurrent_submissions_are_counted_exactly_across_connections() -> None:
    """Twelve requests at once, each on its own database connection (as worker processes
    are), with a limit of five: exactly five stored, seven refused, the count at five."""
    _skip_on_sqlite()
    n, limit = 12, 5
    start = threading.Barrier(n)
    statuses: list[int] = []

    def submit(i: int) -> None:
        try:
            start.wait()
            statuses.append(ApiClient().submit(BODY, key=f"race-{i}").status_code)
        finally:
            connection.close()

    with limited_to(limit):
        threads = [threading.Thread(target=submit, args=(i,)) for i in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert sorted(statuses) == [201] * limit + [429] * (n - limit)
    assert Assessment.objects.filter(idempotency_key__isnull=False).count() == limit
    assert Assessment.objects.count() == limit
    assert RateCounter.objects.get().hits == limit


def test_a_window_resets_after_a_minute() -> None:
    request = RequestFactory().post("/", REMOTE_ADDR="192.0.2.1")
    t = 1_800_000_000.0  # a window boundary
    verdicts = [ratelimit.hit(request, "test", limit=2, now=t + s) for s in (0, 10, 59)]
    assert [v.allowed for v in verdicts] == [True, True, False]
    assert verdicts[2].retry_after == 1
    assert verdicts[0].retry_after == 60
    assert ratelimit.hit(request, "test", limit=2, now=t + 60).allowed


def test_scopes_are_counted_separately() -> None:
    request = RequestFactory().post("/", REMOTE_ADDR="192.0.2.1")
    assert ratelimit.hit(request, "a", limit=1, now=0).allowed
    assert ratelimit.hit(request, "b", limit=1, now=0).allowed
    assert not ratelimit.hit(request, "a", limit=1, now=0).allowed


def client_key(address: str) -> str:
    return ratelimit.client_key(RequestFactory().get("/", REMOTE_ADDR=address))


def test_an_ipv6_client_is_counted_by_its_64_prefix() -> None:
    assert client_key("2001:db8:1:2::1") == client_key("2001:db8:1:2:ffff::9")
    assert client_key("2001:db8:1:2::1") != client_key("2001:db8:1:3::1")
    assert client_key("::ffff:192.0.2.1") == client_key("192.0.2.1")
    assert client_key("192.0.2.1") != client_key("192.0.2.2")


def test_the_client_key_is_keyed_not_a_plain_hash_of_the_address() -> None:
    key = client_key("192.0.2.1")
    assert "192.0.2.1" not in key
    assert key not in hashlib.sha256(b"192.0.2.1").hexdigest()
