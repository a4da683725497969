"""Consent text versions: the current published wording of a kind, or None (then the knowledge
copy's built-in wording applies — see `crossline.intake.contact.consent`)."""

from __future__ import annotations

from crossline.program.models import ConsentText


def current_published(kind: str) -> ConsentText | None:
    """The newest published version of `kind` (one indexed query; never cached, so the version
    a page shows is the version the form checks and stores)."""
    return (
        ConsentText.objects.filter(kind=kind, published_at__isnull=False)
        .order_by("-published_at", "-pk")
        .first()
    )
