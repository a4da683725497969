"""Request limits: oversized bodies (413) and too many submissions from one client (429)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace

import pytest
from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.db import DatabaseCache
from django.db import connection
from django.test import RequestFactory, override_settings

from crossline.api import ratelimit
from crossline.api.assessments import TOO_MANY
from crossline.intake.models import Assessment
from crossline.web import MAX_BODY_BYTES
from tests.api.conftest import ApiClient
from tests.engine.personas import burned_out_not_depressed

pytestmark = pytest.mark.django_db

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


def test_counters_live_in_the_shared_database_cache_without_the_address(
    api: ApiClient,
) -> None:
    """The real DatabaseCache (what every worker process shares), and no raw IP in it."""
    assert isinstance(caches["default"], DatabaseCache)
    ApiClient(remote_addr="198.51.100.23").submit(BODY)
    table = settings.CACHES["default"]["LOCATION"]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT cache_key, value FROM {table}")
        rows = cursor.fetchall()
    keys = [key for key, _ in rows if "ratelimit:" in key]
    assert len(keys) == 1
    assert all("198.51.100.23" not in str(col) for row in rows for col in row)


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
