"""The API's docs page, rendered on the server from the OpenAPI document itself.

No scripts and nothing from another host (ninja's Swagger UI loads both from a CDN). Everything
on the page — operations, their shapes, the examples — comes from `api.get_openapi_schema()`,
so the page cannot say something the API does not do.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.html import escape, format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_GET
from ninja import NinjaAPI

REF_PREFIX = "#/components/schemas/"


@dataclass
class Row:
    name: str
    type: SafeString
    required: bool
    description: str


@dataclass
class SchemaDoc:
    name: str
    description: str
    rows: list[Row]


@dataclass
class Body:
    schema: SafeString
    example: str | None


@dataclass
class Response:
    status: str
    description: str
    body: Body | None


@dataclass
class Operation:
    method: str
    path: str
    summary: str
    description: SafeString
    parameters: list[Row] = field(default_factory=list)
    request: Body | None = None
    responses: list[Response] = field(default_factory=list)


@require_GET
def page(request: HttpRequest, api: NinjaAPI) -> HttpResponse:
    schema = api.get_openapi_schema()
    context = {
        "info": schema["info"],
        "description": prose(schema["info"].get("description", "")),
        "openapi_url": reverse(f"{api.urls_namespace}:openapi-json"),
        "operations": operations(schema),
        "schemas": [
            SchemaDoc(name, definition.get("description", ""), rows(definition))
            for name, definition in schema["components"]["schemas"].items()
        ],
    }
    return render(request, "api/docs.html", context)


def operations(schema: dict[str, Any]) -> list[Operation]:
    out = []
    for path, methods in schema["paths"].items():
        for method, op in methods.items():
            out.append(
                Operation(
                    method=method.upper(),
                    path=path,
                    summary=op.get("summary", ""),
                    description=prose(op.get("description", "")),
                    parameters=[_parameter(p) for p in op.get("parameters", [])],
                    request=_body(op.get("requestBody")),
                    responses=[
                        Response(str(status), r.get("description", ""), _body(r))
                        for status, r in op["responses"].items()
                    ],
                )
            )
    return out


def rows(schema: dict[str, Any]) -> list[Row]:
    required = set(schema.get("required", ()))
    return [
        Row(name, type_html(prop), name in required, prop.get("description", ""))
        for name, prop in schema.get("properties", {}).items()
    ]


def type_html(schema: dict[str, Any]) -> SafeString:
    """A schema as a short phrase: "list of <Reason>", "integer 0–3", "one of en, es"."""
    if "$ref" in schema:
        name = schema["$ref"].removeprefix(REF_PREFIX)
        return format_html('<a href="#schema-{}">{}</a>', name, name)
    if "anyOf" in schema:
        return mark_safe(" or ".join(type_html(s) for s in schema["anyOf"]))
    if "enum" in schema:
        return _one_of(schema["enum"])
    if "const" in schema:
        return _one_of([schema["const"]])
    kind = schema.get("type", "any")
    if kind == "array":
        return format_html("list of {}", type_html(schema.get("items", {})))
    if kind == "object" and isinstance(schema.get("additionalProperties"), dict):
        return format_html("object of {}", type_html(schema["additionalProperties"]))
    if "minimum" in schema and "maximum" in schema:
        return format_html("{} {}–{}", kind, schema["minimum"], schema["maximum"])
    if "maxLength" in schema:
        return format_html("{} (at most {} characters)", kind, schema["maxLength"])
    return format_html("{}", kind)


def prose(text: str) -> SafeString:
    """Paragraphs, with `code` marked up; everything else escaped."""
    paragraphs = [p for p in text.split("\n\n") if p.strip()]
    return format_html_join("", "<p>{}</p>", ((_code(p),) for p in paragraphs))


def _code(text: str) -> SafeString:
    return mark_safe(re.sub(r"`([^`]+)`", r"<code>\1</code>", str(escape(text))))


def _one_of(values: list[Any]) -> SafeString:
    items = format_html_join(", ", "<code>{}</code>", ((json.dumps(v),) for v in values))
    return format_html("one of {}", items)


def _parameter(p: dict[str, Any]) -> Row:
    name = f"{p['name']} ({p.get('in', '')})"
    required = p.get("required", False)
    return Row(name, type_html(p.get("schema", {})), required, p.get("description", ""))


def _body(spec: dict[str, Any] | None) -> Body | None:
    content = (spec or {}).get("content", {}).get("application/json")
    if content is None:
        return None
    example = content.get("example")
    shown = None if example is None else json.dumps(example, indent=2, ensure_ascii=False)
    return Body(type_html(content.get("schema", {})), shown)
