"""When a refund ends the service it pays back: at once for a whole refund, at the end of
the paid-for period only where a rule keeps it for a partial one, and where a period not
yet begun would have begun."""

import pytest

from refunddesk.policy.schema import Rule
from refunddesk.policy.service_end import service_ends_at
from tests.policy.builders import at

NOW = at("2026-06-04 12:00:00")
START, END = at("2026-03-01 10:05:00"), at("2027-03-01 10:05:00")
AT_ONCE = Rule(id="normal_refund", funding=["cash"])
KEEPS_PERIOD = Rule(id="normal_refund", funding=["cash"],
                    partial_refund_ends_service="at_period_end")


def ends(*, refund, paid=96000, billing="prepaid", starts=START, rule=AT_ONCE):
    return service_ends_at(billing=billing, refund=refund, paid=paid, starts=starts, ends=END,
                           rule=rule, now=NOW)


def test_a_whole_refund_ends_the_service_at_once_whatever_the_rule_says():
    assert ends(refund=96000) == NOW
    assert ends(refund=96000, rule=KEEPS_PERIOD) == NOW


def test_a_partial_refund_ends_the_service_at_once_unless_the_rule_keeps_the_period():
    assert ends(refund=70000) == NOW
    assert ends(refund=70000, rule=None) == NOW
    assert ends(refund=70000, rule=KEEPS_PERIOD) == END


def test_a_period_not_yet_begun_ends_the_service_where_it_would_have_begun():
    renewal_start = at("2026-09-01 00:00:00")
    assert ends(refund=96000, starts=renewal_start) == renewal_start


@pytest.mark.parametrize(("billing", "refund"), [("payg", 5000), ("one_time", 5000),
                                                 ("prepaid", 0)])
def test_usage_charges_one_time_purchases_and_nothing_granted_leave_the_service_running(
        billing, refund):
    assert ends(refund=refund, billing=billing) is None


def test_a_rule_accepts_only_the_two_ways_a_partial_refund_ends_the_service():
    with pytest.raises(ValueError, match="partial_refund_ends_service"):
        Rule(id="r", funding=["cash"], partial_refund_ends_service="never")
