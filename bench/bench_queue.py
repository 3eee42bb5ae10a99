"""The console queue with a million cases: how long one page, a search and the counts take.

Seeds QUEUE_BENCH_CASES cases (default 1,000,000) into a fresh SQLite file, mostly
finished ones with the recent few percent still open, as a desk that has run for two
years looks, from a third as many customers (Chinese and Latin names, e-mails, phones as
the demo makes them), then times the queries the queue page runs (median of several runs,
in ms):

  queue_default_page_ms    the default view (open cases, SLA due first, then oldest)
  queue_first_page_ms      open cases, newest first, page one
  queue_deep_page_ms       the same view 60,000 rows deep, through a keyset cursor
  queue_filtered_page_ms   in review or submitted, e-mail, product vpn, overdue, by SLA due
  queue_all_states_page_ms every state, oldest first, half-way through the table
  queue_counts_ms          the counts per state (one GROUP BY) and the "my cases" count
  queue_total_ms           the total of matching cases under the pager ("1–50 of …")
  queue_search_<what>_ms   a search as the page runs it (page and counts) by a Chinese
                           name ("周平"), a Latin name ("Sophia"), part of an e-mail
                           ("zhou.ping38"), part of a phone ("138 0013"), an order id and a
                           tracking number typed without hyphens

With PG_TEST_URL (or DATABASE_URL) naming a PostgreSQL server, the same figures follow with
a `_pg` suffix, measured in a throw-away test database on that server (test_<its name>).
QUEUE_BENCH_BACKEND=pg runs only that part; QUEUE_BENCH_KEEP=1 keeps its seeded database
and reuses it on the next run (for working on the queries, not for comparing runs).
"""

from __future__ import annotations

import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

NOW = datetime(2026, 6, 1, 4, 0, tzinfo=UTC)
OPEN_SHARE = 0.08  # the newest 8% of cases are still being worked
AGENTS = 20
CASES_PER_ACCOUNT = 3
# The customers the searches look for, among the generated ones.
ZHOU_PING = ("周平", "zhou.ping38@example.com", "+86 138 0013 8038")
CHUNK = 20_000
RUNS = 9


def main() -> None:
    count = int(os.environ.get("QUEUE_BENCH_CASES", "1000000"))
    if os.environ.get("QUEUE_BENCH_BACKEND") == "pg":
        run_postgresql(count)
        return
    pg_url = next((url for url in (os.environ.get("PG_TEST_URL", ""),
                                   os.environ.get("DATABASE_URL", ""))
                   if url.startswith(("postgres://", "postgresql://"))), "")
    with tempfile.TemporaryDirectory() as workdir:
        os.environ["REFUNDDESK_VAR_DIR"] = workdir
        os.environ["DATABASE_URL"] = f"sqlite:///{Path(workdir) / 'bench.sqlite3'}"
        os.environ["DJANGO_SETTINGS_MODULE"] = "refunddesk.settings"
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        seed(count)
        report(measure(), suffix="")
    if pg_url:
        env = {**os.environ, "QUEUE_BENCH_BACKEND": "pg", "DATABASE_URL": pg_url}
        subprocess.run([sys.executable, __file__], env=env, check=True)


def run_postgresql(count: int) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "refunddesk.settings"
    import django

    django.setup()
    from django.db import connection
    from django.test.utils import setup_databases, teardown_databases

    if connection.vendor != "postgresql":
        sys.exit(f"bench_queue: expected PostgreSQL, got {connection.vendor}")
    from refunddesk.cases.models import RefundCase

    keep = os.environ.get("QUEUE_BENCH_KEEP") == "1"
    # Nothing to serialise: the benchmark runs no TransactionTestCase (a kept million-case
    # database would otherwise be read into memory first).
    names = setup_databases(verbosity=0, interactive=False, keepdb=keep,
                            serialized_aliases=set())
    try:
        if not (keep and RefundCase.objects.exists()):
            seed(count)
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE")
        report(measure(), suffix="_pg")
    finally:
        if not keep:
            teardown_databases(names, verbosity=0)


# -- seeding ------------------------------------------------------------------------------

OPEN_MIX = [("submitted", 15), ("in_review", 45), ("awaiting_customer", 18), ("appealed", 4),
            ("approved", 6), ("paying", 9), ("payout_failed", 3)]
DONE_MIX = [("refunded", 78), ("closed", 8), ("withdrawn", 6), ("rejected", 8)]
CHANNELS = [("portal", 60), ("email", 20), ("agent", 10), ("api", 10)]
CLOCK_STATES = {"submitted", "in_review", "appealed"}
TRACKING_NUMBER = "K7QH-3M9T-XWX"


def _picker(mix: list[tuple[str, int]]):
    values = [value for value, weight in mix for _ in range(weight)]
    return lambda rng: values[rng.randrange(len(values))]


def seed(count: int) -> None:
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction

    from refunddesk.billing.demo.people import People
    from refunddesk.billing.models import Account, Order, OrderLine, Product
    from refunddesk.cases.models import CaseLine, RefundCase

    started = time.perf_counter()
    staff = get_user_model()
    agents = [staff.objects.create_user(f"bench-agent-{n}", is_staff=True).pk
              for n in range(AGENTS)]
    products = [Product.objects.update_or_create(code=code, defaults=dict(
        category=category, name_zh=code, name_en=code, policy_id="tencent-cloud"))[0]
        for code, category in (("cvm", "cloud_server"), ("vpn", "vpn"))]
    created = NOW - timedelta(days=900)
    people = People(random.Random(38))
    account_count = max(1000, count // CASES_PER_ACCOUNT)

    def person(n: int) -> Account:
        if n == account_count // 2:
            name, email, phone = ZHOU_PING
        else:
            made = people.make(f"bench-acct-{n}", is_chinese=n % 10 < 7)
            name, email, phone = made.name, made.email, made.phone
        return Account(external_id=f"bench-acct-{n}", email=email, name=name, phone=phone,
                       created_at=created)

    accounts = Account.objects.bulk_create((person(n) for n in range(account_count)),
                                           batch_size=5000)
    orders = Order.objects.bulk_create(
        (Order(external_id=f"TC-20250101-{n:07d}", account=account, kind="new",
               channel="direct", placed_at=created, currency="CNY")
         for n, account in enumerate(accounts)), batch_size=5000)
    lines = OrderLine.objects.bulk_create(
        (OrderLine(order=order, line_id=str(position + 1), position=position,
                   sku=product.code, product=product, billing="prepaid", term_unit="year",
                   term_count=1, list_price_minor=100000, amount_paid_minor=100000)
         for order in orders for position, product in enumerate(products)), batch_size=5000)
    # The order's cvm line and its vpn line, by order index.
    line_of = {(line.order_id, line.product_id): line.pk for line in lines}

    case_fields = [f for f in RefundCase._meta.concrete_fields if not f.primary_key]
    columns = [f.column for f in case_fields]
    variable = {"tracking_number", "account_id", "order_id", "channel", "state", "currency",
                "assessed_total_minor", "assignee_id", "sla_due_at", "sla_paused_at",
                "escalated_at", "proposal", "submitted_at", "updated_at",
                "first_response_due", "review_due", "approved_total_minor"}
    constants = {}
    for f in case_fields:
        if f.column in variable:
            continue
        value = f.get_default() if f.has_default() else (None if f.null else "")
        if f.column == "policy_ref":
            value = "tencent-cloud@1"
        elif f.column == "assessment":
            value = {}
        elif f.column == "language":
            value = "zh-hans"
        constants[f.column] = f.get_db_prep_save(value, connection)
    by_column = {f.column: f for f in case_fields}
    proposal = by_column["proposal"].get_db_prep_save({"total": 1, "amounts": {}}, connection)
    adapt = connection.ops.adapt_datetimefield_value
    table = RefundCase._meta.db_table
    placeholders = ", ".join(["%s"] * len(columns))
    insert_case = (f"INSERT INTO {table} ({', '.join(columns)}, id) "
                   f"VALUES ({placeholders}, %s)")
    line_table = CaseLine._meta.db_table
    insert_line = (f"INSERT INTO {line_table} (case_id, order_line_id, rule, excluded_reason, "
                   "assessed_minor, approved_minor, holds_line) "
                   "VALUES (%s, %s, %s, '', %s, NULL, %s)")

    # Building the indexes once after the rows is much faster than keeping them current
    # through a million inserts (SQLite; PostgreSQL keeps them, its insert is quicker).
    rebuild = _drop_indexes(connection, [table, line_table])

    rng = random.Random(2026)
    open_state, done_state, channel = _picker(OPEN_MIX), _picker(DONE_MIX), _picker(CHANNELS)
    span = timedelta(days=730)
    first_open = int(count * (1 - OPEN_SHARE))
    rules = ["five_day_no_reason", "normal_refund", "partial_refund", "money_back"]
    vpn, cvm = products[1].pk, products[0].pk
    order_ids = [order.pk for order in orders]
    account_of = {order.pk: order.account_id for order in orders}
    with transaction.atomic():
        cursor = connection.cursor()
        for start in range(0, count, CHUNK):
            case_rows, line_rows = [], []
            for n in range(start, min(count, start + CHUNK)):
                case_id = n + 1
                submitted = NOW - span + span * (n / count) + timedelta(
                    seconds=rng.randrange(-3600, 3600))
                is_open = n >= first_open or rng.random() < 0.002
                state = open_state(rng) if is_open else done_state(rng)
                due = paused = escalated = waiting = None
                if state in CLOCK_STATES:
                    due = submitted + timedelta(days=2, hours=rng.randrange(0, 48))
                    if state == "in_review" and rng.random() < 0.03:
                        escalated = adapt(due)
                    if state == "in_review" and rng.random() < 0.01:
                        waiting = proposal
                elif state == "awaiting_customer":
                    paused = adapt(submitted + timedelta(hours=rng.randrange(1, 48)))
                order_id = order_ids[rng.randrange(len(order_ids))]
                is_usd = rng.random() < 0.15
                assessed = rng.randrange(1000, 500000)
                values = dict(constants)
                values.update(
                    tracking_number=f"B{case_id:011d}", account_id=account_of[order_id],
                    order_id=order_id, channel=channel(rng), state=state,
                    currency="USD" if is_usd else "CNY", assessed_total_minor=assessed,
                    approved_total_minor=assessed if state in ("approved", "paying",
                                                               "refunded") else None,
                    assignee_id=(agents[rng.randrange(AGENTS)]
                                 if is_open and rng.random() < 0.7 else None),
                    sla_due_at=adapt(due) if due else None, sla_paused_at=paused,
                    first_response_due=adapt(due) if due else None, review_due=None,
                    escalated_at=escalated, proposal=waiting,
                    submitted_at=adapt(submitted), updated_at=adapt(submitted))
                case_rows.append([values[column] for column in columns] + [case_id])
                product = vpn if rng.random() < 0.4 else cvm
                line_rows.append((case_id, line_of[(order_id, product)],
                                  rules[rng.randrange(len(rules))], assessed, False))
            cursor.executemany(insert_case, case_rows)
            cursor.executemany(insert_line, line_rows)
        if connection.vendor == "postgresql":
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), %s)",
                           [count])
        # One case with a real tracking number (the seeded ones skip the check symbol),
        # open, for the search by tracking number.
        cursor.execute(f"UPDATE {table} SET tracking_number = %s WHERE id = %s",
                       [TRACKING_NUMBER, count])
        for statement in rebuild:
            cursor.execute(statement)
        cursor.close()
    print(f"queue_seed_seconds: {time.perf_counter() - started:.1f}", flush=True)


def _drop_indexes(connection, tables: list[str]) -> list[str]:
    """Drop the tables' secondary indexes; return the statements that build them again."""
    if connection.vendor != "sqlite":
        return []
    with connection.cursor() as cursor:
        cursor.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND "
                       f"sql IS NOT NULL AND tbl_name IN ({', '.join(['%s'] * len(tables))})",
                       tables)
        found = cursor.fetchall()
        for name, _ in found:
            cursor.execute(f'DROP INDEX "{name}"')
    return [sql for _, sql in found]


# -- measuring ----------------------------------------------------------------------------

def median_ms(work, runs: int = RUNS) -> float:
    work()  # warm the caches: the queue is read all day long
    timings = []
    for _ in range(runs):
        began = time.perf_counter()
        work()
        timings.append((time.perf_counter() - began) * 1000)
    return statistics.median(timings)


def measure() -> dict[str, float]:
    from django.contrib.auth import get_user_model
    from django.db import connection

    from refunddesk.billing.models import Order
    from refunddesk.cases.models import RefundCase
    from refunddesk.console import queueing
    from refunddesk.console.queueing import Cursor, Filters

    tz = ZoneInfo("Asia/Shanghai")
    viewer = get_user_model().objects.get(username="bench-agent-3")
    common = dict(viewer=viewer, now=NOW, tz=tz)

    def page(filters: Filters, sort: str = "newest", after: Cursor | None = None) -> None:
        shown = queueing.page(filters, sort, after=after, **common)
        assert shown.cases or after is not None

    def row_at(states: tuple[str, ...], order: list[str], position: int) -> RefundCase:
        # Setting up the deep cursor only; the queue itself never counts past rows.
        found = RefundCase.objects.order_by(*order)
        if states:
            found = found.filter(state__in=states)
        return found.only("submitted_at")[position]

    open_count = RefundCase.objects.filter(state__in=queueing.OPEN_STATES).count()
    deep = row_at(queueing.OPEN_STATES, ["-submitted_at", "-id"],
                  min(60_000, open_count * 3 // 4))
    deep_cursor = Cursor("newest", deep.submitted_at, deep.pk)
    count = RefundCase.objects.count()
    middle = row_at((), ["submitted_at", "id"], count // 2)
    middle_cursor = Cursor("oldest", middle.submitted_at, middle.pk)
    filtered = Filters(states=("in_review", "submitted"), channel="email", product="vpn",
                       sla="overdue")

    def counts() -> None:
        queueing.state_counts(Filters(), **common)
        queueing.my_open_count(viewer)

    def total() -> None:
        queueing.total_count(Filters(), **common)

    def search(text: str):
        def run() -> None:
            # What the page does for a search: its rows and the counts of its chips.
            shown = queueing.page(Filters(states=(), search=text), **common)
            assert shown.cases, f"the search for {text!r} found nothing"
            queueing.state_counts(Filters(states=(), search=text), **common)
        return run

    some_order = Order.objects.order_by("pk")[Order.objects.count() // 3].external_id
    figures = {
        "queue_default_page_ms": median_ms(lambda: page(Filters(), queueing.DEFAULT_SORT)),
        "queue_first_page_ms": median_ms(lambda: page(Filters())),
        "queue_deep_page_ms": median_ms(lambda: page(Filters(), after=deep_cursor)),
        "queue_filtered_page_ms": median_ms(lambda: page(filtered, "due")),
        "queue_all_states_page_ms": median_ms(
            lambda: page(Filters(states=()), "oldest", after=middle_cursor)),
        "queue_counts_ms": median_ms(counts, runs=5),
        "queue_total_ms": median_ms(total, runs=5),
        "queue_search_name_zh_ms": median_ms(search(ZHOU_PING[0])),
        "queue_search_name_latin_ms": median_ms(search("Sophia")),
        "queue_search_email_ms": median_ms(search("zhou.ping38")),
        "queue_search_phone_ms": median_ms(search("138 0013")),
        "queue_search_order_ms": median_ms(search(some_order)),
        "queue_search_tracking_ms": median_ms(search(TRACKING_NUMBER.replace("-", ""))),
    }
    connection.close()
    return figures


def report(figures: dict[str, float], *, suffix: str) -> None:
    for name, value in figures.items():
        print(f"{name}{suffix}: {value:.1f}", flush=True)


if __name__ == "__main__":
    main()
