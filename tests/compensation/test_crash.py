"""Exactly once when a worker dies: a real `refunddesk worker` running a compensation run is
killed with SIGKILL in the middle of a customer's transaction (a case written, not yet
committed), after some customers' cases were committed. Started again, the worker's sweep
hands the run on, and it finishes with exactly one case per customer and one payout per
line; the payouts are then paid, each once.

Real processes need a database they can share: on PostgreSQL the test database itself
(committed data, `transactional_db`), on SQLite a migrated file of its own. What is checked
is what the processes left in the database, read by a process of the same kind."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from django.db import connection

pytestmark = pytest.mark.slow

REFUNDDESK = [sys.executable, "-m", "refunddesk.cli"]
CUSTOMERS = 40
STOP_AT = 25  # the customer whose transaction the worker dies in
LEASE_SECONDS = 1

SETUP = f"""
import django
django.setup()
from refunddesk.compensation import actions
from tests.compensation.builders import approved_run, order, two_admins
for number in range({CUSTOMERS}):
    order(number)
creator, approver = two_admins()
run = approved_run(creator, approver)
actions.start(run, actor=creator)
print(run.pk)
"""

# The worker, stopped for good inside the transaction of customer STOP_AT, right after its
# case is written.
STOPPED_MID_WAY = f"""
import time, django
django.setup()
from django.core.management import call_command
from refunddesk.compensation import running

opening = running.open_compensation_case
opened = 0

def open_then_hang(**kwargs):
    global opened
    case = opening(**kwargs)
    opened += 1
    if opened == {STOP_AT}:
        print("case written, not committed", flush=True)
        time.sleep(600)
    return case

running.open_compensation_case = open_then_hang
call_command("worker", "--no-startup-delay", "--sweep-seconds", "0", "--interval", "0.1")
"""

CHECK = """
import json, django
django.setup()
from collections import Counter
from refunddesk.cases.models import CaseLine, RefundCase
from refunddesk.compensation.models import CompensationItem, CompensationRun
from refunddesk.payouts.models import Payout
from refunddesk.payouts.gateways.sandbox import ledger_at
from django.conf import settings
run = CompensationRun.objects.get()
cases = RefundCase.objects.filter(channel="bulk")
lines = CaseLine.objects.filter(case__in=cases)
payouts = Payout.objects.filter(case__in=cases)
ledger = ledger_at(settings.REFUNDDESK_GATEWAYS["sandbox"]["OPTIONS"]["ledger"])
print(json.dumps({
    "state": run.state, "customers_done": run.customers_done,
    "cases_opened": run.cases_opened,
    "cases": cases.count(),
    "cases_per_customer": sorted(Counter(cases.values_list("account_id", flat=True)).values()),
    "customers": cases.values("account_id").distinct().count(),
    "lines_per_order_line": sorted(Counter(lines.values_list("order_line_id",
                                                             flat=True)).values()),
    "payouts_per_case": sorted(Counter(payouts.values_list("case_id", flat=True)).values()),
    "payout_states": dict(Counter(payouts.values_list("state", flat=True))),
    "case_states": dict(Counter(cases.values_list("state", flat=True))),
    "items": dict(Counter(CompensationItem.objects.values_list("state", flat=True))),
    "sandbox_refunds_per_key": sorted(Counter(refund.idempotency_key
                                              for refund in ledger.refunds()).values()),
}))
"""


def run(env: dict[str, str], *arguments: str) -> str:
    result = subprocess.run(arguments, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def checked(env: dict[str, str]) -> dict:
    return json.loads(run(env, sys.executable, "-c", CHECK).strip().splitlines()[-1])


@pytest.fixture
def database_url(request, tmp_path) -> str:
    """A database the test's processes share: PostgreSQL's test database, else a file."""
    if connection.vendor == "postgresql":
        request.getfixturevalue("transactional_db")
        db = connection.settings_dict
        return (f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST'] or '127.0.0.1'}:"
                f"{db['PORT'] or 5432}/{db['NAME']}")
    url = f"sqlite:///{tmp_path / 'refunddesk.sqlite3'}"
    run({**os.environ, "DATABASE_URL": url}, *REFUNDDESK, "migrate", "-v0")
    return url


def test_a_worker_killed_mid_run_and_started_again_compensates_every_customer_once(
        database_url, tmp_path):
    env = {**os.environ, "DATABASE_URL": database_url, "DJANGO_SETTINGS_MODULE":
           "refunddesk.settings", "PYTHONPATH": os.pathsep.join(sys.path),
           "MEDIA_ROOT": str(tmp_path / "media"),
           "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
           "REFUNDDESK_SANDBOX_LEDGER": str(tmp_path / "sandbox.sqlite3"),
           "REFUNDDESK_SANDBOX_SETTLE_SECONDS": "0",
           "REFUNDDESK_COMPENSATION_LEASE_SECONDS": str(LEASE_SECONDS),
           # The killed worker pays nothing: its payouts wait for the restarted one.
           "REFUNDDESK_PAYOUT_POLL_SECONDS": "3600"}
    # given an approved run over 40 customers, one line each, started
    run(env, sys.executable, "-c", SETUP)

    # when the worker is killed inside the transaction of the 25th customer
    worker = subprocess.Popen([sys.executable, "-c", STOPPED_MID_WAY], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert worker.stdout.readline().strip() == "case written, not committed"
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=30)

    # then the 24 customers before it are compensated, the 25th not at all
    killed = checked(env)
    assert killed["state"] == "running"
    assert killed["cases"] == killed["customers_done"] == STOP_AT - 1
    assert killed["items"] == {"done": STOP_AT - 1, "pending": CUSTOMERS - STOP_AT + 1}

    # when a worker starts again once the dead one's lease ran out (its sweep hands the run
    # on), then once more to pay what the run planned
    time.sleep(LEASE_SECONDS + 0.5)
    batch = [*REFUNDDESK, "worker", "--batch", "--no-startup-delay", "--sweep-seconds", "1"]
    run(env, *batch)
    run(env, *batch)

    # then the run finished with exactly one case per customer, one line per order line
    # and one payout per line, each paid once
    done = checked(env)
    assert (done["state"], done["customers_done"], done["cases_opened"]) == (
        "finished", CUSTOMERS, CUSTOMERS)
    assert done["cases"] == done["customers"] == CUSTOMERS
    assert done["cases_per_customer"] == [1] * CUSTOMERS
    assert done["lines_per_order_line"] == [1] * CUSTOMERS
    assert done["payouts_per_case"] == [1] * CUSTOMERS
    assert done["items"] == {"done": CUSTOMERS}
    assert done["payout_states"] == {"succeeded": CUSTOMERS}
    assert done["case_states"] == {"refunded": CUSTOMERS}
    assert done["sandbox_refunds_per_key"] in ([], [1] * CUSTOMERS)
