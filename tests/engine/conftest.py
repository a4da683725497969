from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pytest

from crossline.engine import Knowledge, assess
from crossline.knowledge import load

Decide = Callable[..., dict[str, Any]]


@pytest.fixture(scope="session")
def knowledge() -> Knowledge:
    return load()


@pytest.fixture(scope="session")
def decide(knowledge: Knowledge) -> Decide:
    """`decide(answers, language="en", knowledge=None)` → the decision's contract JSON."""

    def _decide(
        answers: Mapping[str, Any], language: str = "en", knowledge_: Knowledge | None = None
    ) -> dict[str, Any]:
        body = {"answers": dict(answers), "language": language}
        return assess(knowledge_ or knowledge, body).to_dict()

    return _decide
