"""`refunddesk worker` — the background worker: runs the tasks the web application queued.

A thin layer over django-tasks-db's `db_worker`, so that operators run a RefundDesk command
and every option of the worker stays available unchanged.
"""

from __future__ import annotations

from django_tasks_db.management.commands import db_worker


class Command(db_worker.Command):
    help = (
        "Run RefundDesk's background worker: it takes tasks from the database queue (e-mail "
        "to customers, payouts, …) and runs each once it is due (retries wait their turn). "
        "Run one or more next to the web server; on PostgreSQL workers on many machines "
        "share the queue. --batch runs what is due now and exits."
    )
