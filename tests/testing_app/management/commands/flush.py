"""The test suite's flush (between transactional and live-server tests) empties the audit log
too: the append-only triggers are lifted for the flush and put back right after."""

from __future__ import annotations

from typing import Any

from django.core.management.commands.flush import Command as FlushCommand
from django.db import connections

from crossline.audit.triggers import removed


class Command(FlushCommand):
    def handle(self, **options: Any) -> None:
        with removed(connections[options.get("database") or "default"]):
            super().handle(**options)
