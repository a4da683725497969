"""Does a JSON value match its schema in our OpenAPI document — with nothing undocumented?

A small checker for the subset of JSON Schema the document uses. Stricter than JSON Schema in
one way on purpose: an object whose schema lists properties may carry no other keys unless the
schema says `additionalProperties`, so a field the engine adds but the docs do not describe is
caught here.
"""

from __future__ import annotations

import re
from typing import Any

REF = "#/components/schemas/"
TYPES: dict[str, Any] = {
    "object": dict,
    "array": list,
    "string": str,
    "boolean": bool,
    "null": type(None),
}


def problems(
    value: Any, schema: dict[str, Any], document: dict[str, Any], at: str = "$"
) -> list[str]:
    components = document["components"]["schemas"]
    if "$ref" in schema:
        return problems(value, components[schema["$ref"].removeprefix(REF)], document, at)
    if "anyOf" in schema:
        found = [problems(value, s, document, at) for s in schema["anyOf"]]
        return [] if any(not p for p in found) else [f"{at}: matches none of {found}"]
    if "enum" in schema or "const" in schema:
        allowed = schema.get("enum", [schema.get("const")])
        if not any(v == value and type(v) is type(value) for v in allowed):
            return [f"{at}: {value!r} not one of {allowed}"]
        return []
    kind = schema.get("type")
    if kind is None:
        return []
    if kind == "integer":
        return _integer(value, schema, at)
    if not isinstance(value, TYPES[kind]):
        return [f"{at}: expected {kind}, got {type(value).__name__}"]
    if kind == "object":
        return _object(value, schema, document, at)
    if kind == "array":
        return [
            p
            for i, v in enumerate(value)
            for p in problems(v, schema.get("items", {}), document, f"{at}[{i}]")
        ]
    if kind == "string" and "pattern" in schema and not re.search(schema["pattern"], value):
        return [f"{at}: {value!r} does not match {schema['pattern']}"]
    return []


def _integer(value: Any, schema: dict[str, Any], at: str) -> list[str]:
    if type(value) is not int:
        return [f"{at}: expected integer, got {type(value).__name__}"]
    if not schema.get("minimum", value) <= value <= schema.get("maximum", value):
        return [f"{at}: {value} out of range"]
    return []


def _object(
    value: dict[str, Any], schema: dict[str, Any], document: dict[str, Any], at: str
) -> list[str]:
    props = schema.get("properties", {})
    extra = schema.get("additionalProperties", not props)
    out = [f"{at}: missing required {k!r}" for k in schema.get("required", []) if k not in value]
    for key, item in value.items():
        if key in props:
            out += problems(item, props[key], document, f"{at}.{key}")
        elif isinstance(extra, dict):
            out += problems(item, extra, document, f"{at}.{key}")
        elif extra is not True:
            out.append(f"{at}: undocumented key {key!r}")
    return out
