"""Fixtures for the JSON API tests: a client that speaks JSON, and the knowledge base."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from crossline.engine import Knowledge
from crossline.knowledge import load


class ApiClient:
    """Django's test client, posting JSON to /api/v1 the way an integrator would."""

    def __init__(self, remote_addr: str = "127.0.0.1") -> None:
        self.client = Client(REMOTE_ADDR=remote_addr)

    def submit(self, body: Any, key: str | None = None) -> Any:
        return self.post("/api/v1/assessments", body, key)

    def next(self, body: Any) -> Any:
        return self.post("/api/v1/flow/next", body)

    def post(self, path: str, body: Any, key: str | None = None) -> Any:
        data = body if isinstance(body, bytes) else json.dumps(body)
        headers = {} if key is None else {"Idempotency-Key": key}
        return self.client.post(path, data, content_type="application/json", headers=headers)


@pytest.fixture
def api() -> ApiClient:
    return ApiClient()


@pytest.fixture(scope="session")
def knowledge() -> Knowledge:
    return load()
