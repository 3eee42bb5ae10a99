"""Policy engine throughput, one core: `assessments_per_second` for a typical order (3 lines,
2 payments) and the time to assess 100,000 varied orders under the four presets.

Each assessment includes reading the order facts from their JSON shape with the one reader
(policy.facts_reading) and building the explanation steps; rendering the explanation into
sentences is measured separately (`render_per_second`). The application reads no JSON: the
billing mirror builds the facts from its rows, so `assessments_of_built_facts_per_second`
is the same assessment of facts already built.
"""

import os
import random
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from refunddesk.policy import engine
from refunddesk.policy.engine import assess
from refunddesk.policy.facts_reading import read_facts
from refunddesk.policy.presets import load_preset

SHANGHAI = ZoneInfo("Asia/Shanghai")
PRESETS = ["tencent-cloud", "alibaba-cloud", "huawei-cloud", "vpn-30-day"]


def typical_order(start: datetime, seed: int = 0) -> dict:
    rng = random.Random(seed)
    end = start.replace(year=start.year + 1)
    paid = [rng.randrange(10_000, 200_000) for _ in range(3)]
    cash = sum(paid) - 5_000
    line_kinds = [("cvm", "cloud_server"), ("cbs", "backup"), ("ssl", "ssl_certificate")]
    return {
        "id": f"BENCH-{seed}",
        "account": {"id": f"acct-{seed % 97}", "email": f"customer{seed % 97}@example.com",
                    "name": "李雷", "created_at": "2025-06-01T09:00:00+08:00"},
        "kind": rng.choice(["new", "new", "renewal", "upgrade"]),
        "channel": "direct", "placed_at": start.isoformat(), "currency": "CNY",
        "invoiced": rng.random() < 0.1,
        "lines": [
            {"id": str(n + 1), "sku": f"{product}.std", "product": product,
             "category": category, "billing": "prepaid", "term": {"unit": "year", "count": 1},
             "service_start": start.isoformat(), "service_end": end.isoformat(),
             "list_price": f"{paid[n] / 100:.2f}", "amount_paid": f"{paid[n] / 100:.2f}",
             "flags": []}
            for n, (product, category) in enumerate(line_kinds)
        ],
        "payments": [
            {"id": "P1", "method": "alipay", "funding": "cash", "amount": f"{cash / 100:.2f}"},
            {"id": "P2", "method": "voucher", "funding": "voucher", "amount": "50.00"},
        ],
        "history": {"refunds": [], "orders": []},
    }


def main() -> None:
    start = datetime(2026, 3, 1, 10, 5, tzinfo=SHANGHAI)
    order = typical_order(start)
    policy = load_preset("tencent-cloud")
    as_of = start + timedelta(days=40, hours=3)

    count = int(os.environ.get("ASSESSMENTS", "20000"))
    for _ in range(500):  # warm caches
        assess(policy, order, as_of=as_of)
    began = time.perf_counter()
    for _ in range(count):
        assess(policy, order, as_of=as_of)
    typical = count / (time.perf_counter() - began)

    facts = read_facts(order)
    began = time.perf_counter()
    for _ in range(count):
        assess(policy, facts, as_of=as_of)
    built = count / (time.perf_counter() - began)

    result = assess(policy, order, as_of=as_of)
    began = time.perf_counter()
    for _ in range(2000):
        result.to_dict("zh-Hans")
    rendered = 2000 / (time.perf_counter() - began)

    rng = random.Random(2026)
    varied = []
    for n in range(int(os.environ.get("VARIED", "100000"))):
        placed = start + timedelta(days=rng.randrange(0, 400), seconds=rng.randrange(86400))
        asked = placed + timedelta(hours=rng.randrange(1, 24 * 400))
        varied.append((load_preset(PRESETS[n % 4]), typical_order(placed, n), asked))
    began = time.perf_counter()
    for policy_n, order_n, asked in varied:
        assess(policy_n, order_n, as_of=asked)
    varied_seconds = time.perf_counter() - began

    # `make bench` measures the production build, whose engine mypyc compiled (setup.py).
    build = "interpreted" if engine.__file__.endswith(".py") else "compiled with mypyc"
    print(f"# policy engine: {build}")
    print(f"assessments_per_second: {typical:.0f}")
    print(f"assessments_of_built_facts_per_second: {built:.0f}")
    print(f"render_per_second: {rendered:.0f}")
    print(f"varied_100k_assess_seconds: {varied_seconds:.2f}")


if __name__ == "__main__":
    main()
