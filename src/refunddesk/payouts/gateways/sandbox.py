"""The sandbox gateway: a payment provider that lives on this machine, for the demo, the
tests and the benchmark.

It behaves like a real one where it matters. Its ledger is its own SQLite file, written in
its own transactions, so a refund it accepted stays accepted when our side crashes before
recording it, exactly as at a real provider. Refunds are keyed by the idempotency key: a
repeated request returns the refund already made (and counts the request), so paying twice
would show up as two refunds of one payout. Refunds settle after a delay per payment method.

It fails on request, by a word in the original payment's reference (like a provider's test
card numbers): `expired_card` (the refund fails for good), `balance_low` (the merchant's
balance is too low: the refund stays pending), `timeout` (the first request is accepted but
its answer never arrives: our side sees the outcome as unknown).
"""

from __future__ import annotations

import secrets
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from refunddesk.payouts.gateways.base import (
    Gateway,
    OutcomeUnknown,
    RefundRequest,
    RefundStatus,
    RetryableError,
)

SCHEMA = """
CREATE TABLE IF NOT EXISTS refunds (
    id TEXT PRIMARY KEY,
    idempotency_key TEXT NOT NULL UNIQUE,
    charge TEXT NOT NULL,
    method TEXT NOT NULL,
    amount INTEGER NOT NULL,
    currency TEXT NOT NULL,
    created_at REAL NOT NULL,
    settles_at REAL NOT NULL,
    requests INTEGER NOT NULL DEFAULT 1
);
"""

EXPIRED_CARD, BALANCE_LOW, TIMEOUT = "expired_card", "balance_low", "timeout"


@dataclass(frozen=True)
class LedgerRefund:
    id: str
    idempotency_key: str
    charge: str
    method: str
    amount: int
    currency: str
    created_at: float
    settles_at: float
    requests: int


class SandboxLedger:
    """The sandbox provider's books. One connection per thread; WAL, so several worker
    processes share it like clients of one provider."""

    def __init__(self, path: str | Path):
        self.path = str(path)
        self.local = threading.local()
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self.connection().execute(SCHEMA)

    def connection(self) -> sqlite3.Connection:
        db = getattr(self.local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=30, isolation_level=None,
                                 check_same_thread=False)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            self.local.db = db
        return db

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        db = self.connection()
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def create(self, key: str, charge: str, method: str, amount: int, currency: str,
               now: float, settles_at: float) -> tuple[LedgerRefund, bool]:
        """The refund for `key`, made now unless it exists; and whether it was made now."""
        with self.transaction() as db:
            row = db.execute("SELECT * FROM refunds WHERE idempotency_key = ?",
                             (key,)).fetchone()
            if row is not None:
                db.execute("UPDATE refunds SET requests = requests + 1 "
                           "WHERE idempotency_key = ?", (key,))
                return replace(LedgerRefund(*row), requests=row[8] + 1), False
            refund = LedgerRefund("sbre_" + secrets.token_hex(8), key, charge, method,
                                  amount, currency, now, settles_at, 1)
            db.execute("INSERT INTO refunds VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       (refund.id, key, charge, method, amount, currency, now, settles_at, 1))
            return refund, True

    def find(self, refund_id: str = "", key: str = "") -> LedgerRefund | None:
        row = self.connection().execute(
            "SELECT * FROM refunds WHERE id = ? OR idempotency_key = ?",
            (refund_id, key)).fetchone()
        return LedgerRefund(*row) if row else None

    def refunds(self) -> list[LedgerRefund]:
        return [LedgerRefund(*row) for row in
                self.connection().execute("SELECT * FROM refunds ORDER BY created_at, id")]

    def clear(self) -> None:
        with self.transaction() as db:
            db.execute("DELETE FROM refunds")


_ledgers: dict[str, SandboxLedger] = {}
_ledgers_lock = threading.Lock()


def ledger_at(path: str | Path) -> SandboxLedger:
    with _ledgers_lock:
        key = str(path)
        if key not in _ledgers:
            _ledgers[key] = SandboxLedger(key)
        return _ledgers[key]


class SandboxGateway(Gateway):
    def __init__(self, name: str, *, ledger: str | Path, settle_after: dict[str, float]
                 | None = None, clock: Callable[[], float] = time.time, **options: Any):
        super().__init__(name, **options)
        self.ledger = ledger_at(ledger)
        # Seconds from the refund to its arrival, per payment method ("default" for the
        # rest): cards take longer than wallets, as at real providers.
        self.settle_after = settle_after or {}
        self.clock = clock

    def _delay(self, method: str) -> float:
        return float(self.settle_after.get(method, self.settle_after.get("default", 0)))

    def _status(self, refund: LedgerRefund) -> RefundStatus:
        charge = refund.charge
        if BALANCE_LOW in charge or self.clock() < refund.settles_at:
            return RefundStatus("submitted", refund.id)
        if EXPIRED_CARD in charge:
            return RefundStatus("failed", refund.id, "expired_card",
                                "The card has expired; the refund cannot reach it.")
        return RefundStatus("succeeded", refund.id,
                            settled_at=datetime.fromtimestamp(refund.settles_at, UTC))

    def refund(self, request: RefundRequest) -> RefundStatus:
        now = self.clock()
        refund, is_new = self.ledger.create(
            request.idempotency_key, request.payment_reference or f"payment-{request.payout_id}",
            request.method, request.amount_minor, request.currency, now,
            now + self._delay(request.method))
        if is_new and TIMEOUT in refund.charge:
            raise OutcomeUnknown("timeout", "the sandbox accepted the refund but its answer "
                                 "did not arrive in time")
        return self._status(refund)

    def fetch(self, request: RefundRequest) -> RefundStatus:
        refund = self.ledger.find(request.refund_id, request.idempotency_key)
        if refund is None:
            raise RetryableError("resource_missing", "the sandbox has no such refund")
        return self._status(refund)
