"""Payout throughput: `payouts_per_second` executed by real `refunddesk worker` processes
against the sandbox gateway, and `payout_duplicates` counted in the sandbox's own books in
the same run (target: at least 500 a second, and zero).

Each payout is taken, sent to the sandbox (which settles at once), recorded, and its case
moved to refunded with its events and its "paid" e-mail queued (mail goes to a dummy
backend). The payouts are seeded due a few seconds ahead so the workers have started when
the clock starts; the clock stops at the last payout's record.

SQLite (a file of its own) with one and with two workers; PostgreSQL too when
BENCH_DATABASE_URL names an empty database this benchmark may fill.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

COUNT = int(os.environ.get("BENCH_PAYOUTS", "5000"))
DUE_IN = 4.0
REFUNDDESK = [sys.executable, "-m", "refunddesk.cli"]


def environment(database_url: str, directory: Path) -> dict[str, str]:
    return {**os.environ, "DATABASE_URL": database_url,
            "REFUNDDESK_SANDBOX_LEDGER": str(directory / "sandbox.sqlite3"),
            "REFUNDDESK_SANDBOX_SETTLE_SECONDS": "0",
            "REFUNDDESK_PAYOUT_POLL_SECONDS": "0.05",
            "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
            "DJANGO_SETTINGS_MODULE": "refunddesk.settings"}


def refunddesk(env: dict[str, str], *arguments: str) -> str:
    result = subprocess.run([*REFUNDDESK, *arguments], env=env, capture_output=True, text=True)
    if result.returncode:
        sys.exit(f"refunddesk {' '.join(arguments)} failed:\n{result.stderr[-3000:]}")
    return result.stdout


def connect(database_url: str):
    """A plain DB-API connection: polling through Django would take a core of its own."""
    if database_url.startswith("sqlite:///"):
        return sqlite3.connect(database_url.removeprefix("sqlite:///"), timeout=30)
    import psycopg

    return psycopg.connect(database_url)


def poll(database_url: str) -> int:
    with connect(database_url) as db:
        return db.execute("SELECT count(*) FROM payouts_payout WHERE state NOT IN "
                          "('succeeded', 'failed')").fetchone()[0]


def outcome(database_url: str) -> tuple[datetime, dict[str, str]]:
    with connect(database_url) as db:
        last = db.execute("SELECT max(updated_at) FROM payouts_payout").fetchone()[0]
        paid = {f"refunddesk-payout-{pk}": refund_id for pk, refund_id in db.execute(
            "SELECT id, gateway_refund_id FROM payouts_payout WHERE state = 'succeeded' "
            "AND gateway = 'sandbox'")}
    if isinstance(last, str):
        last = datetime.fromisoformat(last.replace(" ", "T"))
    if last.tzinfo is None:
        last = last.replace(tzinfo=UTC)
    return last, paid


def run(label: str, database_url: str, workers: int, directory: Path) -> tuple[float, int]:
    env = environment(database_url, directory)
    refunddesk(env, "migrate", "-v0")
    seeded = refunddesk(env, "seed_payouts", "--count", str(COUNT), "--due-in", str(DUE_IN))
    due = datetime.fromisoformat(seeded.rsplit(" ", 1)[1].strip())
    processes = [subprocess.Popen([*REFUNDDESK, "worker", "--sweep-seconds", "0", "-v0"],
                                  env=env, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL) for _ in range(workers)]
    try:
        while poll(database_url):
            time.sleep(0.5)
    finally:
        for process in processes:
            process.terminate()
            process.wait()
    last, paid = outcome(database_url)
    seconds = (last - due).total_seconds()
    with sqlite3.connect(directory / "sandbox.sqlite3") as ledger:
        refunds = list(ledger.execute("SELECT idempotency_key, id FROM refunds"))
    # A duplicate is money sent twice: a refund at the sandbox beyond one per payout, or a
    # refund no payout of ours accounts for.
    duplicates = len(refunds) - len(paid) + sum(
        1 for key, refund_id in refunds if paid.get(key) != refund_id)
    rate = COUNT / seconds
    print(f"# {label}, {workers} worker(s): {COUNT} payouts in {seconds:.2f} s, "
          f"{rate:.0f}/s, duplicates {duplicates}")
    return rate, duplicates


def main() -> None:
    results = []
    for workers in (1, 2):
        directory = Path(tempfile.mkdtemp(prefix="refunddesk-bench-payouts-"))
        try:
            url = f"sqlite:///{directory / 'refunddesk.sqlite3'}"
            results.append(run("SQLite", url, workers, directory))
        finally:
            shutil.rmtree(directory, ignore_errors=True)
    if os.environ.get("BENCH_DATABASE_URL"):
        directory = Path(tempfile.mkdtemp(prefix="refunddesk-bench-payouts-"))
        try:
            results.append(run("PostgreSQL", os.environ["BENCH_DATABASE_URL"], 2, directory))
        finally:
            shutil.rmtree(directory, ignore_errors=True)
    print(f"payouts_per_second: {max(rate for rate, _ in results):.0f}")
    print(f"payout_duplicates: {sum(duplicates for _, duplicates in results)}")


if __name__ == "__main__":
    main()
