"""`refunddesk set_roles USERNAME [ROLE …]`: give a staff member exactly these roles from
the command line (the first admin of a new desk; any change later). Audited, and the
admins are e-mailed, like a change made in the console."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from refunddesk.cases.actors import COMMAND_LINE
from refunddesk.core.models import RoleChangeSource
from refunddesk.core.role_changes import change_roles
from refunddesk.core.staff import ROLES


class Command(BaseCommand):
    help = "Give a staff member exactly the roles named (none: take every role away)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("username")
        parser.add_argument("roles", nargs="*", choices=ROLES, metavar="ROLE",
                            help=f"One of {', '.join(ROLES)}; repeat for several.")

    def handle(self, *args: Any, username: str, roles: list[str], **options: Any) -> None:
        member = get_user_model().objects.filter(username=username).first()
        if member is None:
            raise CommandError(f"no user is called {username!r}")
        change = change_roles(member, roles, actor=COMMAND_LINE,
                              source=RoleChangeSource.COMMAND_LINE)
        if change is None:
            self.stdout.write(f"{username} already has exactly these roles.")
        else:
            self.stdout.write(f"{username}: {', '.join(change.roles_before) or 'no roles'} → "
                              f"{', '.join(change.roles_after) or 'no roles'}")
