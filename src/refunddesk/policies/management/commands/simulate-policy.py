"""`refunddesk simulate-policy DRAFT --from DATE --to DATE [--product P]` — what a policy
version would have decided over the cases of a period (policies/simulation.py), as JSON.

DRAFT is a policy file (TOML) or a stored version's reference ("tencent-cloud@2", a draft
or a published one, or a preset's). Nothing is written.

(The module's name has a dash because Django names a command after its module.)
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from refunddesk.policies.models import PolicyVersion
from refunddesk.policies.simulation import Simulation, simulate
from refunddesk.policies.store import policy_by_ref
from refunddesk.policy.money import format_amount
from refunddesk.policy.schema import Policy, PolicyError, policy_from_toml

# Changed cases listed in full; the counts and totals always cover all of them.
SHOWN = 20


def load_draft(name: str) -> Policy:
    path = Path(name)
    if path.suffix == ".toml" or path.is_file():
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as error:
            raise CommandError(f"{name}: cannot read it ({error.strerror})") from None
        try:
            return policy_from_toml(text)
        except PolicyError as error:
            raise CommandError(f"{name}: not a valid policy: {error}") from None
    policy_id, _, version = name.partition("@")
    if not version.isdigit():
        raise CommandError(f"{name}: neither a policy file nor a version like "
                           "tencent-cloud@2")
    stored = PolicyVersion.objects.filter(policy_id=policy_id, version=int(version)).first()
    if stored is not None:
        return stored.policy()
    try:
        return policy_by_ref(name)
    except PolicyError as error:
        raise CommandError(str(error)) from None


def as_json(result: Simulation, shown: int) -> dict[str, Any]:
    def amount(minor: int, currency: str) -> str:
        return format_amount(minor, currency)

    return {
        "policy": result.policy_ref,
        "from": result.start.isoformat(), "to": result.end.isoformat(),
        "cases": result.cases, "changed": result.changed,
        "failed": sum(1 for change in result.changes if change.error),
        "currencies": {
            currency: {"total_before": amount(before, currency),
                       "total_after": amount(after, currency),
                       "difference": amount(after - before, currency)}
            for currency, (before, after) in sorted(result.totals.items())},
        "rules": [
            {"currency": currency, "rule": rule or None,
             "total_before": amount(before, currency), "total_after": amount(after, currency)}
            for (currency, rule), (before, after) in sorted(result.rules.items())],
        "changed_cases": [
            {"tracking_number": change.tracking_number, "currency": change.currency,
             "before": _figures(change.before, change.currency),
             "after": (_figures(change.after, change.currency) if change.after is not None
                       else None),
             **({"error": change.error} if change.error else {})}
            for change in result.changes[:shown]],
    }


def _figures(figures: Any, currency: str) -> dict[str, Any]:
    return {"outcome": figures.outcome, "rule": figures.rule or None,
            "total": format_amount(figures.total, currency),
            "lines": [{"id": line_id, "rule": rule or None,
                       "refund": format_amount(refund, currency)}
                      for line_id, rule, refund in figures.lines]}


class Command(BaseCommand):
    help = ("Assess the cases of a period again under a policy version (a TOML file, or a "
            "stored version like tencent-cloud@2) and print, as JSON, how many cases and "
            "how much money per currency would change. Writes nothing.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("draft", help="a policy file (.toml) or a version reference")
        parser.add_argument("--from", dest="start", required=True, type=_day,
                            help="first day of submission, YYYY-MM-DD")
        parser.add_argument("--to", dest="end", required=True, type=_day,
                            help="last day of submission (included), YYYY-MM-DD")
        parser.add_argument("--product", default="", help="only cases for this product code")
        parser.add_argument("--tz", default="", help="time zone of the days (the desk's)")
        parser.add_argument("--show", type=int, default=SHOWN,
                            help=f"changed cases listed in full (default {SHOWN})")

    def handle(self, *args: Any, **options: Any) -> None:
        start, end = options["start"], options["end"]
        if end < start:
            raise CommandError(f"--to {end} is before --from {start}")
        try:
            tz = ZoneInfo(options["tz"]) if options["tz"] else timezone.get_current_timezone()
        except (ZoneInfoNotFoundError, ValueError):
            raise CommandError(f"--tz {options['tz']}: no such time zone") from None
        draft = load_draft(options["draft"])
        result = simulate(draft, start=start, end=end, tz=tz, product=options["product"])
        self.stdout.write(json.dumps(as_json(result, max(options["show"], 0)),
                                     ensure_ascii=False, indent=2))


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        from argparse import ArgumentTypeError

        raise ArgumentTypeError(f"{text!r} is not a date like 2026-04-01") from None
