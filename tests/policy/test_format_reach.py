"""The policy format reaches policies that have no preset (POLICIES.md, last section).

Each policy is a test-only file under tests/policy/policies/, loaded as a merchant's file
would be, and checked against the provider's published rule.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from refunddesk.policy.engine import assess
from refunddesk.policy.presets import load_policy
from refunddesk.policy.schema import Policy, policy_from_dict

POLICIES = Path(__file__).parent / "policies"


ACCOUNT = {"id": "acct-1", "email": "a@example.com", "name": "Alex",
           "created_at": "2024-01-01T00:00:00+00:00"}


def policy(name: str) -> Policy:
    return load_policy(str(POLICIES / f"{name}.toml"))


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def order(*, placed_at: str, amount: str, currency: str = "USD", kind: str = "new",
          product: str = "vpn", term: tuple[str, int] = ("month", 12),
          service_start: str | None = None, service_end: str,
          current_price: str | None = None,
          refunds: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    line: dict[str, Any] = {
        "id": "1", "sku": f"{product}.plan", "product": product, "category": "vpn",
        "billing": "prepaid", "term": {"unit": term[0], "count": term[1]},
        "service_start": service_start or placed_at, "service_end": service_end,
        "list_price": amount, "amount_paid": amount, "flags": []}
    if current_price is not None:
        line["current_price"] = current_price
    return {
        "id": "ORD-1", "account": ACCOUNT, "kind": kind, "channel": "direct",
        "placed_at": placed_at,
        "currency": currency, "invoiced": False, "lines": [line],
        "payments": [{"id": "P1", "method": "card", "funding": "cash", "amount": amount}],
        "history": {"refunds": refunds or [], "orders": []},
    }


def codes(assessment) -> list[str]:
    return [code for code, _ in assessment.steps]


def step(assessment, code: str) -> dict[str, Any]:
    """The parameters of the first step with `code`, as the assessment's JSON shows them."""
    return next(s["params"] for s in assessment.to_dict()["steps"] if s["code"] == code)


# -- Surfshark: initial purchase only, one refund per 6 months, two in total -------------------

SURFSHARK_RULE = "initial_purchase_refund"


def surfshark_order(*, kind: str = "new", earlier: tuple[str, ...] = ()) -> dict[str, Any]:
    return order(placed_at="2026-03-01T10:00:00+00:00", amount="47.88", kind=kind,
                 product="surfshark.vpn", service_end="2027-03-01T10:00:00+00:00",
                 refunds=[{"at": when, "product": "surfshark.vpn", "rule": SURFSHARK_RULE}
                          for when in earlier])


SURFSHARK_ASKS = at("2026-03-10T10:00:00+00:00")


def test_surfshark_refunds_a_first_purchase_in_full():
    # given an account's first subscription and no earlier refund
    # when a refund is asked for nine days later
    assessment = assess(policy("surfshark"), surfshark_order(), as_of=SURFSHARK_ASKS)
    # then everything paid comes back to the card, at once
    assert (assessment.to_dict()["total"], assessment.outcome) == ("47.88", "full")
    assert assessment.handling == "approve"
    assert assessment.explanation("en")[1] == (
        "Line 1: the money-back guarantee on the initial purchase applies.")


def test_surfshark_refuses_a_second_refund_within_six_months():
    # given a refund three months before
    facts = surfshark_order(earlier=("2025-12-01T10:00:00+00:00",))
    # when another is asked for
    assessment = assess(policy("surfshark"), facts, as_of=SURFSHARK_ASKS)
    # then the quota of one per six months is used up
    assert assessment.outcome == "none"
    assert step(assessment, "rule.quota_used") == {
        "line": "1", "rule": SURFSHARK_RULE, "used": 1, "count": 1, "per": "account",
        "period": "rolling_months", "months": 6}
    reason = assessment.explanation("en")[1]
    assert "the money-back guarantee on the initial purchase" in reason
    assert "6 months" in reason


def test_surfshark_grants_a_second_refund_seven_months_after_the_first():
    # given a refund seven months before
    facts = surfshark_order(earlier=("2025-08-10T10:00:00+00:00",))
    # when another is asked for, then it is granted in full
    assessment = assess(policy("surfshark"), facts, as_of=SURFSHARK_ASKS)
    assert assessment.to_dict()["total"] == "47.88"


def test_surfshark_refuses_a_third_refund_ever():
    # given two refunds long ago, none in the last six months
    facts = surfshark_order(earlier=("2024-01-15T10:00:00+00:00", "2025-01-15T10:00:00+00:00"))
    # when a third is asked for
    assessment = assess(policy("surfshark"), facts, as_of=SURFSHARK_ASKS)
    # then the lifetime maximum of two refuses it
    assert assessment.outcome == "none"
    used = step(assessment, "rule.quota_lifetime_used")
    assert (used["lifetime"], used["lifetime_max"]) == (2, 2)
    assert "at most 2 times for the account in all, and 2 used it up" in (
        assessment.explanation("en")[1])


def test_surfshark_does_not_refund_a_renewal():
    # given a renewal (not the initial purchase)
    assessment = assess(policy("surfshark"), surfshark_order(kind="renewal"),
                        as_of=SURFSHARK_ASKS)
    # then no rule covers it
    assert (assessment.outcome, assessment.lines[0].excluded) == ("none", "no_rule")


# -- AWS Savings Plans: 7 days and the same calendar month, 10 a calendar year -----------------

AWS_RULE = "savings_plan_return"


def aws_order(placed_at: str, *, earlier: int = 0, earlier_at: str = "2026-02-01T00:00:00Z"
              ) -> dict[str, Any]:
    return order(placed_at=placed_at, amount="8760.00", product="savings-plan",
                 term=("year", 1), service_end="2099-01-01T00:00:00+00:00",
                 refunds=[{"at": earlier_at, "product": f"plan-{i}", "rule": AWS_RULE}
                          for i in range(earlier)])


@pytest.mark.parametrize(("asked", "refunded"), [
    ("2026-03-08T10:00:00+00:00", True),   # day 7: exactly 7 × 24 h, the end included
    ("2026-03-08T10:00:01+00:00", False),  # day 8
])
def test_aws_savings_plans_are_returned_within_seven_days_of_purchase(asked, refunded):
    # given a Savings Plan bought on 1 March
    facts = aws_order("2026-03-01T10:00:00+00:00")
    # when it is returned on day 7 or day 8
    assessment = assess(policy("aws-savings-plans"), facts, as_of=at(asked))
    # then only day 7 is inside the window
    assert (assessment.total == 876000) is refunded
    assert ("rule.window_closed" in codes(assessment)) is not refunded


def test_aws_savings_plans_are_returned_only_in_the_month_of_purchase():
    # given a plan bought on 30 March
    facts = aws_order("2026-03-30T10:00:00+00:00")
    # when it is returned on 2 April, three days later
    assessment = assess(policy("aws-savings-plans"), facts,
                        as_of=at("2026-04-02T10:00:00+00:00"))
    # then the calendar month has passed
    assert assessment.outcome == "none"
    assert "rule.month_passed" in codes(assessment)
    assert "rule.window_closed" not in codes(assessment)


def test_aws_savings_plans_count_the_calendar_month_in_utc():
    # given a plan bought at 23:00 on 31 March in Shanghai (15:00 UTC, still March)
    facts = aws_order("2026-03-31T23:00:00+08:00")
    # when it is returned at 07:00 on 1 April in Shanghai (23:00 UTC on 31 March)
    assessment = assess(policy("aws-savings-plans"), facts,
                        as_of=at("2026-04-01T07:00:00+08:00"))
    # then the policy's zone (UTC) decides: the same month
    assert assessment.total == 876000


def test_aws_savings_plans_allow_ten_returns_a_calendar_year():
    # given nine and then ten earlier returns this year
    policy_ = policy("aws-savings-plans")
    asked = at("2026-03-05T10:00:00+00:00")
    tenth = assess(policy_, aws_order("2026-03-01T10:00:00+00:00", earlier=9), as_of=asked)
    eleventh = assess(policy_, aws_order("2026-03-01T10:00:00+00:00", earlier=10), as_of=asked)
    # then the tenth return is granted and the eleventh refused
    assert tenth.total == 876000
    assert eleventh.outcome == "none"
    assert step(eleventh, "rule.quota_used")["used"] == 10


def test_aws_savings_plans_count_returns_afresh_from_the_first_of_january():
    # given ten returns during 2026
    earlier = {"earlier": 10, "earlier_at": "2026-06-01T00:00:00+00:00"}
    policy_ = policy("aws-savings-plans")
    # when one more is asked for in the last second of 2026, and at the first of 2027
    last_second = assess(policy_, aws_order("2026-12-31T20:00:00+00:00", **earlier),
                         as_of=at("2026-12-31T23:59:59+00:00"))
    new_year = assess(policy_, aws_order("2027-01-01T00:00:00+00:00", **earlier),
                      as_of=at("2027-01-01T00:00:00+00:00"))
    # then 2026's quota is used up, and 2027 starts at zero
    assert last_second.outcome == "none"
    assert new_year.total == 876000


# -- Azure reservations: prorated, at the lower price, capped per rolling 12 months ------------

AZURE_RULE = "reservation_refund"
# A 3-year reservation from 1 March 2028: no 29 February in it, so it lasts 1,095 days and
# each year of use is exactly 365 of them.
AZURE_START, AZURE_END = "2028-03-01T00:00:00+00:00", "2031-03-01T00:00:00+00:00"
# In its 12th month: 364.5 days used, counted as 365 (a started day counts).
AZURE_ASKS = at("2029-02-28T12:00:00+00:00")


def azure_order(amount: str = "3600.00", *, current_price: str | None = None,
                refunds: list[tuple[str, str]] = ()) -> dict[str, Any]:
    return order(placed_at=AZURE_START, amount=amount, product="azure.reservation",
                 term=("year", 3), service_end=AZURE_END, current_price=current_price,
                 refunds=[{"at": when, "product": "azure.other", "rule": AZURE_RULE,
                           "amount": value, "currency": "USD"} for when, value in refunds])


def test_azure_refunds_the_remaining_24_months_of_a_3_year_reservation():
    # given Microsoft's example: 100 USD a month for 36 months (3,600 USD)
    # when it is cancelled in its 12th month
    assessment = assess(policy("azure-reservations"), azure_order(), as_of=AZURE_ASKS)
    # then the 24 remaining months come back: 3,600 × (1,095 − 365) / 1,095 = 2,400
    assert assessment.to_dict()["total"] == "2400.00"
    ratio = step(assessment, "consumed.time_ratio")
    assert (str(ratio["used"]), str(ratio["total"]), ratio["unit"]) == ("365", "1095", "day")


def test_azure_refunds_at_todays_price_when_it_is_lower():
    # given the same reservation now sells for 3,000 USD
    facts = azure_order(current_price="3000.00")
    # when it is cancelled in its 12th month
    assessment = assess(policy("azure-reservations"), facts, as_of=AZURE_ASKS)
    # then the refund is two thirds of today's price, not of the price paid
    assert assessment.to_dict()["total"] == "2000.00"


def test_azure_refunds_at_the_price_paid_when_todays_price_is_higher():
    facts = azure_order(current_price="4000.00")
    assessment = assess(policy("azure-reservations"), facts, as_of=AZURE_ASKS)
    assert assessment.to_dict()["total"] == "2400.00"


def test_azure_refunds_in_full_what_fits_exactly_under_the_cap():
    # given 47,600 USD refunded in the last 12 months: 2,400 of the 50,000 left
    facts = azure_order(refunds=[("2028-06-01T00:00:00+00:00", "40000.00"),
                                 ("2028-12-01T00:00:00+00:00", "7600.00")])
    # when 2,400 is due, then all of it comes back (the cap is reached, not exceeded)
    assessment = assess(policy("azure-reservations"), facts, as_of=AZURE_ASKS)
    assert assessment.to_dict()["total"] == "2400.00"


def test_azure_refunds_older_than_12_months_do_not_count_against_the_cap():
    # given 49,000 USD refunded 13 months ago
    facts = azure_order(refunds=[("2028-01-15T00:00:00+00:00", "49000.00")])
    # when 2,400 is due, then all of it comes back
    assessment = assess(policy("azure-reservations"), facts, as_of=AZURE_ASKS)
    assert assessment.to_dict()["total"] == "2400.00"


def test_azure_caps_refunds_at_50000_usd_per_rolling_12_months():
    # given 150 USD a month for 36 months (5,400 USD), 3,600 due in the 12th month,
    # and 47,600 USD already refunded in the last 12 months
    facts = azure_order("5400.00", refunds=[("2028-06-01T00:00:00+00:00", "40000.00"),
                                            ("2028-12-01T00:00:00+00:00", "7600.00")])
    # when it is cancelled
    assessment = assess(policy("azure-reservations"), facts, as_of=AZURE_ASKS)
    # then only the 2,400 left under the cap comes back, and the explanation says why
    assert assessment.to_dict()["total"] == "2400.00"
    assert assessment.outcome == "partial"
    capped_at = codes(assessment).index("line.capped")
    for locale in ("en", "zh-Hans"):
        sentence = assessment.explanation(locale)[capped_at]
        assert all(figure in sentence for figure in ("2400.00 USD", "50000.00 USD",
                                                      "47600.00 USD", "12")), sentence


def test_azure_counts_the_lines_of_one_request_against_the_same_cap():
    # given two 3,600 USD reservations in one order, 2,400 due on each, and 47,600 USD
    # already refunded in the last 12 months
    facts = azure_order("7200.00", refunds=[("2028-12-01T00:00:00+00:00", "47600.00")])
    second = facts["lines"][0] | {"id": "2", "amount_paid": "3600.00", "list_price": "3600.00"}
    facts["lines"][0] |= {"amount_paid": "3600.00", "list_price": "3600.00"}
    facts["lines"].append(second)
    # when both are cancelled together
    assessment = assess(policy("azure-reservations"), facts, as_of=AZURE_ASKS)
    # then the first takes what is left under the cap and the second nothing
    assert [line.refund for line in assessment.lines] == [240000, 0]
    assert assessment.to_dict()["total"] == "2400.00"


def test_a_calendar_year_cap_counts_a_refund_made_at_midnight_on_1_january_in_its_own_year():
    # given a cap of 100 USD a calendar year (UTC), used up by a refund at 2027-01-01 00:00:00
    capped = policy_from_dict({
        "id": "yearly-cap", "version": 1, "name": {"en": "Yearly cap", "zh-Hans": "年度上限"},
        "time_zone": "UTC", "rules": [{"id": "any", "funding": ["cash"],
                                       "cap": {"amount": {"USD": "100.00"},
                                               "period": "calendar_year"}}]})
    facts = order(placed_at="2027-01-01T00:00:00+00:00", amount="50.00",
                  service_end="2028-01-01T00:00:00+00:00",
                  refunds=[{"at": "2027-01-01T00:00:00+00:00", "product": "vpn",
                            "rule": "any", "amount": "100.00", "currency": "USD"}])
    # when another refund is asked for in June 2027
    assessment = assess(capped, facts, as_of=at("2027-06-01T00:00:00+00:00"))
    # then 2027's cap is used up (the engine grants 50.00: it counts that refund in 2026)
    assert assessment.total == 0


def test_the_test_policies_load_with_their_ids():
    # given the test-only policy files, when they are loaded, then each names itself
    assert [policy(name).ref for name in ("surfshark", "aws-savings-plans",
                                          "azure-reservations")] == [
        "surfshark@1", "aws-savings-plans@1", "azure-reservations@1"]
    assert policy("azure-reservations").rules[0].cap.amount == {"USD": 5_000_000}
    assert at(AZURE_END) - at(AZURE_START) == timedelta(days=1095)
