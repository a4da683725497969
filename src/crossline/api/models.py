"""The API's own tables: rate-limit counters, and the CDS Hooks cards given and the feedback on
them (no patient data, no client address anywhere)."""

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


class CdsCard(models.Model):
    """A card the CDS Hooks service gave an EHR: its uuid (in the card, for feedback), the EHR,
    the service, what the card is about (`class:<id>`, `unrecognised`, `conditions`) and its
    indicator. Nothing about the patient or the call: it lets feedback name a card crossline
    really gave that EHR, and the program count what prescribers override. Deleted after
    `CARD_DAYS` (the worker), with its feedback."""

    uuid = models.UUIDField(primary_key=True)
    issuer = models.CharField(max_length=254)
    service = models.CharField(max_length=64)
    kind = models.CharField(max_length=64)
    indicator = models.CharField(max_length=8)
    issued_at = models.DateTimeField(db_index=True)


class CdsFeedback(models.Model):
    """An EHR's report that a prescriber overrode (dismissed) a card: the override reason's
    coding when one was chosen, and only whether a comment was written (the comment is free
    text from the record's side and is never kept)."""

    card = models.ForeignKey(CdsCard, on_delete=models.CASCADE, related_name="feedback")
    outcome = models.CharField(max_length=16)
    reason_system = models.CharField(max_length=255, blank=True)
    reason_code = models.CharField(max_length=64, blank=True)
    commented = models.BooleanField(default=False)
    outcome_at = models.DateTimeField()
    received_at = models.DateTimeField()
