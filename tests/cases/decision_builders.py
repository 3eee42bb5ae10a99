"""Cases in review for the decision tests, and staff in every role."""

import copy

from refunddesk.cases import actions
from refunddesk.cases.actors import customer_of
from tests.cases.conftest import AFTER_FIVE_DAYS, import_order
from tests.conftest import EXAMPLE_ORDER
from tests.staff import approval_limit, staff_member


def case_in_review(order, *, now=AFTER_FIVE_DAYS, lines=("1",)):
    """The example order applied for after Tencent Cloud's five days: prorated, reviewed."""
    return actions.submit(account=order.account, order=order, line_ids=list(lines),
                          actor=customer_of(order.account), channel="portal", now=now)


def large_huawei_order(order_id="HW-LARGE-1", amount="80000.00"):
    """A Huawei Cloud server bought for 80,000.00 CNY cash: prorated refunds of it are above
    the policy's four-eyes threshold of 50,000.00 CNY."""
    facts = copy.deepcopy(EXAMPLE_ORDER)
    facts["id"] = order_id
    facts["lines"][0].update(list_price=amount, amount_paid=amount, product="ecs", sku="ecs.c7")
    facts["payments"] = [dict(facts["payments"][0], amount=amount)]
    return import_order(facts, policy="huawei-cloud")


def staff_in_every_role():
    """agent (may approve up to 2,000.00 CNY), reviewer, finance and admin."""
    approval_limit("agent", "CNY", 200000)
    return {role: staff_member(f"{role}-1", role)
            for role in ("agent", "reviewer", "finance", "admin")}
