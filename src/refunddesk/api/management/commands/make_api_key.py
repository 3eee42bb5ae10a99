"""`refunddesk make_api_key --name NAME --scope SCOPE …`: an API key from the command line
(for automation; admins use the console's API keys page). Prints the secret once."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from refunddesk.api.keys import make_key
from refunddesk.api.models import Scope


class Command(BaseCommand):
    help = "Make an API key with the given scopes and print its secret (shown only once)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--name", required=True, help="What uses the key.")
        parser.add_argument("--scope", action="append", required=True, dest="scopes",
                            choices=Scope.values, help="A scope; repeat for several.")

    def handle(self, *args: Any, name: str, scopes: list[str], **options: Any) -> None:
        try:
            key, secret = make_key(name=name, scopes=scopes, actor=None)
        except ValueError as error:
            raise CommandError(str(error)) from None
        self.stderr.write(f"API key {key.name!r} ({', '.join(key.scopes)}); its secret, "
                          "shown only now:")
        self.stdout.write(secret)
