"""`crossline audit verify|anchor`: check the audit chain, or anchor its head outside the DB."""

from __future__ import annotations

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from crossline.audit import Action, record
from crossline.audit.log import anchor, anchor_path, verify


class Command(BaseCommand):
    help = "Verify the audit log's HMAC chain (exit 1 naming the first bad entry), or anchor it."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("what", choices=["verify", "anchor"])
        parser.add_argument(
            "--anchor-file", type=Path, default=None, help="default: CROSSLINE_AUDIT_ANCHOR_FILE"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = options["anchor_file"] or anchor_path()
        if options["what"] == "anchor":
            a = anchor(path)
            # Recorded like the worker's anchors: the audit trail shows every anchoring.
            record(Action.AUDIT_ANCHORED, actor="system", detail={"head": a.seq})
            self.stdout.write(f"anchored the audit chain at entry {a.seq} in {path}")
            return
        result = verify(path)
        where = (
            f"last anchor: entry {result.anchor.seq} ({result.anchor.at})"
            if result.anchor
            else "no anchor yet: deleting the newest entries would not be detected"
        )
        if not result.ok:
            raise CommandError(
                f"audit chain BROKEN at entry {result.first_bad}: {result.problem}\n"
                f"{result.checked} entries checked before it; {where}",
                returncode=1,
            )
        record(Action.AUDIT_VERIFIED, actor="system", detail={"head": result.head})
        keys = ", ".join(f"{k} {first}–{last}" for k, first, last in result.keys)
        signed = f" (signed by {keys})" if keys else ""
        self.stdout.write(
            f"audit chain intact: {result.checked} entries, head {result.head}{signed}; {where}"
        )
