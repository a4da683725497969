"""`json_bytes`, the JSON text crossline encrypts and sends: orjson where it can, the standard
library where orjson would differ (docs/decisions/0012)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crossline.crypto import json_bytes

# What the contract and the engine put in JSON: strings (any Unicode, control characters too),
# whole numbers, finite floats, booleans, null, lists and string-keyed objects.
_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(), inner, max_size=5),
    max_leaves=30,
)


@settings(max_examples=500)
@given(VALUES)
def test_any_json_value_reads_back_as_the_standard_library_would_read_its_own(value: Any) -> None:
    assert json.loads(json_bytes(value)) == json.loads(json.dumps(value))


@pytest.mark.parametrize(
    "value",
    [
        {1: "a", None: "b"},  # keys that are not strings: the standard library makes them strings
        {"n": 2**70},  # beyond 64 bits
        [-(2**64)],
        {"medicine": "\ud800"},  # a lone surrogate: JSON text may escape one, UTF-8 cannot hold it
    ],
)
def test_what_orjson_refuses_is_encoded_by_the_standard_library(value: Any) -> None:
    assert json_bytes(value) == json.dumps(value, separators=(",", ":")).encode()


@dataclass
class _Point:
    x: int


@pytest.mark.parametrize("value", [{"at": datetime(2026, 11, 29, tzinfo=UTC)}, [_Point(1)], {1, 2}])
def test_what_the_standard_library_refuses_is_still_refused(value: Any) -> None:
    with pytest.raises(TypeError):
        json_bytes(value)


def test_the_text_is_compact_utf8() -> None:
    assert json_bytes({"a": [1, "é —"]}) == '{"a":[1,"é —"]}'.encode()
