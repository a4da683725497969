"""crossline's own start-up checks: knowledge release checks, keys, database settings; and
the patient-record retention in force, said plainly (unset: records are kept for ever), and
which EHRs may call the CDS Hooks service."""

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, connection

from crossline.engine.check import check
from crossline.knowledge import load


class Command(BaseCommand):
    help = "crossline's own checks (knowledge base, keys, database durability settings)"

    def handle(self, *args: Any, **options: Any) -> None:
        problems = [f"knowledge: {p}" for p in check(load())]
        try:  # a deployment check that passes with a wrong DATABASE_URL would mislead
            connection.ensure_connection()
        except DatabaseError as exc:  # its type only: libpq's message names hosts and users
            raise CommandError(
                f"database: cannot connect ({type(exc).__name__}): check DATABASE_URL"
            ) from None
        cfg = settings.CROSSLINE
        if len(cfg.encryption_keys[cfg.active_key_id]) != 32:
            problems.append("encryption: the active key is not 32 bytes")
        if connection.vendor == "sqlite":
            with connection.cursor() as cur:
                cur.execute("PRAGMA journal_mode")
                mode = cur.fetchone()[0]
                cur.execute("PRAGMA synchronous")
                sync = cur.fetchone()[0]
            if mode != "wal" or sync != 2:
                problems.append(
                    f"sqlite: journal_mode={mode} synchronous={sync} (want wal, 2=FULL)"
                )
        if cfg.cds_clients and cfg.production and not cfg.base_url_configured:
            problems.append(
                "cds: CROSSLINE_CDS_CLIENTS_FILE is set without CROSSLINE_BASE_URL (an EHR's "
                "token names the service's public URL as its audience)"
            )
        if problems:
            raise CommandError("; ".join(problems))
        self.stdout.write(f"crossline checks OK (database {connection.vendor})")
        self.stdout.write(f"patient-record retention: {_retention()}")
        self.stdout.write(f"CDS Hooks: {_cds(cfg.cds_clients, cfg.cds_rate_limit_per_minute)}")


def _cds(clients: Any, limit: int) -> str:
    if not clients:
        return "no EHR trusted (CROSSLINE_CDS_CLIENTS_FILE unset): every service call gets 401"
    trusted = f"{len(clients)} trusted EHR(s): {', '.join(sorted(clients))}"
    return f"{trusted}; at most {limit} calls a minute from one address"


def _retention() -> str:
    """The operator's period, said at deployment: unset means records are kept for ever."""
    from crossline.program.models import ProgramSettings

    try:
        row = ProgramSettings.objects.order_by("pk").first()  # read only: creates nothing
    except DatabaseError:
        return "unknown (run `crossline migrate` first)"
    years = row.record_retention_years if row is not None else None
    if years is None:
        return "not set: patient records are never deleted (program settings, admin)"
    return f"{years} years after a record's last activity (the worker deletes hourly)"
