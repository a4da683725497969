"""A model's INSERT without the ORM's per-call query building, for the submit hot path.

The values are the ORM's own: each field's `pre_save` (auto_now, auto_now_add) and
`get_db_prep_save` (`EncryptedJSONField` encrypts there), computed by `values()` *before* the
caller's transaction opens, so the transaction (on SQLite, the one write lock every worker
queues for) only runs statements. What is skipped is building the SQL on every call (it is
built once per model) and the `pre_save`/`post_save` signals, which crossline does not use
for these models: an effect of storing a row belongs in the transaction that stores it.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property
from typing import Any

from django.db import connection, models, transaction
from django.db.models.fields import AutoFieldMixin


class Insert:
    """`INSERT INTO table (every column but an automatic id) … RETURNING id` for one model."""

    def __init__(self, model: type[models.Model]) -> None:
        self.model = model
        self.fields = [
            f
            for f in model._meta.local_concrete_fields
            if not (f.primary_key and isinstance(f, AutoFieldMixin))
        ]

    @cached_property
    def sql(self) -> str:
        q = connection.ops.quote_name
        meta = self.model._meta
        columns = ", ".join(q(f.column) for f in self.fields)
        marks = ", ".join(["%s"] * len(self.fields))
        return (
            f"INSERT INTO {q(meta.db_table)} ({columns}) VALUES ({marks})"
            f" RETURNING {q(meta.pk.column)}"
        )

    def values(self, obj: models.Model, prepared: Mapping[str, Any] | None = None) -> list[Any]:
        """The row's database values, exactly as `obj.save()` would compute them, except those
        in `prepared` (by field name), which the caller computed already."""
        done = prepared or {}
        db = transaction.get_connection()  # once: each use of the proxy looks it up again
        return [
            done[f.name] if f.name in done else f.get_db_prep_save(f.pre_save(obj, True), db)
            for f in self.fields
        ]

    def run(self, obj: models.Model, values: list[Any]) -> None:
        """Insert in the current transaction; `obj` then has its id and counts as saved."""
        db = transaction.get_connection()
        with db.cursor() as cursor:
            cursor.execute(self.sql, values)
            row = cursor.fetchone()
        obj.pk = row[0]
        obj._state.adding = False
        obj._state.db = db.alias
