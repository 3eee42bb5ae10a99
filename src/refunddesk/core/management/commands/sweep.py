"""`refunddesk sweep` — run the deadline sweep once (the worker also runs it every minute)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from refunddesk.core.periodic import run_periodic


class Command(BaseCommand):
    help = ("Escalate overdue cases to the reviewers, close cases whose customer missed the "
            "deadline for information, and make unappealed rejections final. Every "
            "`refunddesk worker` does this once a minute; run it from cron if you run none.")

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(str(run_periodic()))
