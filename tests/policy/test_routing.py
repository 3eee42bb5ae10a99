"""The one routing rule, shared by the assessment and by grants beyond it."""

import pytest

from refunddesk.policy.routing import Route, route_of
from refunddesk.policy.schema import Destination

ALIBABA = Destination(cash="original", fallback="balance", invoiced="balance",
                      unavailable_methods=["bank_transfer"])
TENCENT = Destination(cash="balance")


@pytest.mark.parametrize(("destination", "method", "funding", "invoiced", "route"), [
    (ALIBABA, "alipay", "cash", False, Route("original", "balance")),
    (ALIBABA, "alipay", "cash", True, Route("balance", None)),
    (ALIBABA, "bank_transfer", "cash", False, Route("balance", None)),
    (ALIBABA, "voucher", "voucher", False, Route("voucher", None)),
    (ALIBABA, "gift", "gift", False, Route("gift", None)),
    (TENCENT, "wechat_pay", "cash", False, Route("balance", None)),
    (TENCENT, "balance", "balance", False, Route("balance", None)),
    (Destination(), "card", "cash", False, Route("original", None)),
])
def test_each_payment_is_refunded_by_the_route_its_policy_names(destination, method, funding,
                                                                invoiced, route):
    assert route_of(destination, method=method, funding=funding, invoiced=invoiced) == route


def test_a_voucher_is_never_refunded_as_cash_whatever_the_policy_says_of_cash():
    for destination in (ALIBABA, TENCENT, Destination()):
        assert route_of(destination, method="voucher", funding="voucher",
                        invoiced=False).destination == "voucher"
