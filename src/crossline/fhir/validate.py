"""FHIR validation of crossline's resources with fhir.resources' R4B models.

The models check structure and types (FHIR paths in the errors); they do not check code values
(`status: "bogus"` passes), so the tests check crossline's codes themselves.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any


class InvalidResource(ValueError):
    """A resource fhir.resources refuses; the message lists the FHIR paths at fault, and
    `paths` holds each (path, message)."""

    def __init__(self, message: str, paths: tuple[tuple[str, str], ...] = ()) -> None:
        super().__init__(message)
        self.paths = paths or (("resourceType", message.split(": ", 1)[-1]),)


def validate(resource: dict[str, Any]) -> None:
    """Raise `InvalidResource` unless `resource` is a valid FHIR resource of its type."""
    from pydantic import ValidationError

    kind = resource.get("resourceType")
    if not isinstance(kind, str) or not kind.isalpha():
        raise InvalidResource("resourceType: missing")
    name = f"fhir.resources.R4B.{kind.lower()}"
    try:
        module = import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name != name:
            raise  # a broken installation, not a bad resource
        raise InvalidResource(f"resourceType: unknown type {kind!r}") from None
    model = getattr(module, kind, None)
    if model is None:
        raise InvalidResource(f"resourceType: unknown type {kind!r}")
    try:
        model.model_validate(resource)
    except ValidationError as exc:
        paths = tuple(
            (".".join(map(str, e["loc"])), e["msg"]) for e in exc.errors(include_url=False)
        )
        listed = "; ".join(f"{path}: {message}" for path, message in paths)
        raise InvalidResource(f"{kind}: {listed}", paths) from None
