"""The audit log: append-only, typed events chained by an HMAC keyed outside the database.

Database triggers refuse UPDATE and DELETE on the table (migration 0001); the chain makes any
change made around them — by someone who drops the triggers — visible to `crossline audit verify`.
"""

from __future__ import annotations

from typing import Any

from django.db import models


class Event(models.Model):
    seq = models.BigIntegerField(primary_key=True)  # 1, 2, 3, … without gaps
    at = models.DateTimeField()  # UTC
    action = models.CharField(max_length=40)  # an `Action` value, checked by `audit.record`
    actor_id = models.BigIntegerField(null=True)  # the user's id; null for anonymous or system
    actor = models.CharField(max_length=254)  # "anonymous", "system" or the user's sign-in name
    patient = models.CharField(max_length=64, blank=True, db_index=True)  # a non-identifying id
    object_type = models.CharField(max_length=40, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    request_id = models.CharField(max_length=32, blank=True)
    detail = models.JSONField(default=dict)  # short scalars only; never answers or contact details
    prev_mac = models.CharField(max_length=64)
    mac = models.CharField(max_length=64)
    # The id of the audit key that signed the entry (a1, a2, …). Null for entries written before
    # entries named their key: key a1 (the original CROSSLINE_AUDIT_KEY) signed those. Nullable
    # so that adding the column kept SQLite's table and its append-only triggers (ALTER TABLE
    # ADD COLUMN, not a rebuild).
    key_id = models.CharField(max_length=8, null=True)

    class Meta:
        indexes = [
            models.Index(fields=["actor_id", "seq"], name="audit_actor"),
            models.Index(fields=["at"], name="audit_time"),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.at:%Y-%m-%d %H:%M:%S} {self.action} by {self.actor}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise PermissionError("the audit log is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise PermissionError("the audit log is append-only")
