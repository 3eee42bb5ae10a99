"""`refunddesk make_api_key --name NAME --scope SCOPE …`: an API key from the command line
(for automation; admins use the console's API keys page). Prints the secret once."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from refunddesk.api.keys import make_key
from refunddesk.api.models import Scope
from refunddesk.cases.actors import COMMAND_LINE


class Command(BaseCommand):
    help = "Make an API key with the given scopes and print its secret (shown only once)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--name", required=True, help="What uses the key.")
        parser.add_argument("--scope", action="append", required=True, dest="scopes",
                            choices=Scope.values, help="A scope; repeat for several.")
        parser.add_argument("--acting-as", metavar="USERNAME", dest="acting_as",
                            help="The staff member the key decides as (needed for "
                                 "decisions:write).")

    def handle(self, *args: Any, name: str, scopes: list[str], acting_as: str | None,
               **options: Any) -> None:
        person = None
        if acting_as is not None:
            person = get_user_model().objects.filter(username=acting_as, is_staff=True,
                                                     is_active=True).first()
            if person is None:
                raise CommandError(f"no active staff member is called {acting_as!r}")
        elif "decisions:write" in scopes:
            raise CommandError("a decisions:write key decides as a staff member: name one "
                               "with --acting-as")
        try:
            key, secret = make_key(name=name, scopes=scopes, actor=COMMAND_LINE, acting_as=person)
        except ValueError as error:
            raise CommandError(str(error)) from None
        self.stderr.write(f"API key {key.name!r} ({', '.join(key.scopes)}); its secret, "
                          "shown only now:")
        self.stdout.write(secret)
