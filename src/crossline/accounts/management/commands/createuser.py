"""`crossline createuser --email E --role R [--role R2] [--reissue]`

Creates an account with no usable password and prints a one-time enrolment link (72 hours,
single use; only its hash is stored). The person sets their own password and enrols their
authenticator from the link: no password is ever typed on the command line.

`--reissue` prints a new link for an existing account and resets it: the old link, password,
authenticator and recovery codes stop working, and every session of the account ends.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from crossline.accounts.models import ENROLMENT_LIFETIME
from crossline.accounts.roles import Role
from crossline.accounts.services import (
    AccountError,
    create_user,
    enrolment_link,
    reissue_enrolment,
)


class Command(BaseCommand):
    help = "Create a clinician or operator account and print a one-time enrolment link."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--email", required=True, help="the person's email (their sign-in)")
        parser.add_argument(
            "--role",
            action="append",
            default=[],
            help=f"one of {', '.join(Role)}; repeat for several",
        )
        parser.add_argument(
            "--reissue",
            action="store_true",
            help="a new link for an existing account (resets its password and authenticator)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["reissue"]:
                if options["role"]:
                    raise AccountError("role", "roles of an existing account change in the admin")
                user, token = reissue_enrolment(options["email"])
                what = "New enrolment link"
            else:
                user, token = create_user(options["email"], options["role"])
                what = "Account created"
        except AccountError as exc:
            raise CommandError(f"--{exc.field}: {exc.message}") from None
        hours = int(ENROLMENT_LIFETIME.total_seconds() // 3600)
        roles = ", ".join(sorted(user.groups.values_list("name", flat=True)))
        self.stdout.write(f"{what} for {user.get_username()} (roles: {roles}).")
        self.stdout.write(
            f"Send this one-time enrolment link to them; it works once, for {hours} hours:"
        )
        self.stdout.write(enrolment_link(token))
