"""Crash safety: real `refunddesk worker` processes paying 1,000 approved payouts through
the sandbox gateway are killed with SIGKILL at random moments and started again. However
the kills fall, every payout is paid exactly once by the sandbox's own books, and no case
is left behind.

The database is a SQLite file of its own (the test's processes cannot share pytest's
in-memory database), checked with plain sqlite3 at the end, so what is checked is what the
processes left on disk.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = [
    pytest.mark.slow,
    # The processes use a SQLite file of their own whatever the suite runs on; running it a
    # second time in the PostgreSQL run would prove nothing more (test_two_workers.py is
    # the PostgreSQL side).
    pytest.mark.skipif(os.environ.get("DATABASE_URL", "").startswith("postgres"),
                       reason="runs on its own SQLite file, in the SQLite run"),
]

COUNT = 1000
REFUNDDESK = [sys.executable, "-m", "refunddesk.cli"]


def environment(directory: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{directory / 'refunddesk.sqlite3'}",
        "REFUNDDESK_SANDBOX_LEDGER": str(directory / "sandbox.sqlite3"),
        # Refunds take half a second to arrive: each payout is sent, then checked again.
        "REFUNDDESK_SANDBOX_SETTLE_SECONDS": "0.5",
        "REFUNDDESK_PAYOUT_POLL_SECONDS": "0.05",
        "REFUNDDESK_PAYOUT_LEASE_SECONDS": "1",
        "REFUNDDESK_PAYOUT_RETRY_SECONDS": "0.2",
        # Small batches: more moments at which a kill falls between two steps.
        "REFUNDDESK_PAYOUT_BATCH": "50",
        "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
        "DJANGO_SETTINGS_MODULE": "refunddesk.settings",
    }


def refunddesk(directory: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([*REFUNDDESK, *arguments], env=environment(directory),
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return result


@pytest.fixture(scope="module")
def migrated(tmp_path_factory) -> Path:
    """A migrated database file, copied for each seed (migrating takes longer than a seed)."""
    directory = tmp_path_factory.mktemp("crash-template")
    refunddesk(directory, "migrate", "-v0")
    with sqlite3.connect(directory / "refunddesk.sqlite3") as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return directory / "refunddesk.sqlite3"


def in_motion(database: Path) -> int:
    with sqlite3.connect(database, timeout=30) as db:
        return db.execute("SELECT count(*) FROM payouts_payout WHERE state NOT IN "
                          "('succeeded', 'failed')").fetchone()[0]


def kill_workers_at_random(directory: Path, rng: random.Random, rounds: int) -> int:
    """Start one or two workers, SIGKILL them at a random moment, again and again, while
    there is work."""
    kills = 0
    for _ in range(rounds):
        if not in_motion(directory / "refunddesk.sqlite3"):
            break
        workers = [subprocess.Popen([*REFUNDDESK, "worker", "--sweep-seconds", "0", "-v0"],
                                    env=environment(directory), stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
                   for _ in range(rng.choice((1, 1, 2)))]
        time.sleep(rng.uniform(0.7, 1.6))  # start-up takes most of a second
        for worker in workers:
            worker.send_signal(signal.SIGKILL)
            worker.wait()
            kills += 1
    return kills


def finish(directory: Path) -> None:
    """Workers run to the end: what the killed ones held comes free after its lease."""
    database = directory / "refunddesk.sqlite3"
    for _ in range(60):
        if not in_motion(database):
            return
        time.sleep(1.1)  # past the lease of anything a killed worker held
        refunddesk(directory, "worker", "--batch", "--no-startup-delay", "--sweep-seconds",
                   "0", "-v0")
    pytest.fail(f"{in_motion(database)} payouts still in motion")


@pytest.mark.parametrize("seed", [11, 23, 42])
def test_workers_killed_at_random_moments_pay_every_payout_exactly_once(seed, migrated,
                                                                      tmp_path):
    # given 1,000 approved payouts, every 25th one timing out after the sandbox made it
    shutil.copy(migrated, tmp_path / "refunddesk.sqlite3")
    refunddesk(tmp_path, "seed_payouts", "--count", str(COUNT), "--timeout-every", "25")

    # when workers are killed at random moments (up to ten times), then run to the end
    kills = kill_workers_at_random(tmp_path, random.Random(seed), rounds=10)
    finish(tmp_path)

    # then by the sandbox's books each payout was refunded exactly once, for its amount
    with sqlite3.connect(tmp_path / "refunddesk.sqlite3") as db:
        payouts = {f"refunddesk-payout-{pk}": (amount, refund_id) for pk, amount, refund_id in
                   db.execute("SELECT id, amount_minor, gateway_refund_id FROM payouts_payout "
                              "WHERE state = 'succeeded'")}
        states = dict(db.execute("SELECT state, count(*) FROM payouts_payout GROUP BY state"))
        cases = dict(db.execute("SELECT state, count(*) FROM cases_refundcase "
                                "GROUP BY state"))
    with sqlite3.connect(tmp_path / "sandbox.sqlite3") as ledger:
        refunds = list(ledger.execute("SELECT idempotency_key, amount, id FROM refunds"))
    assert kills >= 1
    assert states == {"succeeded": COUNT}
    assert len(refunds) == COUNT
    assert {key: (amount, refund_id) for key, amount, refund_id in refunds} == payouts

    # and every case reached the end: refunded, none stuck approved or paying
    assert cases == {"refunded": COUNT}


MIX = 240  # a quarter each: Alipay, WeChat Pay, PayPal (their stand-ins) and the sandbox
LOST_ANSWER = {"alipay": "system_error_after_refund", "wechat_pay": "system_error_after_refund",
               "paypal": "error_500_after_refund"}


def test_workers_killed_at_random_pay_every_payout_of_every_provider_exactly_once(migrated,
                                                                                 tmp_path):
    from tests.payouts.alipay_standin import AlipayStandIn
    from tests.payouts.paypal_standin import PayPalStandIn
    from tests.payouts.wechat_pay_standin import WeChatPayStandIn

    with AlipayStandIn() as alipay, WeChatPayStandIn() as wechat, PayPalStandIn() as paypal:
        # given approved payouts to four providers, every tenth answer lost after the
        # provider made the refund (the worker must ask, then never pay twice)
        shutil.copy(migrated, tmp_path / "refunddesk.sqlite3")
        keys = tmp_path / "keys"
        keys.mkdir()
        extra = {**alipay.environment(keys), **wechat.environment(keys),
                 **paypal.environment(keys),
                 "ALIPAY_CALLS_PER_SECOND": "500", "WECHATPAY_CALLS_PER_SECOND": "500",
                 "PAYPAL_CALLS_PER_SECOND": "500"}
        with pytest.MonkeyPatch.context() as patch:
            for name, value in extra.items():
                patch.setenv(name, value)
            refunddesk(tmp_path, "seed_payouts", "--count", str(MIX), "--gateways",
                       "alipay,wechat_pay,paypal,sandbox")
            standins = {"alipay": alipay, "wechat_pay": wechat, "paypal": paypal}
            with sqlite3.connect(tmp_path / "refunddesk.sqlite3") as db:
                rows = list(db.execute(
                    "SELECT p.id, p.gateway, m.reference, p.amount_minor FROM payouts_payout p "
                    "JOIN billing_payment m ON m.id = p.payment_id ORDER BY p.id"))
            for number, (_, name, reference, amount) in enumerate(rows):
                if name in standins:
                    behaviour = LOST_ANSWER[name] if number % 10 == 0 else "succeed"
                    standins[name].add_payment(reference, amount, currency="CNY",
                                               behaviour=behaviour)

            # when workers are killed at random moments, then run to the end
            kills = kill_workers_at_random(tmp_path, random.Random(7), rounds=8)
            finish(tmp_path)

        # then every payout succeeded, each provider made exactly one refund per payout
        # for its amount, and every case is refunded
        with sqlite3.connect(tmp_path / "refunddesk.sqlite3") as db:
            states = dict(db.execute("SELECT state, count(*) FROM payouts_payout "
                                     "GROUP BY state"))
            cases = dict(db.execute("SELECT state, count(*) FROM cases_refundcase "
                                    "GROUP BY state"))
        assert kills >= 1
        assert states == {"succeeded": MIX}
        assert cases == {"refunded": MIX}
        expected = {name: {f"refunddesk-payout-{pk}": amount for pk, gateway, _, amount in rows
                           if gateway == name} for name in standins}
        assert {refund.out_request_no: refund.amount_minor
                for refund in alipay.refunds.values()} == expected["alipay"]
        assert all(count == 1 for count in alipay.refunds_made.values())
        assert {key: refund["amount"]["refund"] for key, refund in wechat.refunds.items()
                } == expected["wechat_pay"]
        assert all(count == 1 for count in wechat.refunds_made.values())
        assert {key: count for key, count in paypal.refunds_made_by_key.items()} == {
            key: 1 for key in expected["paypal"]}
