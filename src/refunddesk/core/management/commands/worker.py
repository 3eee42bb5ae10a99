"""`refunddesk worker` — the background worker: runs the tasks the web application queued,
sends the payouts, e-mails and webhooks that are due every second, and once a minute runs the
deadline sweep and the staff's hourly digests (core/periodic.py).

A thin layer over django-tasks-db's `db_worker`, so that operators run a RefundDesk command
and every option of the worker stays available unchanged.
"""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.conf import settings
from django_tasks_db.management.commands import db_worker

from refunddesk.core.periodic import (
    PeriodicThread,
    read_mailboxes,
    run_payouts,
    run_periodic,
    send_email,
    send_webhooks,
)


class Command(db_worker.Command):
    help = (
        "Run RefundDesk's background worker: it takes tasks from the database queue "
        "(report exports, simulations, compensation runs) and runs each once it is due, "
        "sends the due e-mails and webhooks every REFUNDDESK_OUTBOX_POLL_SECONDS (default "
        "1), sends and follows payouts every REFUNDDESK_PAYOUT_POLL_SECONDS (default 1), "
        "and once a minute sweeps the case deadlines and sends the staff's hourly digests. "
        "Run one or more next to the web server; on PostgreSQL workers on many machines "
        "share the queues. --batch runs what is due now (one sweep, the tasks, then the "
        "payouts, e-mails and webhooks due) and exits. The mailboxes of "
        "REFUNDDESK_IMAP_MAILBOXES are read every REFUNDDESK_IMAP_POLL_SECONDS (default 60)."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("--sweep-seconds", type=float, default=60.0,
                            help="How often to sweep the case deadlines (default: 60; 0: "
                                 "never).")

    def handle(self, *args: Any, **options: Any) -> None:
        seconds = options.pop("sweep_seconds")
        if options.get("batch"):
            # In the order work makes work: the sweep and the mailboxes queue tasks and
            # mail, tasks (a compensation run) write payouts, payouts settle cases and
            # queue mail and webhooks.
            if seconds:
                run_periodic()
            read_mailboxes()
            super().handle(*args, **options)
            for one_pass in (run_payouts, send_email, send_webhooks):
                while one_pass():
                    pass
            return
        threads = [PeriodicThread(settings.REFUNDDESK_PAYOUT_POLL_SECONDS, run_payouts,
                                  "refunddesk-payouts"),
                   PeriodicThread(settings.REFUNDDESK_OUTBOX_POLL_SECONDS, send_email,
                                  "refunddesk-email"),
                   PeriodicThread(settings.REFUNDDESK_OUTBOX_POLL_SECONDS, send_webhooks,
                                  "refunddesk-webhooks")]
        if seconds:
            threads.append(PeriodicThread(seconds))
        if settings.REFUNDDESK_IMAP_MAILBOXES.strip():
            threads.append(PeriodicThread(settings.REFUNDDESK_IMAP_POLL_SECONDS,
                                          read_mailboxes, "refunddesk-mail"))
        for thread in threads:
            thread.start()
        try:
            return super().handle(*args, **options)
        finally:
            for thread in threads:
                thread.stop()
