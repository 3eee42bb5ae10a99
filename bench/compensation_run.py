"""A mass compensation run on PostgreSQL: how many cases a run opens per second.

Seeds COMPENSATION_BENCH_CUSTOMERS customers (default 5,000) in bulk, each with one server
line of the example order's shape (960.00 CNY for a year, paid by Alipay through the
sandbox) whose service was active during a three-day outage; two admins plan and approve a
refund of the affected time (the dry run is worked out and stored as the run's items, not
timed), then the clock runs while the run's task compensates every customer as a worker
would: per customer one transaction that locks the run and the lines, opens the approved
bulk case with its lines, events and planned payout, queues the customer's e-mail, and
marks the line done.

  compensation_cases_per_second   cases opened per second by the run

PostgreSQL only: PG_TEST_URL or DATABASE_URL names the server, and the figure is measured
in a throw-away test database on it (test_<its name>_compensation); without one the
benchmark says so on stderr and prints nothing. `measure_compensation(count)` is the
measurement alone, for a caller that has set Django up on a database it may fill
(bench_policy_lab.py, which `make bench` runs; this file
runs on its own too): `with throwaway_database(): measure_compensation(count)`.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

OUTAGE_DAYS = 3
BATCH = 2000


def main() -> None:
    count = int(os.environ.get("COMPENSATION_BENCH_CUSTOMERS", "5000"))
    pg_url = next((url for url in (os.environ.get("PG_TEST_URL", ""),
                                   os.environ.get("DATABASE_URL", ""))
                   if url.startswith(("postgres://", "postgresql://"))), "")
    if not pg_url:
        print("compensation_run: skipped, PG_TEST_URL or DATABASE_URL must name a "
              "PostgreSQL server", file=sys.stderr)
        return
    with tempfile.TemporaryDirectory() as workdir:
        # The sandbox's ledger and the secret key a fresh setup writes stay in here.
        os.environ["REFUNDDESK_VAR_DIR"] = workdir
        os.environ["DATABASE_URL"] = pg_url
        os.environ["DJANGO_SETTINGS_MODULE"] = "refunddesk.settings"
        import django

        django.setup()
        with throwaway_database():
            rate = measure_compensation(count)
    print(f"compensation_cases_per_second: {rate:.0f}", flush=True)


@contextlib.contextmanager
def throwaway_database() -> Iterator[None]:
    """A migrated test database of its own on the configured PostgreSQL server, dropped at
    the end (Django must be set up)."""
    from django.db import connection
    from django.test.utils import setup_databases, teardown_databases

    if connection.vendor != "postgresql":
        sys.exit(f"compensation_run: expected PostgreSQL, got {connection.vendor}")
    test = connection.settings_dict["TEST"]
    test["NAME"] = test.get("NAME") or f"test_{connection.settings_dict['NAME']}_compensation"
    with contextlib.redirect_stdout(sys.stderr):  # "Cache table … already exists."
        names = setup_databases(verbosity=0, interactive=False, keepdb=False,
                                serialized_aliases=set())
    try:
        yield
    finally:
        teardown_databases(names, verbosity=0)


def measure_compensation(count: int) -> float:
    """Cases opened per second by a run over `count` customers with one affected line each,
    seeded here (into a database the caller may let this fill)."""
    from django.db import connection

    from refunddesk.compensation import actions
    from refunddesk.compensation.models import CompensationRun
    from refunddesk.compensation.remedies import Remedy, Window
    from refunddesk.compensation.running import run_compensation
    from refunddesk.compensation.selection import Selection

    now = datetime.now(UTC)
    outage = Window(now - timedelta(days=OUTAGE_DAYS + 1), now - timedelta(days=1))
    product = seed(count, now, outage)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    creator, approver = admins()
    run = actions.create_run(actions.RunSpec(Selection(products=(product,)), outage,
                                             Remedy("refund_time")), actor=creator)
    run = actions.dry_run(run, actor=creator)
    if run.figures["cases"] != count:
        sys.exit(f"compensation_run: the dry run found {run.figures['cases']} cases, "
                 f"expected {count}")
    run = actions.approve(run, actor=approver, seen=actions.stamp(run))
    actions.start(run, actor=approver)
    started = time.perf_counter()
    outcome = run_compensation.call(run.pk)
    elapsed = time.perf_counter() - started
    run = CompensationRun.objects.get(pk=run.pk)
    if outcome != "finished" or run.cases_opened != count:
        sys.exit(f"compensation_run: the run {outcome} with {run.cases_opened} of {count} "
                 f"cases")
    return run.cases_opened / elapsed


def admins() -> tuple[object, object]:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from refunddesk.core.staff import ensure_role_groups

    ensure_role_groups()
    made = []
    for name in ("bench-admin", "bench-admin2"):
        user = get_user_model().objects.create_user(name, email=f"{name}@bench.example",
                                                    is_staff=True)
        user.groups.add(Group.objects.get(name="admin"))
        made.append(user)
    return made[0], made[1]


def seed(count: int, now: datetime, outage: object) -> str:
    """`count` accounts, each with one order of one server line running a year from a month
    ago and one Alipay payment through the sandbox; the product's code."""
    from django.db import transaction

    from refunddesk.billing.models import Account, Order, OrderLine, Payment, Product

    product, _ = Product.objects.update_or_create(code="bench-cvm", defaults=dict(
        category="cloud_server", name_zh="云服务器（基准）", name_en="Cloud server (bench)",
        policy_id="tencent-cloud"))
    start = now - timedelta(days=30)
    for first in range(0, count, BATCH):
        numbers = range(first, min(count, first + BATCH))
        with transaction.atomic():
            accounts = Account.objects.bulk_create(
                Account(external_id=f"bench-acct-{n}", email=f"bench-{n}@example.com",
                        name=f"Bench {n}", created_at=start) for n in numbers)
            orders = Order.objects.bulk_create(
                Order(external_id=f"BENCH-COMP-{n}", account=account, kind="new",
                      channel="direct", placed_at=start, currency="CNY")
                for n, account in zip(numbers, accounts, strict=True))
            OrderLine.objects.bulk_create(
                OrderLine(order=order, line_id="1", sku="cvm.s5.medium", product=product,
                          billing="prepaid", term_unit="year", term_count=1,
                          service_start=start, service_end=start + timedelta(days=365),
                          list_price_minor=96000, amount_paid_minor=96000)
                for order in orders)
            Payment.objects.bulk_create(
                Payment(order=order, payment_id="P1", method="alipay", funding="cash",
                        amount_minor=96000, paid_at=start, gateway="sandbox",
                        reference=f"BENCH{n:010d}")
                for n, order in zip(numbers, orders, strict=True))
    return product.code


if __name__ == "__main__":
    main()
