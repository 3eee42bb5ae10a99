"""Import throughput: `refunddesk import orders` on a fresh SQLite file.

Prints import_orders_per_second (first import) and reimport_orders_per_second (the same
file again, every order unchanged). ORDERS=N sets the size (default 20,000).
"""

import json
import os
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path


def synthetic_orders(count: int):
    start = datetime(2025, 1, 1, tzinfo=UTC)
    for n in range(count):
        placed = start + timedelta(minutes=7 * n)
        end = placed + timedelta(days=365)
        yield {
            "id": f"BENCH-{n:07d}",
            "account": {"id": f"acct-{n % 5000:05d}", "email": f"user{n % 5000}@example.com",
                        "name": f"User {n % 5000}", "created_at": "2024-06-01T09:00:00+08:00"},
            "kind": "new" if n % 3 else "renewal",
            "channel": "direct",
            "placed_at": placed.isoformat(),
            "currency": "CNY",
            "lines": [
                {"id": "1", "sku": "cvm.s5.medium", "product": "cvm", "category": "cloud_server",
                 "billing": "prepaid", "term": {"unit": "year", "count": 1},
                 "service_start": placed.isoformat(), "service_end": end.isoformat(),
                 "list_price": "1200.00", "amount_paid": "960.00", "flags": []},
                {"id": "2", "sku": "backup.100g", "product": "backup", "category": "backup",
                 "billing": "prepaid", "term": {"unit": "year", "count": 1},
                 "service_start": placed.isoformat(), "service_end": end.isoformat(),
                 "list_price": "120.00", "amount_paid": "120.00", "flags": []},
            ],
            "payments": [
                {"id": "P1", "method": "alipay", "funding": "cash", "amount": "1020.00",
                 "paid_at": placed.isoformat(), "gateway": "sandbox", "reference": f"R{n}"},
                {"id": "P2", "method": "voucher", "funding": "voucher", "amount": "60.00"},
            ],
        }


def main() -> None:
    count = int(os.environ.get("ORDERS", "20000"))
    with tempfile.TemporaryDirectory() as workdir:
        os.environ["REFUNDDESK_VAR_DIR"] = workdir
        os.environ["DATABASE_URL"] = f"sqlite:///{Path(workdir) / 'bench.sqlite3'}"
        os.environ["DJANGO_SETTINGS_MODULE"] = "refunddesk.settings"
        import django

        django.setup()
        from django.core.management import call_command

        from refunddesk.billing.importing import import_jsonl

        call_command("migrate", verbosity=0)
        lines = [json.dumps(order) for order in synthetic_orders(count)]

        started = time.perf_counter()
        report = import_jsonl(lines)
        first = time.perf_counter() - started
        if not report.is_clean:
            sys.exit(f"bench import failed: {report.errors[:3]}")

        started = time.perf_counter()
        import_jsonl(lines)
        again = time.perf_counter() - started

    print(f"import_orders_per_second: {count / first:.0f}")
    print(f"reimport_orders_per_second: {count / again:.0f}")


if __name__ == "__main__":
    main()
