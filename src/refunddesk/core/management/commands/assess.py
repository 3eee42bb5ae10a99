"""`refunddesk assess` — what the policy engine says of one order, as Assessment JSON."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from refunddesk.policy.assessment import AssessmentError
from refunddesk.policy.engine import assess
from refunddesk.policy.explain import LOCALES
from refunddesk.policy.presets import load_policy
from refunddesk.policy.schema import PolicyError


def usage_error(message: str) -> CommandError:
    return CommandError(message, returncode=2)


class Command(BaseCommand):
    help = ("Assess one order (order-facts JSON, with an optional \"history\") under a policy "
            "and print the assessment as JSON. Exit status 2 on bad input.")
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--policy", required=True,
                            help="a preset id (see `refunddesk policies list`) or a .toml file")
        parser.add_argument("--order", required=True,
                            help="the order-facts JSON file, or - for standard input")
        parser.add_argument("--as-of", dest="as_of",
                            help="when the customer asks, ISO 8601 with offset (default: now)")
        parser.add_argument("--lines", help="the lines to refund, by id: 1,2 (default: all)")
        parser.add_argument("--locale", default="zh-Hans", choices=LOCALES,
                            help="language of the explanation (default: zh-Hans)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            policy = load_policy(options["policy"])
        except PolicyError as error:
            raise usage_error(f"--policy: {error}") from None
        facts = read_json(options["order"])
        as_of = parse_as_of(options["as_of"])
        lines = None
        if options["lines"]:
            lines = [part.strip() for part in options["lines"].split(",") if part.strip()]
        try:
            result = assess(policy, facts, as_of=as_of, lines=lines)
        except AssessmentError as error:
            raise usage_error(str(error)) from None
        self.stdout.write(json.dumps(result.to_dict(options["locale"]), ensure_ascii=False,
                                     indent=2))


def read_json(source: str) -> Any:
    try:
        text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    except OSError as error:
        raise usage_error(f"--order: cannot read {source}: {error.strerror}") from None
    except UnicodeDecodeError:
        raise usage_error(f"--order: {source} is not UTF-8 text") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise usage_error(f"--order: {source} is not valid JSON: {error.msg} (line "
                          f"{error.lineno}, column {error.colno})") from None


def parse_as_of(text: str | None) -> datetime:
    if text is None:
        return timezone.localtime()
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise usage_error(f"--as-of: {text!r} is not an ISO 8601 date and time") from None
    if moment.tzinfo is None:
        raise usage_error("--as-of: needs a UTC offset, like 2026-03-04T12:00:00+08:00")
    return moment
