"""`refunddesk totp-code USERNAME` — the current login code of a demo staff user.

The demo staff users have a second factor like every staff member. To try the console
without adding the secret `refunddesk demo` prints to an authenticator app, this prints the
6-digit code the app would show now. Only for the demo users ("demo-…"): a real staff
member's code never leaves their own app.

(The module's name has a dash because Django names a command after its module.)
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from refunddesk.core.demo_staff import NoDemoCode, demo_totp_code


class Command(BaseCommand):
    help = ("Print the current 6-digit TOTP code of a demo staff user (demo-agent, "
            "demo-reviewer, demo-reviewer2, demo-finance, demo-admin, demo-admin2), to log in "
            "to the demo console.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username", help="a demo staff user, e.g. demo-agent")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            code = demo_totp_code(options["username"])
        except NoDemoCode as error:
            raise CommandError(str(error), returncode=2) from None
        self.stdout.write(code)
