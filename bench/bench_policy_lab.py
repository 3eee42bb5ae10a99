"""The policy lab at scale: how fast the simulator assesses past requests again.

Seeds LAB_BENCH_CASES requests (default 100,000) of a quarter under the Tencent Cloud
preset: a few hundred real ones opened through cases.actions.submit (customers whose
second server finds the five-day refund used, others who ask after the five days), then
copies of them, each copy with its own customers, orders, payments and cases (the same
facts, moments and history, so every copy is assessed as its original was). Then times,
in one process (one core of Python, the database beside it):

  simulated_cases_per_second   policies.simulation.simulate over the whole quarter under
                               the version the cases were assessed with
  simulated_changed            how many of them that run found changed (0: the replay is
                               faithful)
  simulated_quota_two_changed  the same with two five-day refunds per product instead of
                               one (a real change: every customer's second server)
  compensation_cases_per_second  a mass compensation run over
                               LAB_BENCH_COMPENSATION_CUSTOMERS customers (default 5,000)
                               with one affected line each, in the same database
                               (compensation_run.py)

PostgreSQL only: PG_TEST_URL or DATABASE_URL names the server, and the figures are
measured in a throw-away test database on it (test_<its name>_lab).
"""

from __future__ import annotations

import contextlib
import copy
import os
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent))

CST = ZoneInfo("Asia/Shanghai")
QUARTER = (date(2026, 1, 1), date(2026, 3, 31))
TEMPLATE_ACCOUNTS = 120
COPIES_PER_BATCH = 40

ORDER = {
    "account": {"created_at": "2025-06-01T09:00:00+08:00"},
    "kind": "new", "channel": "direct", "currency": "CNY", "invoiced": False,
    "lines": [{"id": "1", "sku": "cvm.s5.medium", "product": "cvm", "category": "cloud_server",
               "billing": "prepaid", "term": {"unit": "month", "count": 12},
               "list_price": "1200.00", "amount_paid": "960.00", "flags": []}],
    "payments": [{"id": "P1", "method": "alipay", "funding": "cash", "amount": "900.00",
                  "gateway": "sandbox"},
                 {"id": "P2", "method": "voucher", "funding": "voucher", "amount": "60.00"}],
}


def main() -> None:
    count = int(os.environ.get("LAB_BENCH_CASES", "100000"))
    pg_url = next((url for url in (os.environ.get("PG_TEST_URL", ""),
                                   os.environ.get("DATABASE_URL", ""))
                   if url.startswith(("postgres://", "postgresql://"))), "")
    if not pg_url:
        print("bench_policy_lab: skipped, PG_TEST_URL or DATABASE_URL must name a PostgreSQL "
              "server", file=sys.stderr)
        return
    with tempfile.TemporaryDirectory() as workdir:
        os.environ["REFUNDDESK_VAR_DIR"] = workdir
        os.environ["DATABASE_URL"] = pg_url
        os.environ["DJANGO_SETTINGS_MODULE"] = "refunddesk.settings"
        import django

        django.setup()
        from django.db import connection
        from django.test.utils import setup_databases, teardown_databases

        test = connection.settings_dict["TEST"]
        test["NAME"] = test.get("NAME") or f"test_{connection.settings_dict['NAME']}_lab"
        with contextlib.redirect_stdout(sys.stderr):
            names = setup_databases(verbosity=0, interactive=False, keepdb=False,
                                    serialized_aliases=set())
        try:
            seeded = seed(count)
            for name, value in measure(seeded).items():
                print(f"{name}: {value}", flush=True)
            from compensation_run import measure_compensation

            customers = int(os.environ.get("LAB_BENCH_COMPENSATION_CUSTOMERS", "5000"))
            rate = measure_compensation(customers)
            print(f"compensation_cases_per_second: {rate:.0f}", flush=True)
        finally:
            teardown_databases(names, verbosity=0)


def _facts(order_id: str, account: str, placed: datetime) -> dict:
    facts = copy.deepcopy(ORDER)
    facts["id"] = order_id
    facts["account"].update(id=account, email=f"{account}@example.com", name=account)
    facts["placed_at"] = placed.isoformat()
    line = facts["lines"][0]
    line["service_start"] = (placed + timedelta(minutes=5)).isoformat()
    line["service_end"] = placed.replace(year=placed.year + 1).isoformat()
    facts["payments"][0]["paid_at"] = (placed + timedelta(minutes=1)).isoformat()
    return facts


def seed(count: int) -> int:
    """The templates through the real actions, then copies; returns the cases made."""
    from django.db import transaction

    from refunddesk.billing.importing import OrderImporter
    from refunddesk.billing.models import Order, Product
    from refunddesk.billing.order_facts import read_order
    from refunddesk.cases import actions
    from refunddesk.cases.actors import customer_of

    started = time.perf_counter()
    importer = OrderImporter()
    plans = []  # (order id, submitted at)
    for n in range(TEMPLATE_ACCOUNTS):
        account = f"lab-{n:04d}"
        day = datetime(2026, 1, 1, 10, tzinfo=CST) + timedelta(days=n % 80, minutes=n)
        first, second = f"TC-LAB-{n:04d}-1", f"TC-LAB-{n:04d}-2"
        importer.import_order(read_order(_facts(first, account, day)))
        importer.import_order(read_order(_facts(second, account, day + timedelta(days=1))))
        plans += [(first, day + timedelta(days=2)), (second, day + timedelta(days=3))]
        if n % 3 == 0:  # and one asked for after the five days
            late = f"TC-LAB-{n:04d}-3"
            importer.import_order(read_order(_facts(late, account, day)))
            plans.append((late, day + timedelta(days=9)))
    Product.objects.filter(code="cvm").update(policy_id="tencent-cloud")
    with contextlib.redirect_stdout(sys.stderr), transaction.atomic():
        for order_id, at in sorted(plans, key=lambda plan: plan[1]):
            order = Order.objects.select_related("account").get(external_id=order_id)
            actions.submit(account=order.account, order=order, line_ids=["1"],
                           actor=customer_of(order.account), channel="portal", now=at)
    templates = len(plans)
    copies = max(0, -(-count // templates) - 1)
    for first in range(1, copies + 1, COPIES_PER_BATCH):
        _copy(range(first, min(copies, first + COPIES_PER_BATCH - 1) + 1))
    print(f"lab_seed_seconds: {time.perf_counter() - started:.1f}", flush=True)
    return templates * (copies + 1)


def _copy(numbers: range) -> None:
    """Copies `numbers` of every template customer with their orders and cases."""
    from django.db import transaction

    from refunddesk.billing.models import Account, Order, OrderLine, Payment
    from refunddesk.cases.models import CaseLine, RefundCase

    def fields(model, exclude=()) -> list[str]:
        return [f.attname for f in model._meta.concrete_fields
                if not f.primary_key and f.attname not in exclude]

    accounts = list(Account.objects.filter(external_id__startswith="lab-")
                    .exclude(external_id__contains="~").order_by("pk")
                .values("pk", *fields(Account)))
    # In the templates' order throughout: a copied case must come after the cases it came
    # after (the history counts the cases opened before it).
    orders = list(Order.objects.filter(account_id__in=[a["pk"] for a in accounts])
                  .order_by("pk").values("pk", *fields(Order)))
    lines = list(OrderLine.objects.filter(order_id__in=[o["pk"] for o in orders])
                 .order_by("pk").values("pk", *fields(OrderLine)))
    payments = list(Payment.objects.filter(order_id__in=[o["pk"] for o in orders])
                    .order_by("pk").values(*fields(Payment)))
    cases = list(RefundCase.objects.filter(order_id__in=[o["pk"] for o in orders])
                 .order_by("pk").values("pk", *fields(RefundCase)))
    case_lines = list(CaseLine.objects.filter(case_id__in=[c["pk"] for c in cases])
                      .order_by("pk").values(*fields(CaseLine)))
    with transaction.atomic():
        for number in numbers:
            new_accounts = Account.objects.bulk_create(
                Account(**{**_without(a, "pk", "user_id"),
                           "external_id": f"{a['external_id']}~{number}",
                           "email": f"{number}~{a['email']}"}) for a in accounts)
            account_of = {a["pk"]: new.pk for a, new in zip(accounts, new_accounts, strict=True)}
            new_orders = Order.objects.bulk_create(
                Order(**{**_without(o, "pk"), "external_id": f"{o['external_id']}~{number}",
                         "account_id": account_of[o["account_id"]]}) for o in orders)
            order_of = {o["pk"]: new.pk for o, new in zip(orders, new_orders, strict=True)}
            new_lines = OrderLine.objects.bulk_create(
                OrderLine(**{**_without(line, "pk"), "order_id": order_of[line["order_id"]]})
                for line in lines)
            line_of = {line["pk"]: new.pk for line, new in zip(lines, new_lines, strict=True)}
            Payment.objects.bulk_create(
                Payment(**{**p, "order_id": order_of[p["order_id"]]}) for p in payments)
            new_cases = RefundCase.objects.bulk_create(
                RefundCase(**{**_without(c, "pk"),
                              "tracking_number": f"L{number:05d}{c['pk']:06d}",
                              "account_id": account_of[c["account_id"]],
                              "order_id": order_of[c["order_id"]]}) for c in cases)
            case_of = {c["pk"]: new.pk for c, new in zip(cases, new_cases, strict=True)}
            CaseLine.objects.bulk_create(
                CaseLine(**{**cl, "case_id": case_of[cl["case_id"]],
                            "order_line_id": line_of[cl["order_line_id"]]})
                for cl in case_lines)


def _without(row: dict, *keys: str) -> dict:
    return {key: value for key, value in row.items() if key not in keys}


def measure(cases: int) -> dict[str, str]:
    from refunddesk.policies.simulation import simulate
    from refunddesk.policy.presets import PRESETS_DIR, load_preset
    from refunddesk.policy.schema import policy_from_toml

    start, end = QUARTER
    began = time.perf_counter()
    same = simulate(load_preset("tencent-cloud"), start=start, end=end, tz=CST)
    took = time.perf_counter() - began
    text = (PRESETS_DIR / "tencent-cloud.toml").read_text(encoding="utf-8")
    two = policy_from_toml(text.replace("version = 1", "version = 2", 1)
                           .replace("quota = { count = 1,", "quota = { count = 2,", 1))
    twice = simulate(two, start=start, end=end, tz=CST)
    assert same.cases == cases, f"simulated {same.cases} of {cases} cases"
    return {"simulated_cases": str(same.cases),
            "simulated_cases_per_second": f"{same.cases / took:.0f}",
            "simulated_changed": str(same.changed),
            "simulated_quota_two_changed": str(twice.changed)}


if __name__ == "__main__":
    main()
