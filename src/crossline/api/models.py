"""The API's own table: rate-limit counters (no patient data, no client address)."""

from __future__ import annotations

from django.db import models


class RateCounter(models.Model):
    """One client's requests in one scope during one one-minute window.

    A table, so every worker process (and every server on the same PostgreSQL) shares the
    counts; counted by one upsert in the caller's transaction (`crossline.api.ratelimit`).
    `bucket` is the scope, a keyed hash of the client's network (never the address) and the
    window. Rows older than the previous window are deleted as new windows start.
    """

    bucket = models.CharField(primary_key=True, max_length=128)
    minute = models.BigIntegerField(db_index=True)  # the window: minutes since the epoch
    hits = models.IntegerField()
