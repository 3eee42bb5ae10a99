"""`refunddesk import orders FILE.jsonl` — load order facts from the merchant's billing system."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from refunddesk.billing.importing import import_jsonl

MAX_ERRORS_SHOWN = 200


class Command(BaseCommand):
    help = (
        "Import orders in the order-facts format (one JSON object a line; '-' reads standard "
        "input). Each order is its own transaction: a bad one is reported by line and field "
        "and the rest still land. Re-importing an order updates it; an unchanged one is "
        "skipped. Exit status: 0 all imported, 1 some failed, 2 bad usage."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("what", choices=["orders"], help="what the file holds")
        parser.add_argument("file", help="path to a .jsonl file, or - for standard input")
        parser.add_argument("--no-progress", action="store_true",
                            help="no progress bar, even on a terminal")

    def handle(self, *args: Any, **options: Any) -> None:
        source = options["file"]
        if source == "-":
            handle, total = sys.stdin, None
        else:
            path = Path(source)
            if not path.is_file():
                raise CommandError(f"{source}: no such file", returncode=2)
            total = _count_lines(path)
            handle = path.open(encoding="utf-8", errors="strict", newline="\n")
        show_progress = not options["no_progress"] and sys.stderr.isatty()
        with handle, tqdm(total=total, unit=" orders", disable=not show_progress,
                          file=sys.stderr) as bar:
            try:
                report = import_jsonl(handle, on_line=lambda: bar.update(1))
            except UnicodeDecodeError as error:
                raise CommandError(f"{source}: not UTF-8 text ({error.reason} at byte "
                                   f"{error.start})", returncode=2) from None
        for message in report.errors[:MAX_ERRORS_SHOWN]:
            self.stderr.write(message)
        if len(report.errors) > MAX_ERRORS_SHOWN:
            self.stderr.write(f"… and {len(report.errors) - MAX_ERRORS_SHOWN} more problems")
        self.stdout.write(report.summary())
        if not report.is_clean:
            sys.exit(1)


def _count_lines(path: Path) -> int:
    with path.open("rb") as raw:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: raw.read(1 << 20), b""))
