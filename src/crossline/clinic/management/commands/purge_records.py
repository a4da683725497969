"""`crossline manage purge_records`: apply the program's patient-record retention.

The worker runs it daily (`clinic.purge_records`); run it by hand to see what is due
(`--dry-run`) before setting or shortening the period. Safe to run at any time and repeatedly.
"""

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from crossline.clinic import retention
from crossline.program.models import ProgramSettings


class Command(BaseCommand):
    help = (
        "Delete patient records whose last activity is older than the program's patient-record "
        "retention (program settings; unset: nothing is deleted). Records that still need "
        "someone (an open case, an unacknowledged alert, a course not stopped) are held back "
        "and listed."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="list what is due; change nothing"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        years = ProgramSettings.current().record_retention_years
        if years is None:
            self.stdout.write(
                "patient-record retention is not set (program settings): nothing is deleted"
            )
            return
        now = timezone.now()
        before = f"last activity before {retention.cutoff(now, years)} ({years}-year retention)"
        if options["dry_run"]:
            due = list(retention.due(now, years))
            free = [d for d in due if not d.held]
            self.stdout.write(f"would delete {len(free)} patient records with {before}")
            for d in free:
                self.stdout.write(f"  case {d.case.public_id}: last activity {d.last_activity}")
            self._held([d for d in due if d.held])
            return
        applied = retention.apply(now, years)
        self.stdout.write(
            f"deleted {applied.deleted} patient records with {before}; "
            "their screens are kept in the aggregate counts"
        )
        self._held(list(applied.held))

    def _held(self, held: list[retention.Due]) -> None:
        if not held:
            return
        self.stdout.write(f"held back {len(held)} (settle these first, then they are deleted):")
        for d in held:
            self.stdout.write(
                f"  case {d.case.public_id}: last activity {d.last_activity}; " + "; ".join(d.held)
            )
