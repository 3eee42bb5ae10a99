"""Orders, admins and runs for the mass compensation tests, through the real import path and
the run's own actions."""

from __future__ import annotations

import copy
from datetime import datetime, timedelta
from typing import Any

from refunddesk.billing.models import Order
from refunddesk.compensation import actions
from refunddesk.compensation.models import CompensationRun
from refunddesk.compensation.remedies import Remedy, Window
from refunddesk.compensation.selection import Selection
from tests.cases.conftest import import_order
from tests.conftest import EXAMPLE_ORDER
from tests.staff import staff_member

# The example line of DESIGN.md runs 365 days, 2026-03-01 10:05 to 2027-03-01 10:05
# (Beijing), paid 960.00 CNY. The outage: three days in May, over by NOW.
OUTAGE = Window(datetime.fromisoformat("2026-05-01T02:00:00+08:00"),
                datetime.fromisoformat("2026-05-04T02:00:00+08:00"))
NOW = datetime.fromisoformat("2026-05-10T12:00:00+08:00")
LATER = NOW + timedelta(hours=1)


def order(number: int, *, account: str | None = None, paid: str = "960.00",
          payments: list[dict[str, Any]] | None = None, currency: str = "CNY",
          product: str = "cvm", sku: str = "cvm.s5.medium", billing: str = "prepaid",
          flags: list[str] | None = None, start: str = "2026-03-01T10:05:00+08:00",
          end: str | None = "2027-03-01T10:05:00+08:00", lines: int = 1,
          policy: str = "tencent-cloud") -> Order:
    """An order of the DESIGN example's shape: `lines` lines of `paid` each, paid by one
    Alipay payment through the sandbox gateway unless `payments` says otherwise."""
    facts = copy.deepcopy(EXAMPLE_ORDER)
    account = account or f"acct-{number}"
    facts["id"] = f"TC-COMP-{number:05d}"
    facts["currency"] = currency
    facts["account"].update(id=account, email=f"{account}@example.com")
    line = dict(facts["lines"][0], sku=sku, product=product, billing=billing, list_price=paid,
                amount_paid=paid, flags=list(flags or []), service_start=start,
                service_end=end)
    if billing == "payg":
        line["term"] = None
    facts["lines"] = [dict(line, id=str(index + 1)) for index in range(lines)]
    total = _minor(paid) * lines
    facts["payments"] = payments or [{
        "id": "P1", "method": "alipay", "funding": "cash", "amount": _text(total),
        "paid_at": "2026-03-01T10:00:03+08:00", "gateway": "sandbox",
        "reference": f"2026030122{number:05d}"}]
    return import_order(facts, policy=policy)


def _minor(text: str) -> int:
    whole, _, fraction = text.partition(".")
    return int(whole) * 100 + int((fraction + "00")[:2])


def _text(minor: int) -> str:
    return f"{minor // 100}.{minor % 100:02d}"


def two_admins() -> tuple[Any, Any]:
    """The admin who plans a run and the second admin who approves it."""
    return staff_member("admin-plans", "admin"), staff_member("admin-approves", "admin")


def spec(remedy: Remedy | None = None, *, products: tuple[str, ...] = ("cvm",),
         skus: tuple[str, ...] = (), flags: tuple[str, ...] = (), window: Window = OUTAGE,
         message_en: str = "", message_zh: str = "") -> actions.RunSpec:
    return actions.RunSpec(Selection(products, skus, flags), window,
                           remedy or Remedy("refund_time"), message_en, message_zh)


def planned_run(creator: Any, remedy: Remedy | None = None, **choices: Any) -> CompensationRun:
    """A run created and dry-run by `creator`, waiting for a second admin."""
    run = actions.create_run(spec(remedy, **choices), actor=creator, now=NOW)
    return actions.dry_run(run, actor=creator, now=NOW)


def approved_run(creator: Any, approver: Any, remedy: Remedy | None = None,
                 **choices: Any) -> CompensationRun:
    run = planned_run(creator, remedy, **choices)
    return actions.approve(run, actor=approver, seen=actions.stamp(run), now=NOW)


def run_now(run: CompensationRun, starter: Any) -> CompensationRun:
    """Start the run and do its work here, as the worker's task would."""
    from refunddesk.compensation.running import run_compensation

    actions.start(run, actor=starter, now=LATER)
    run_compensation.call(run.pk)
    return CompensationRun.objects.get(pk=run.pk)
