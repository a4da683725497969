"""A collection Bundle: resources sent together, each under a fresh `urn:uuid:` full URL that
the others may reference (a download, not a server's stored resources)."""

from __future__ import annotations

import uuid
from typing import Any


def full_url() -> str:
    """A new entry's full URL, to reference it from the other entries before the bundle is built."""
    return f"urn:uuid:{uuid.uuid4()}"


def collection(entries: list[tuple[str, dict[str, Any]]], timestamp: str) -> dict[str, Any]:
    """The Bundle of `(full URL, resource)` pairs, in order, assembled at `timestamp`."""
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "timestamp": timestamp,
        "entry": [{"fullUrl": url, "resource": resource} for url, resource in entries],
    }
