"""Cases whose approval sends money back by the original route through the sandbox
gateway (Alibaba Cloud's policy refunds cash to where it came from, balance as fallback)."""

from __future__ import annotations

import copy
from datetime import datetime

from refunddesk.cases import actions
from refunddesk.cases.actors import customer_of
from refunddesk.cases.models import RefundCase
from refunddesk.cases.states import State
from tests.cases.conftest import INSIDE_FIVE_DAYS, import_order
from tests.conftest import EXAMPLE_ORDER
from tests.staff import staff_member

_count = iter(range(1, 10**9))


def order_paid_with(*, reference: str = "2026030122001", method: str = "alipay",
                    amount: str = "900.00", gateway: str = "sandbox",
                    paid_at: str = "2026-03-01T10:00:03+08:00", policy: str = "alibaba-cloud",
                    extra_payments: list[dict[str, str]] | None = None):
    number = next(_count)
    facts = copy.deepcopy(EXAMPLE_ORDER)
    facts["id"] = f"AL-PAYOUT-{number}"
    payment = dict(facts["payments"][0], amount=amount, reference=reference, method=method,
                   gateway=gateway, paid_at=paid_at)
    facts["payments"] = [payment, *(extra_payments or [])]
    total = sum(float(p["amount"]) for p in facts["payments"])
    facts["lines"][0].update(amount_paid=f"{total:.2f}", list_price=f"{total:.2f}")
    return import_order(facts, policy=policy)


def approved_case(*, now: datetime = INSIDE_FIVE_DAYS, **payment: object) -> RefundCase:
    """A case approved in full (at once inside the five days, or by a reviewer)."""
    order = order_paid_with(**payment)  # type: ignore[arg-type]
    case = actions.submit(account=order.account, order=order, line_ids=["1"],
                          actor=customer_of(order.account),
                          channel="portal", now=now)
    if case.state == State.IN_REVIEW:
        reviewer = staff_member(f"payout-reviewer-{order.pk}", "reviewer")
        case = actions.approve(case, actor=reviewer, now=now)
    assert case.state == State.APPROVED, case.state
    return RefundCase.objects.get(pk=case.pk)
