"""`crossline manage rotate_keys`: re-encrypt every encrypted value with the active key.

After a new key is put first in the ring (docs/operations.md, "Keys and rotation"), old rows
still carry the key they were written with. This command finds every `EncryptedJSONField` of
every installed model, and rewrites each value whose key id is not the active one. It works in
primary-key batches, one transaction per batch with the rows locked, so it can run while the
application serves requests, can be interrupted, and can be run again (it skips what is done).
A value that fails to decrypt is reported and left as it is; the command then exits non-zero.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import models, transaction

from crossline.crypto import DecryptionError
from crossline.intake.fields import EncryptedJSONField, cipher

BATCH_SIZE = 500


@dataclass
class Tally:
    rotated: int = 0
    current: int = 0  # already under the active key
    failed: list[Any] = field(default_factory=list)  # primary keys (identify no one)


def encrypted_fields() -> Iterator[tuple[type[models.Model], EncryptedJSONField]]:
    """Every encrypted column of every installed model: a new one is rotated without edits."""
    for model in apps.get_models():
        for f in model._meta.concrete_fields:
            if isinstance(f, EncryptedJSONField):
                yield model, f


class Command(BaseCommand):
    help = "Re-encrypt every encrypted value whose key is not the active key (batched)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=BATCH_SIZE)
        parser.add_argument(
            "--dry-run", action="store_true", help="count values per key state; change nothing"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["batch_size"] < 1:
            raise CommandError("--batch-size: must be at least 1")
        active = cipher().active_key_id
        failures = 0
        for model, f in encrypted_fields():
            tally = rotate(model, f, options["batch_size"], options["dry_run"])
            verb = "would re-encrypt" if options["dry_run"] else "re-encrypted"
            failed = (
                f", {len(tally.failed)} FAILED (pk {_pks(tally.failed)})" if tally.failed else ""
            )
            self.stdout.write(
                f"{model._meta.label}.{f.name}: {verb} {tally.rotated}, "
                f"{tally.current} already under {active}{failed}"
            )
            failures += len(tally.failed)
        if failures:
            raise CommandError(
                f"{failures} value(s) could not be decrypted: altered, or their key is not in "
                "the ring. Keep the old keys in the ring until this is resolved."
            )


def rotate(
    model: type[models.Model], f: EncryptedJSONField, batch_size: int, dry_run: bool = False
) -> Tally:
    tally, last = Tally(), None
    while True:
        with transaction.atomic():
            rows = _batch(model, f, last, batch_size)
            for pk, blob in rows:
                _rotate_one(model, f, pk, blob, tally, dry_run)
        if len(rows) < batch_size:
            return tally
        last = rows[-1][0]


def _batch(
    model: type[models.Model], f: EncryptedJSONField, after: Any, size: int
) -> list[tuple[Any, bytes]]:
    """The next rows' ciphertext as stored (the raw column: no decryption on read)."""
    raw = models.ExpressionWrapper(models.F(f.attname), output_field=models.BinaryField())
    qs = model._default_manager.select_for_update().exclude(**{f.attname: None})
    if after is not None:
        qs = qs.filter(pk__gt=after)
    rows = qs.order_by("pk").annotate(_ciphertext=raw).values_list("pk", "_ciphertext")
    return [(pk, bytes(blob)) for pk, blob in rows[:size]]


def _rotate_one(
    model: type[models.Model],
    f: EncryptedJSONField,
    pk: Any,
    blob: bytes,
    tally: Tally,
    dry_run: bool,
) -> None:
    c = cipher()
    if _key_id(blob) == c.active_key_id:
        tally.current += 1
        return
    try:
        # The same associated data the field uses: the ciphertext stays bound to its column.
        value = c.decrypt_json(blob, f._aad())
    except DecryptionError:
        tally.failed.append(pk)
        return
    if not dry_run:
        # update() goes through the field, which encrypts with the active key; it leaves
        # auto_now timestamps alone (rotation is not a change to the record).
        model._default_manager.filter(pk=pk).update(**{f.attname: value})
    tally.rotated += 1


def _key_id(blob: bytes) -> str | None:
    try:
        return cipher().key_id_of(blob)
    except (IndexError, UnicodeDecodeError):  # not even the layout: decryption reports it
        return None


def _pks(pks: list[Any]) -> str:
    shown = ", ".join(str(p) for p in pks[:20])
    return shown + (" …" if len(pks) > 20 else "")
