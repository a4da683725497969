"""The OpenAPI document and the docs page describe what the API really does."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any, get_args

import pytest
from django.conf import settings
from django.test import override_settings
from hypothesis import given
from hypothesis import settings as examples_of
from hypothesis import strategies as st

from crossline.api import examples, schemas
from crossline.engine import InvalidInput, Knowledge, parse_answers
from crossline.engine.check import ELIGIBILITIES, OUTCOMES
from crossline.engine.contract import MAX_MEDICATION_LENGTH
from crossline.knowledge import load
from tests.api.conftest import ApiClient
from tests.api.openapi_check import problems
from tests.api.test_flow import take_the_flow
from tests.engine.personas import PERSONAS

pytestmark = pytest.mark.django_db

SUBMIT, NEXT = "/api/v1/assessments", "/api/v1/flow/next"


@pytest.fixture
def document(api: ApiClient) -> dict[str, Any]:
    response = api.client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.json()


def operation(document: dict[str, Any], path: str) -> dict[str, Any]:
    return document["paths"][path]["post"]


def response_schema(document: dict[str, Any], path: str, status: int) -> dict[str, Any]:
    content = operation(document, path)["responses"][str(status)]["content"]
    return content["application/json"]["schema"]


def request_schema(document: dict[str, Any], path: str) -> dict[str, Any]:
    return operation(document, path)["requestBody"]["content"]["application/json"]["schema"]


def assert_documented(document: dict[str, Any], path: str, response: Any) -> None:
    schema = response_schema(document, path, response.status_code)
    assert problems(response.json(), schema, document) == []


def test_the_document_lists_both_operations_and_their_responses(document: dict[str, Any]) -> None:
    assert set(document["paths"]) == {SUBMIT, NEXT}
    assert set(operation(document, SUBMIT)["responses"]) == {
        "201",
        "409",
        "413",
        "415",
        "422",
        "429",
    }
    assert set(operation(document, NEXT)["responses"]) == {"200", "413", "415", "422"}
    assert list(document["paths"][SUBMIT]) == ["post"]  # POST only: answers never in a URL
    assert list(document["paths"][NEXT]) == ["post"]


def test_the_idempotency_key_header_is_documented(document: dict[str, Any]) -> None:
    (header,) = operation(document, SUBMIT)["parameters"]
    assert (header["name"], header["in"], header["required"]) == (
        "Idempotency-Key",
        "header",
        False,
    )


def test_the_request_schema_lists_every_contract_id(
    document: dict[str, Any], knowledge: Knowledge
) -> None:
    answers = document["components"]["schemas"]["Answers"]
    assert set(answers["properties"]) == set(knowledge.items)
    assert answers["additionalProperties"] is False
    assert answers["properties"]["phq9.9"] == {
        "type": "integer",
        "enum": [0, 1, 2, 3],
        "description": knowledge.items["phq9.9"].text["en"],
    }
    assert answers["properties"]["profile.age"]["minimum"] == 0
    assert answers["properties"]["profile.age"]["maximum"] == 120
    for path, name in ((SUBMIT, "AssessmentRequest"), (NEXT, "FlowRequest")):
        assert request_schema(document, path) == {"$ref": f"#/components/schemas/{name}"}


@examples_of(max_examples=300, deadline=None)
@given(
    st.text(
        st.characters(exclude_categories=["Cs"], include_characters=" \t\n\u00a0\u3000"),
        min_size=1,
        max_size=MAX_MEDICATION_LENGTH,
    )
)
def test_a_medicine_name_is_documented_valid_exactly_when_it_is_accepted(name: str) -> None:
    """A name of spaces alone is refused ("must be a non-empty medicine name"): the schema
    must not call it valid (a client validating against it would be surprised by the 422)."""
    k = load()
    schema = schemas.request_schemas(k)["Answers"]["properties"]["medications"]
    documented = problems([name], schema, {"components": {"schemas": {}}}) == []
    try:
        parse_answers(k, {"medications": [name]})
    except InvalidInput:
        accepted = False
    else:
        accepted = True
    assert documented == accepted, name


def test_the_documented_outcomes_are_the_engines() -> None:
    assert get_args(schemas.Eligibility) == ELIGIBILITIES
    assert get_args(schemas.Outcome) == OUTCOMES


@pytest.mark.parametrize("name", sorted(PERSONAS))
def test_every_persona_request_and_response_match_the_document(
    api: ApiClient, document: dict[str, Any], name: str
) -> None:
    body = {"answers": PERSONAS[name](), "language": "es"}
    assert problems(body, request_schema(document, SUBMIT), document) == []
    response = api.submit(body)
    assert response.status_code == 201
    assert_documented(document, SUBMIT, response)


@pytest.mark.parametrize("name", ["burned_out_not_depressed", "acute_risk", "out_of_area"])
def test_every_flow_response_matches_the_document(
    api: ApiClient, document: dict[str, Any], name: str
) -> None:
    for data in take_the_flow(api, PERSONAS[name]()):
        assert problems(data, response_schema(document, NEXT, 200), document) == []


def test_refusals_match_the_document(api: ApiClient, document: dict[str, Any]) -> None:
    assert_documented(document, SUBMIT, api.submit({"answers": {"phq9.1": 9}}))
    assert_documented(document, NEXT, api.next(b"[}"))
    assert_documented(document, SUBMIT, api.post(SUBMIT, b" " * 70_000))
    api.submit({"answers": {}}, key="k")
    assert_documented(document, SUBMIT, api.submit({"answers": {"phq9.1": 1}}, key="k"))
    with override_settings(CROSSLINE=replace(settings.CROSSLINE, rate_limit_per_minute=0)):
        assert_documented(document, SUBMIT, api.submit({"answers": {}}))


def example(document: dict[str, Any], path: str, status: int | None = None) -> Any:
    op = operation(document, path)
    spec = op["requestBody"] if status is None else op["responses"][str(status)]
    return spec["content"]["application/json"]["example"]


def test_the_examples_are_what_the_api_returns(api: ApiClient, document: dict[str, Any]) -> None:
    created = api.submit(example(document, SUBMIT))
    assert created.json()["decision"] == example(document, SUBMIT, 201)["decision"]
    assert api.next(example(document, NEXT)).json() == example(document, NEXT, 200)
    assert api.submit(examples.INVALID).json() == example(document, SUBMIT, 422)
    assert api.next(examples.INVALID).json() == example(document, NEXT, 422)
    assert api.post(SUBMIT, b" " * 70_000).json() == example(document, SUBMIT, 413)
    as_text = api.client.post(SUBMIT, b"{}", content_type="text/plain")
    assert as_text.json() == example(document, SUBMIT, 415)
    assert api.client.post(NEXT, b"{}", content_type="text/plain").json() == example(
        document, NEXT, 415
    )
    api.submit({"answers": {}}, key="k")
    assert api.submit({"answers": {"phq9.1": 1}}, key="k").json() == example(document, SUBMIT, 409)
    with override_settings(CROSSLINE=replace(settings.CROSSLINE, rate_limit_per_minute=0)):
        assert api.submit({"answers": {}}).json() == example(document, SUBMIT, 429)


def test_every_example_matches_its_schema(document: dict[str, Any]) -> None:
    for path in (SUBMIT, NEXT):
        op = operation(document, path)
        assert problems(example(document, path), request_schema(document, path), document) == []
        for status in op["responses"]:
            value = example(document, path, int(status))
            assert problems(value, response_schema(document, path, int(status)), document) == []


@pytest.fixture
def docs_page(api: ApiClient) -> Any:
    response = api.client.get("/api/v1/docs")
    assert response.status_code == 200
    return response


def test_the_docs_page_lists_each_operation_and_schema(
    docs_page: Any, document: dict[str, Any]
) -> None:
    html = docs_page.content.decode()
    assert "POST /api/v1/assessments" in html and "POST /api/v1/flow/next" in html
    for name in document["components"]["schemas"]:
        assert f'id="schema-{name}"' in html
    for status in ("201", "409", "413", "415", "422", "429"):
        assert f"<h4>{status} " in html
    assert "Idempotency-Key" in html
    assert "<code>phq9.9</code>" in html
    assert "&quot;eligibility&quot;: &quot;not_indicated&quot;" in html  # the worked example


def test_the_docs_page_loads_nothing_from_another_host(docs_page: Any) -> None:
    html = docs_page.content.decode()
    assert "<script" not in html
    tags = re.findall(r"<(?:link|script|img|iframe|source)\b[^>]*>", html)
    assert tags  # the stylesheet
    for tag in tags:
        assert not re.search(r"(?:src|href)=[\"']?(?:https?:)?//", tag), tag
    policy = docs_page["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "style-src 'self'" in policy


def test_ninjas_cdn_swagger_page_is_not_served(api: ApiClient) -> None:
    html = api.client.get("/api/v1/docs").content.decode()
    assert "swagger" not in html.lower()
