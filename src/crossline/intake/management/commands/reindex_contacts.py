"""`crossline manage reindex_contacts`: recompute every contact request's blind indexes.

The blind indexes (HMAC-SHA256 of the normalised e-mail and phone, keyed by
`CROSSLINE_INDEX_KEY`) are how the clinician workspace finds a person's earlier screens. After the
index key is changed (docs/operations.md, "Keys and rotation"), every stored index is stale;
this command decrypts each contact request's details and writes both indexes again under the
current key. It works in primary-key batches, one transaction per batch with the rows locked,
so it can run while crossline serves requests, can be interrupted, and can be run again (rows
already current are counted, not written).
"""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from crossline.accounts.models import RecoveryCodes
from crossline.crypto import DecryptionError
from crossline.intake.contact import contact_index
from crossline.intake.models import ContactRequest

BATCH_SIZE = 500


class Command(BaseCommand):
    help = "Recompute the e-mail and phone blind indexes of every contact request (batched)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=BATCH_SIZE)
        parser.add_argument(
            "--dry-run", action="store_true", help="count stale indexes; change nothing"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        size, dry_run = options["batch_size"], options["dry_run"]
        if size < 1:
            raise CommandError("--batch-size: must be at least 1")
        stale = current = 0
        last = 0
        while True:
            with transaction.atomic():
                rows = ContactRequest.objects.select_for_update().filter(pk__gt=last)
                try:
                    batch = list(rows.order_by("pk")[:size])
                except DecryptionError as exc:
                    raise CommandError(
                        f"a contact request after id {last} cannot be decrypted ({exc}): "
                        "its key is not in CROSSLINE_ENCRYPTION_KEYS, or it was altered"
                    ) from None
                for row in batch:
                    email = contact_index("email", row.contact.get("email"))
                    phone = contact_index("phone", row.contact.get("phone"))
                    if (email, phone) == (row.email_index, row.phone_index):
                        current += 1
                        continue
                    stale += 1
                    if not dry_run:
                        ContactRequest.objects.filter(pk=row.pk).update(
                            email_index=email, phone_index=phone
                        )
            if len(batch) < size:
                break
            last = batch[-1].pk
        verb = "would re-index" if dry_run else "re-indexed"
        self.stdout.write(f"contact requests: {verb} {stale}, {current} already current")
        # Recovery codes cannot be re-digested (only digests are kept): say how many users must
        # make new ones; each is told on every staff page until they do.
        users = RecoveryCodes.holders_of_stale_codes()
        if users:
            self.stdout.write(
                f"recovery codes: {users} staff member(s) hold codes made under an earlier index "
                "key, which no longer work; each is asked on every staff page to make new ones"
            )
