"""`crossline manage purge_anonymous`: delete expired anonymous screens, keep their counts.

Run it daily (cron, a systemd timer or the worker). Safe to run at any time and repeatedly.
"""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from crossline.intake import retention
from crossline.knowledge import load


class Command(BaseCommand):
    help = (
        "Delete anonymous screens (never linked to contact details) older than the policy's "
        "anonymous_retention_days, adding them to the aggregate counts first."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="count what would be deleted; change nothing"
        )
        parser.add_argument("--batch-size", type=int, default=retention.BATCH_SIZE)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["batch_size"] < 1:
            raise CommandError("--batch-size: must be at least 1")
        now = timezone.now()
        days = load().policy.anonymous_retention_days
        before = f"started before {retention.cutoff(now, days):%Y-%m-%d %H:%M} UTC"
        if options["dry_run"]:
            n = retention.expired(now, days).count()
            self.stdout.write(f"would delete {n} anonymous screens {before} ({days}-day policy)")
            return
        purged = retention.purge_anonymous(now, days, options["batch_size"])
        self.stdout.write(
            f"deleted {purged.deleted} anonymous screens {before} ({days}-day policy; "
            f"{purged.never_submitted} never submitted); their counts are kept in the aggregate"
        )
