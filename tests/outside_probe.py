"""What a stand-in of the outside world (a payment gateway, an SMTP server, a webhook
receiver, the message storage) checks at the moment a worker talks to it: that the worker
holds no transaction, and (on PostgreSQL, asked from a connection of its own) no lock on
the rows it is working on. SQLite has no row locks, and with no transaction open it holds
no write lock either."""

from __future__ import annotations

import threading

from django.db import OperationalError, connection, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import QuerySet


def held_back(worker: BaseDatabaseWrapper, rows: QuerySet) -> list[str]:
    """What the worker (its database connection) holds that it should not; [] when
    nothing."""
    problems = []
    if worker.in_atomic_block:
        problems.append("a transaction is open")
    if worker.vendor == "postgresql" and is_locked(rows):
        problems.append("a row is locked")
    return problems


def is_locked(rows: QuerySet) -> bool:
    """Whether another connection could not lock `rows` right now (NOWAIT: it does not
    wait to find out)."""
    answer: dict[str, bool] = {}

    def ask() -> None:
        try:
            with transaction.atomic():
                list(rows.select_for_update(nowait=True).values_list("pk", flat=True))
            answer["locked"] = False
        except OperationalError:
            answer["locked"] = True
        finally:
            connection.close()  # this thread's own connection

    asking = threading.Thread(target=ask)
    asking.start()
    asking.join(timeout=30)
    return answer.get("locked", True)
