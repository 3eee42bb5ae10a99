"""`refunddesk policies list | show ID | check FILE` — the refund policies at hand."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from refunddesk.policy.presets import PRESETS_DIR, load_policy, load_preset, preset_ids
from refunddesk.policy.schema import PolicyError


class Command(BaseCommand):
    help = ("List the preset refund policies, show one (its TOML), or check a policy file "
            "(exit status 2 and every problem by key when it is invalid).")
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        actions.add_parser("list", help="the presets: id@version and name")
        show = actions.add_parser("show", help="print a preset's or a file's TOML")
        show.add_argument("policy", help="a preset id or a .toml file")
        check = actions.add_parser("check", help="validate a policy file")
        check.add_argument("file")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "list":
            for preset_id in preset_ids():
                policy = load_preset(preset_id)
                self.stdout.write(f"{policy.ref:<20} {policy.name.en} / {policy.name.zh_Hans}")
        elif action == "show":
            self._show(options["policy"])
        else:
            self._check(options["file"])

    def _show(self, name: str) -> None:
        path = PRESETS_DIR / f"{name}.toml"
        if not path.is_file():
            path = Path(name)
        if not path.is_file():
            raise CommandError(f"{name}: neither a preset ({', '.join(preset_ids())}) nor a "
                               "policy file", returncode=2)
        self.stdout.write(path.read_text(encoding="utf-8"))

    def _check(self, name: str) -> None:
        try:
            policy = load_policy(name)
        except PolicyError as error:
            raise CommandError("\n".join(error.problems), returncode=2) from None
        self.stdout.write(f"{policy.ref}: valid, {_count(len(policy.rules), 'rule')}, "
                          f"{_count(len(policy.exclusions), 'exclusion')}")


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"
