"""Process caches of what changes rarely (API keys, published policy versions, calendars,
webhook endpoints), forgotten in every process the moment it changes.

How every process hears of a change: on PostgreSQL a trigger on each cached table sends
NOTIFY `refunddesk_changed` with the table's name from the transaction that changes it,
whoever makes the change (an action, the administration, a migration, plain SQL);
PostgreSQL delivers it at commit, and never for a rollback. Each process listens on a
connection of its own (a daemon thread, started by the first look into a cache) and moves
the table's generation on. A value is kept with the generation it was read under and
used only while the generation has not moved, so a value read while a change committed is
never kept past it.

Nothing is kept — every call reads the database — while the listener is not listening
(before it starts, and from a lost connection until it listens again: it then moves every
generation on), on SQLite (no notices between processes), when REFUNDDESK_PROCESS_CACHE is
off (the test suite, except the tests of this module), and, inside a transaction, for a
table that transaction wrote through `written()` (it must see its own change, and a
rollback must leave nothing behind). The process that commits a change moves the
generation itself at commit, without waiting for its own notice.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from django.conf import settings
from django.db import connection, transaction

log = logging.getLogger(__name__)

CHANNEL = "refunddesk_changed"
# The tables whose rows processes keep; each has the notifying trigger (core migration
# 0003) and its writers call written().
API_KEYS = "api_apikey"
POLICY_VERSIONS = "policies_policyversion"
CALENDAR_CHANGES = "calendars_calendarchange"
WEBHOOK_ENDPOINTS = "notifications_webhookendpoint"
TABLES = (API_KEYS, POLICY_VERSIONS, CALENDAR_CHANGES, WEBHOOK_ENDPOINTS)
# How long a wait for notices lasts before the listener checks it should go on.
POLL_SECONDS = 5.0
# Kept values per process at most (keys include API key digests a client sends: a client
# sending made-up keys must not grow the memory without bound).
MAX_VALUES = 10_000
# Options of Django's PostgreSQL backend that are not psycopg connection parameters.
BACKEND_ONLY_OPTIONS = frozenset({"server_side_binding", "isolation_level", "assume_role",
                                  "pool"})

T = TypeVar("T")


class _Listener:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.generations: dict[str, int] = dict.fromkeys(TABLES, 0)
        self.listening = False
        self.thread: threading.Thread | None = None
        self.stopping = threading.Event()

    def generation(self, table: str) -> int | None:
        """The table's generation, or None while changes could go unheard."""
        if not self.listening:
            self.start()
            return None
        return self.generations[table]

    def move(self, *tables: str) -> None:
        with self.lock:
            for table in tables or TABLES:
                self.generations[table] += 1

    def start(self) -> None:
        with self.lock:
            if self.thread is not None and self.thread.is_alive():
                return
            self.stopping.clear()
            self.thread = threading.Thread(target=self._run, args=(_connect_arguments(),),
                                           name="refunddesk-invalidation", daemon=True)
            self.thread.start()

    def stop(self) -> None:
        self.stopping.set()
        thread = self.thread
        if thread is not None:
            thread.join(timeout=2 * POLL_SECONDS)
        self.thread = None
        self.listening = False
        self.move()

    def _run(self, arguments: dict[str, Any]) -> None:
        import psycopg

        pause = 1.0
        while not self.stopping.is_set():
            try:
                with psycopg.connect(**arguments, autocommit=True) as listen:
                    listen.execute(f"LISTEN {CHANNEL}")
                    # Whatever was read before this moment may have missed a notice.
                    self.move()
                    self.listening = True
                    pause = 1.0
                    while not self.stopping.is_set():
                        for notice in listen.notifies(timeout=POLL_SECONDS):
                            if notice.payload in self.generations:
                                self.move(notice.payload)
                            else:
                                self.move()
                        listen.execute("SELECT 1")  # a dead connection fails here
            except Exception:  # any failure: stop keeping, then listen again
                if not self.stopping.is_set():
                    log.warning("cache invalidation: lost the listening connection; "
                                "reading the database until it is back", exc_info=True)
            finally:
                self.listening = False
                self.move()
            self.stopping.wait(pause)
            pause = min(pause * 2, 30.0)


def _connect_arguments() -> dict[str, Any]:
    """psycopg's connection parameters for the database Django uses now (the test database
    under the test suite)."""
    config = connection.settings_dict
    arguments = {"dbname": config["NAME"], "user": config["USER"],
                 "password": config["PASSWORD"], "host": config["HOST"],
                 "port": config["PORT"]}
    options = {name: value for name, value in (config.get("OPTIONS") or {}).items()
               if name not in BACKEND_ONLY_OPTIONS}
    return {name: value for name, value in {**arguments, **options}.items()
            if value not in (None, "")}


_listener = _Listener()
_values: dict[tuple[str, Hashable], tuple[int, Any]] = {}
_local = threading.local()


def _dirty() -> set[str]:
    """Tables this thread's transaction wrote; forgotten once no transaction is open."""
    dirty: set[str] = getattr(_local, "dirty", set())
    if dirty and not connection.in_atomic_block:
        dirty = set()
    _local.dirty = dirty
    return dirty


def is_on() -> bool:
    return bool(getattr(settings, "REFUNDDESK_PROCESS_CACHE", True)) \
        and connection.vendor == "postgresql"


def kept(table: str, key: Hashable, read: Callable[[], T]) -> T:
    """`read()`'s value for `key` of `table`, kept in this process until the table changes."""
    if not is_on() or table in _dirty():
        return read()
    generation = _listener.generation(table)
    if generation is None:
        return read()
    found = _values.get((table, key))
    if found is not None and found[0] == generation:
        return found[1]  # type: ignore[no-any-return]
    value = read()
    if _listener.generation(table) == generation:
        if len(_values) >= MAX_VALUES:
            _values.clear()
        _values[(table, key)] = (generation, value)
    return value


def written(table: str) -> None:
    """The caller's transaction changes `table`: it reads the database for it until the
    transaction ends, and this process forgets its values at commit."""
    if connection.in_atomic_block:
        _dirty().add(table)
    transaction.on_commit(lambda: _listener.move(table))


def forget() -> None:
    """Every kept value (tests; a process that must start afresh)."""
    _values.clear()
    _listener.move()


def stop_listening() -> None:
    """Close the listening connection (before a test database is dropped)."""
    _listener.stop()


def is_listening() -> bool:
    return _listener.listening
