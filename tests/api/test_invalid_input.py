"""Bad input: 422, every field at fault named, nothing stored — on both endpoints."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import RequestFactory
from hypothesis import given, settings
from hypothesis import strategies as st

from crossline.api.errors import MAX_DEPTH, _not_unicode, read_json
from crossline.engine import InvalidInput
from crossline.intake.models import Assessment
from tests.api.conftest import ApiClient
from tests.engine.personas import burned_out_not_depressed

pytestmark = pytest.mark.django_db

ENDPOINTS = ["/api/v1/assessments", "/api/v1/flow/next"]


def nested(depth: int) -> Any:
    """A list `depth` levels deep."""
    value: Any = "sertraline"
    for _ in range(depth):
        value = [value]
    return value


# (what is wrong, the body, the fields the errors must name)
CASES: list[tuple[str, Any, set[str]]] = [
    ("malformed JSON", b'{"answers": {"phq9.1": 1', {"$"}),
    ("empty body", b"", {"$"}),
    ("not UTF-8", b'{"answers": {"profile.state": "\xff"}}', {"$"}),
    ("NaN is not JSON", b'{"answers": {"phq9.1": NaN}}', {"$"}),
    ("a duplicated key", b'{"answers": {"phq9.1": 0, "phq9.1": 3}}', {"$"}),
    (
        "a lone surrogate in a medicine name",
        b'{"answers": {"medications": ["ok", "abc\\ud800"]}}',
        {"medications[1]"},
    ),
    ("a lone surrogate in an id", b'{"answers": {"phq9.\\udfff": 1}}', {"answers"}),
    (
        "a lone surrogate in upper case",
        b'{"answers": {"medications": ["\\uD83D"]}}',
        {"medications[0]"},
    ),
    (
        "a lone surrogate nested hundreds of levels deep",
        b'{"answers": {"medications": ' + b"[" * 500 + b'"\\ud800"' + b"]" * 500 + b"}}",
        {"$"},
    ),
    ("nested past the limit", {"answers": {"medications": nested(MAX_DEPTH)}}, {"$"}),
    ("body is a list", [{"answers": {}}], {"$"}),
    ("body is a string", "answers", {"$"}),
    ("answers missing", {"language": "en"}, {"answers"}),
    ("answers not an object", {"answers": [["phq9.1", 1]]}, {"answers"}),
    ("an unknown top-level field", {"answers": {}, "name": "Ann"}, {"name"}),
    ("an integer as a string", {"answers": {"profile.age": "34"}}, {"profile.age"}),
    ("a boolean for an integer", {"answers": {"phq9.1": True}}, {"phq9.1"}),
    ("a fraction", {"answers": {"phq9.1": 2.0}}, {"phq9.1"}),
    ("an unknown id", {"answers": {"phq9.10": 1}}, {"phq9.10"}),
    ("out of range", {"answers": {"phq9.9": 4}}, {"phq9.9"}),
    ("age above 120", {"answers": {"profile.age": 121}}, {"profile.age"}),
    ("not a US state", {"answers": {"profile.state": "ZZ"}}, {"profile.state"}),
    # Letters that only upper-case into a code: the "fl" ligature (FL), a dotless i (IA).
    ("a state as a ligature", {"answers": {"profile.state": "\ufb02"}}, {"profile.state"}),
    ("a state with a dotless i", {"answers": {"profile.state": "\u0131a"}}, {"profile.state"}),
    ("a choice not offered", {"answers": {"asq.1": "maybe"}}, {"asq.1"}),
    ("medications not a list", {"answers": {"medications": "sertraline"}}, {"medications"}),
    ("a blank medicine", {"answers": {"medications": ["ok", " "]}}, {"medications[1]"}),
    ("language fr", {"answers": burned_out_not_depressed(), "language": "fr"}, {"language"}),
    (
        "several problems at once",
        {"answers": {"phq9.1": 4, "phq9.10": 1, "profile.age": -1}, "language": "fr"},
        {"phq9.1", "phq9.10", "profile.age", "language"},
    ),
]


@pytest.mark.parametrize("path", ENDPOINTS)
@pytest.mark.parametrize(("case", "body", "fields"), CASES, ids=[c[0] for c in CASES])
def test_invalid_input_is_refused_naming_each_field_and_nothing_is_stored(
    api: ApiClient, path: str, case: str, body: Any, fields: set[str]
) -> None:
    response = api.post(path, body)
    assert response.status_code == 422, response.content
    errors = response.json()["errors"]
    assert {e["field"] for e in errors} == fields
    assert all(set(e) == {"field", "message"} and e["message"] for e in errors)
    assert Assessment.objects.count() == 0


def test_a_body_nested_to_the_limit_is_read_as_the_contract(api: ApiClient) -> None:
    """The body, its answers and MAX_DEPTH - 2 lists: the contract's own error, not "$"."""
    response = api.submit({"answers": {"medications": nested(MAX_DEPTH - 2)}})
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["medications[0]"]


@pytest.mark.parametrize("key", ["", "x" * 256, "clé", "two words"])
def test_a_malformed_idempotency_key_is_refused_with_the_body_problems(
    api: ApiClient, key: str
) -> None:
    response = api.client.post(
        "/api/v1/assessments",
        {"answers": {"phq9.1": 9}},
        content_type="application/json",
        headers={"Idempotency-Key": key},
    )
    assert response.status_code == 422
    assert {e["field"] for e in response.json()["errors"]} == {"Idempotency-Key", "phq9.1"}
    assert Assessment.objects.count() == 0


@pytest.mark.parametrize("path", ENDPOINTS)
def test_answers_never_travel_in_a_url(api: ApiClient, path: str) -> None:
    """POST only: a GET with answers in the query string is refused, and nothing is stored."""
    response = api.client.get(path, {"answers": '{"phq9.9": 2}'})
    assert response.status_code == 405
    assert Assessment.objects.count() == 0


def test_a_form_encoded_body_is_refused_as_not_json(api: ApiClient) -> None:
    response = api.client.post("/api/v1/assessments", {"answers": "x"})
    assert response.status_code == 415
    assert response.json()["errors"][0]["field"] == "Content-Type"


@pytest.mark.parametrize("path", ["/api/v1/assessments", "/api/v1/flow/next"])
@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", ""],
)
def test_a_json_body_not_sent_as_json_is_refused_and_nothing_kept(
    api: ApiClient, path: str, content_type: str
) -> None:
    # What another site's page could make a visitor's browser send without asking first.
    body = json.dumps({"answers": {"phq9.1": 0}, "language": "en"})
    response = api.client.generic("POST", path, body, content_type=content_type)
    assert response.status_code == 415
    assert response.json() == {
        "errors": [{"field": "Content-Type", "message": "send the body as application/json"}]
    }
    assert not Assessment.objects.exists()


def test_json_with_a_charset_is_json(api: ApiClient) -> None:
    body = json.dumps({"answers": {"phq9.1": 0}, "language": "en"})
    response = api.client.post(
        "/api/v1/assessments", body, content_type="application/json; charset=utf-8"
    )
    assert response.status_code == 201


@settings(max_examples=300, deadline=None)
@given(
    st.recursive(
        st.text(st.characters(categories=["L", "N", "P", "Zs", "Cs", "Cc"]), max_size=6)
        | st.integers(),
        lambda inner: (
            st.lists(inner, max_size=3)
            | st.dictionaries(st.text(st.characters(categories=["L", "Cs"]), max_size=3), inner)
        ),
        max_leaves=8,
    ),
    st.booleans(),
)
def test_the_lone_surrogate_shortcut_agrees_with_reading_every_string(
    value: Any, ascii_only: bool
) -> None:
    """`read_json` walks the body for lone surrogates only when its bytes hold a surrogate
    escape: over any JSON text, escaped or not, it refuses exactly what the full walk refuses."""
    text = json.dumps({"answers": value}, ensure_ascii=ascii_only)
    try:
        raw = text.encode("utf-8")
    except UnicodeEncodeError:
        return  # not UTF-8 bytes at all: refused earlier, as "not UTF-8"
    request = RequestFactory().post("/", raw, content_type="application/json")
    expected = _not_unicode(json.loads(raw), "$")
    try:
        read_json(request)
    except InvalidInput as exc:
        assert list(exc.errors) == expected
    else:
        assert expected == []
