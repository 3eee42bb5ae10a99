"""Invariants every assessment keeps, whatever the order: properties over generated orders.

The strategy below builds valid order facts (DESIGN.md, "The order facts"): one to three
lines, one to three payments that add up exactly to what the lines cost, optional history,
and a request time anywhere from before the service starts to after it ends. Each property
is checked under every preset.
"""

from __future__ import annotations

import copy
import itertools
import re
from collections import Counter
from datetime import UTC, datetime, timedelta, timezone
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from refunddesk.policy.assessment import Assessment
from refunddesk.policy.calendar import add_months
from refunddesk.policy.engine import AssessmentError, assess
from refunddesk.policy.money import format_amount, round_half_up
from refunddesk.policy.presets import load_preset
from refunddesk.policy.schema import policy_from_dict

PRESETS = ["alibaba-cloud", "huawei-cloud", "tencent-cloud", "vpn-30-day"]
EXAMPLES = 60  # per preset and property; the module stays well under 20 s

CST = timezone(timedelta(hours=8))
ZONES = [CST, UTC, timezone(timedelta(hours=-5))]
TERMS = [("month", 1), ("month", 3), ("month", 12), ("year", 1), ("year", 2), ("year", 3)]
PRODUCTS = {"cloud_server": ["cvm", "ecs"], "vpn": ["vpn"], "domain": ["domain"]}
FLAGS = ["promotion_non_refundable", "transferred", "trial"]
METHODS = {"cash": ["alipay", "card", "paypal", "wechat_pay"], "balance": ["balance"],
           "gift": ["gift"], "voucher": ["voucher"]}
RULE_IDS = ["five_day_no_reason", "normal_refund", "partial_refund", "money_back",
            "after_window", "renewal_not_started"]
DAY = 86400
ACCOUNT = {"id": "acct-1", "email": "a@example.com", "name": "王芳",
           "created_at": "2023-01-01T00:00:00+08:00"}


def iso(moment: datetime) -> str:
    return moment.isoformat()


@st.composite
def moments(draw: st.DrawFn) -> datetime:
    seconds = draw(st.integers(0, 3 * 365 * DAY))
    zone = draw(st.sampled_from(ZONES))
    return (datetime(2024, 1, 1, tzinfo=UTC) + timedelta(seconds=seconds)).astimezone(zone)


@st.composite
def lines(draw: st.DrawFn, index: int, placed: datetime) -> dict[str, Any]:
    billing = draw(st.sampled_from(["prepaid"] * 4 + ["payg", "one_time"]))
    category = draw(st.sampled_from(sorted(PRODUCTS)))
    amount = draw(st.integers(1, 2_000_000))
    line: dict[str, Any] = {
        "id": str(index), "sku": f"sku-{index}", "product":
        draw(st.sampled_from(PRODUCTS[category])), "category": category, "billing": billing,
        "amount_paid": amount, "list_price": amount + draw(st.integers(0, 500_000)),
        "flags": draw(st.one_of(st.just([]), st.lists(st.sampled_from(FLAGS), max_size=2,
                                                      unique=True))),
    }
    # Most services start minutes after the order; a renewal bought early starts later.
    delay = draw(st.one_of(st.integers(0, 600), st.integers(0, 90 * DAY)))
    start = placed + timedelta(seconds=delay)
    if billing == "prepaid":
        unit, count = draw(st.sampled_from(TERMS))
        line["term"] = {"unit": unit, "count": count}
        line["service_start"] = iso(start)
        line["service_end"] = iso(add_months(start, count * (12 if unit == "year" else 1)))
    elif billing == "payg" or draw(st.booleans()):
        line["service_start"] = iso(start)
    return line


@st.composite
def payments(draw: st.DrawFn, total: int) -> list[dict[str, Any]]:
    count = draw(st.integers(1, min(3, total)))
    cuts = sorted(draw(st.lists(st.integers(1, total - 1), min_size=count - 1,
                                max_size=count - 1, unique=True))) if count > 1 else []
    bounds = [0, *cuts, total]
    result = []
    for index, (low, high) in enumerate(itertools.pairwise(bounds), start=1):
        funding = draw(st.sampled_from(["cash", "cash", "cash", "balance", "gift", "voucher"]))
        result.append({"id": f"P{index}", "method": draw(st.sampled_from(METHODS[funding])),
                       "funding": funding, "amount": high - low})
    return result


@st.composite
def histories(draw: st.DrawFn, placed: datetime) -> dict[str, Any]:
    products = [p for group in PRODUCTS.values() for p in group]
    refunds = draw(st.lists(st.fixed_dictionaries({
        "at": st.integers(-2 * 365 * DAY, 365 * DAY).map(
            lambda s: iso(placed + timedelta(seconds=s))),
        "product": st.sampled_from(products),
        "rule": st.sampled_from(RULE_IDS),
    }), max_size=3))
    orders = draw(st.lists(st.fixed_dictionaries({
        "product": st.sampled_from(products),
        "kind": st.sampled_from(["new", "renewal"]),
        "placed_at": st.integers(1, 3 * 365 * DAY).map(
            lambda s: iso(placed - timedelta(seconds=s))),
    }), max_size=2))
    for index, order in enumerate(orders):
        order["id"] = f"H-{index}"
    return {"refunds": refunds, "orders": orders}


@st.composite
def requests(draw: st.DrawFn) -> tuple[dict[str, Any], datetime]:
    """Valid order facts and a request time (as_of) for them."""
    currency = draw(st.sampled_from(["CNY", "USD", "JPY"]))
    placed = draw(moments())
    order_lines = [draw(lines(index, placed)) for index in range(1, draw(st.integers(1, 3)) + 1)]
    total = sum(line["amount_paid"] for line in order_lines)
    order_payments = draw(payments(total))
    for line in order_lines:
        for key in ("amount_paid", "list_price"):
            line[key] = format_amount(line[key], currency)
    for payment in order_payments:
        payment["amount"] = format_amount(payment["amount"], currency)
    facts: dict[str, Any] = {
        "id": "GEN-1", "account": dict(ACCOUNT),
        "kind": draw(st.sampled_from(["new", "renewal", "upgrade"])),
        "channel": draw(st.sampled_from(["direct"] * 5 + ["reseller", "app_store",
                                                          "google_play"])),
        "placed_at": iso(placed), "currency": currency,
        "invoiced": draw(st.sampled_from([False, False, False, True])),
        "lines": order_lines, "payments": order_payments,
    }
    if draw(st.booleans()):
        facts["history"] = draw(histories(placed))
    return facts, draw(request_times(facts))


def _times(facts: dict[str, Any], key: str) -> list[datetime]:
    return [datetime.fromisoformat(line[key]) for line in facts["lines"] if key in line]


@st.composite
def request_times(draw: st.DrawFn, facts: dict[str, Any]) -> datetime:
    placed = datetime.fromisoformat(facts["placed_at"])
    starts = _times(facts, "service_start")
    latest = max([placed, *_times(facts, "service_end")]) + timedelta(days=60)
    # The edges of the windows of the presets (5 d, 120 h, 30 d, a year of use) are where
    # mistakes hide, so they are drawn as often as the span in between.
    landmarks = [placed + timedelta(days=30)] + [
        start + offset for start in starts
        for offset in (timedelta(days=5), timedelta(days=29), timedelta(days=30))]
    edge = st.tuples(st.sampled_from(landmarks), st.integers(-1, 1)).map(
        lambda pair: pair[0] + timedelta(seconds=pair[1]))
    anywhere = st.integers(-2 * DAY, int((latest - placed).total_seconds())).map(
        lambda s: placed + timedelta(seconds=s))
    moment = draw(st.one_of(edge, anywhere))
    return moment.astimezone(draw(st.sampled_from(ZONES)))


def minor(facts: dict[str, Any], text: str) -> int:
    return int(Fraction(text) * 10 ** (0 if facts["currency"] == "JPY" else 2))


def everything_in(assessment: Assessment) -> list[int]:
    amounts = [assessment.total] + [e.amount for e in assessment.allocation]
    for line in assessment.lines:
        amounts += [line.refund, line.eligible, line.consumed, line.fee]
    return amounts


presets = pytest.mark.parametrize("preset", PRESETS)
invariant = settings(max_examples=EXAMPLES, deadline=None)


# -- money ---------------------------------------------------------------------------------

@presets
@invariant
@given(request=requests())
def test_no_refund_exceeds_what_the_order_paid_and_no_amount_is_negative(preset, request):
    # given an order and a request time
    facts, as_of = request
    paid = sum(minor(facts, p["amount"]) for p in facts["payments"])
    # when it is assessed
    assessment = assess(load_preset(preset), facts, as_of=as_of)
    # then the total stays within the payments, each line within what it cost, and every
    # line's refundable amount is exactly refund + consumed + fee (the presets have no cap)
    assert 0 <= assessment.total <= paid
    for line, line_facts in zip(assessment.lines, facts["lines"], strict=True):
        assert line.refund <= line.eligible <= minor(facts, line_facts["amount_paid"])
        assert line.refund + line.consumed + line.fee == line.eligible
        if line.rule == "money_back":  # all four fundings come back: exactly what it cost
            assert line.eligible == minor(facts, line_facts["amount_paid"])
    # and nothing anywhere is below zero
    assert min(everything_in(assessment)) >= 0


@presets
@invariant
@given(request=requests())
def test_the_allocation_adds_up_to_the_total_and_takes_no_more_from_a_payment_than_it_paid(
        preset, request):
    # given an order and a request time
    facts, as_of = request
    paid = {p["id"]: minor(facts, p["amount"]) for p in facts["payments"]}
    # when it is assessed
    assessment = assess(load_preset(preset), facts, as_of=as_of)
    # then the allocation adds up to the total, cent for cent
    assert sum(entry.amount for entry in assessment.allocation) == assessment.total
    # and each payment gives back at most what it paid, once
    assert len({entry.payment for entry in assessment.allocation}) == len(assessment.allocation)
    for entry in assessment.allocation:
        assert 0 < entry.amount <= paid[entry.payment]


@presets
@invariant
@given(request=requests())
def test_vouchers_and_gift_credit_come_back_in_kind_never_as_cash(preset, request):
    # given an order and a request time
    facts, as_of = request
    by_id = {p["id"]: p for p in facts["payments"]}
    # when it is assessed
    assessment = assess(load_preset(preset), facts, as_of=as_of)
    # then each entry goes back by its payment's own funding
    for entry in assessment.allocation:
        payment = by_id[entry.payment]
        assert (entry.funding, entry.method) == (payment["funding"], payment["method"])
        if entry.funding in ("voucher", "gift", "balance"):
            assert entry.destination == entry.funding
        else:
            assert entry.destination in ("original", "balance")


@presets
@invariant
@given(request=requests())
def test_the_outcome_is_none_exactly_when_nothing_is_refunded(preset, request):
    # given an order and a request time
    facts, as_of = request
    # when it is assessed
    assessment = assess(load_preset(preset), facts, as_of=as_of)
    # then "none" means a zero total, and a zero total means "none"
    assert (assessment.outcome == "none") == (assessment.total == 0)
    assert assessment.to_dict()["outcome"] == assessment.outcome


# -- the reasoning -------------------------------------------------------------------------

@presets
@invariant
@given(request=requests())
def test_the_same_request_gets_the_same_assessment(preset, request):
    # given an order and a request time
    facts, as_of = request
    original = copy.deepcopy(facts)
    # when it is assessed twice
    first = assess(load_preset(preset), facts, as_of=as_of).to_dict("zh-Hans")
    second = assess(load_preset(preset), facts, as_of=as_of).to_dict("zh-Hans")
    # then both answers are the same, and the facts are left as they were
    assert first == second
    assert facts == original


NUMBER = re.compile(r"\d+(?:\.\d+)?")


@presets
@invariant
@given(request=requests())
def test_both_languages_explain_with_the_same_numbers(preset, request):
    # given an order and a request time
    facts, as_of = request
    # when its assessment is explained in English and in Chinese
    assessment = assess(load_preset(preset), facts, as_of=as_of)
    english, chinese = assessment.explanation("en"), assessment.explanation("zh-Hans")
    # then both have one sentence per step, with the same figures (amounts, dates, counts)
    assert len(english) == len(chinese) == len(assessment.steps)
    for en, zh in zip(english, chinese, strict=True):
        assert Counter(NUMBER.findall(en)) == Counter(NUMBER.findall(zh)), (en, zh)


def distinct_products(facts: dict[str, Any]) -> dict[str, Any]:
    # Quotas count lines granted earlier in the same request, per product or per account:
    # one product per line keeps the per-product quotas apart, and Huawei's 10 a year per
    # account cannot run out with at most 3 lines and 3 earlier refunds.
    facts = copy.deepcopy(facts)
    for line in facts["lines"]:
        line["product"] = f"{line['product']}-{line['id']}"
    return facts


@presets
@invariant
@given(request=requests(), data=st.data())
def test_asking_for_some_lines_refunds_them_as_asking_for_all_does(preset, request, data):
    # given an order whose lines are different products, and some of its lines
    facts, as_of = request
    facts = distinct_products(facts)
    ids = [line["id"] for line in facts["lines"]]
    chosen = data.draw(st.lists(st.sampled_from(ids), min_size=1, unique=True))
    # when only those lines are asked for, and then the whole order
    part = assess(load_preset(preset), facts, as_of=as_of, lines=chosen)
    whole = assess(load_preset(preset), facts, as_of=as_of)
    # then those lines get exactly what they get in the whole request
    assert part.lines == [line for line in whole.lines if line.id in chosen]


# -- time ----------------------------------------------------------------------------------

def latest(moments: list[datetime]) -> datetime:
    return max(moments)


@pytest.mark.parametrize(("preset", "window_closes"), [
    # Tencent: the five-day window is on the service start; normal_refund has no penalty
    # or fee, so consumption alone moves the amount.
    ("tencent-cloud", lambda placed, starts: latest([placed, *(s + timedelta(days=5)
                                                                for s in starts)])),
    # VPN: the money-back window is on the order time; after_window is a plain ratio.
    ("vpn-30-day", lambda placed, starts: latest([placed + timedelta(days=30), *starts])),
])
@invariant
@given(request=requests(), data=st.data())
def test_asking_later_never_gets_more_under_a_plain_time_ratio(preset, window_closes, request,
                                                               data):
    # given an order, and two request times after its windows closed and its lines started
    facts, _ = request
    placed = datetime.fromisoformat(facts["placed_at"])
    closed = window_closes(placed, _times(facts, "service_start"))
    first = closed + timedelta(seconds=data.draw(st.integers(1, 400 * DAY)))
    later = first + timedelta(seconds=data.draw(st.integers(1, 3 * 365 * DAY)))
    # when both are assessed
    earlier_answer = assess(load_preset(preset), facts, as_of=first)
    later_answer = assess(load_preset(preset), facts, as_of=later)
    # then no line gets more for asking later
    for before, after in zip(earlier_answer.lines, later_answer.lines, strict=True):
        assert after.refund <= before.refund
    assert later_answer.total <= earlier_answer.total


def one_line_order(example_order, *, term: tuple[str, int], end: str,
                   payments: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    example_order["lines"][0]["term"] = {"unit": term[0], "count": term[1]}
    example_order["lines"][0]["service_end"] = end
    if payments is not None:
        example_order["payments"] = payments
    return example_order


def test_alibaba_cloud_refunds_more_on_day_30_than_on_day_29_because_the_penalty_ends(
        example_order):
    # given a 12-month ECS line (365 days) paid 900 cash + 60 voucher, started 2026-03-01
    policy = load_preset("alibaba-cloud")
    start = datetime.fromisoformat(example_order["lines"][0]["service_start"])
    # when refunded with 29 days used (× 1.5) and one second later, with 30 days used (× 1)
    day_29 = assess(policy, example_order, as_of=start + timedelta(days=29))
    day_30 = assess(policy, example_order, as_of=start + timedelta(days=29, seconds=1))
    # then the published rule makes the later request worth more: 1.5 × 29 > 30 days' use
    assert day_29.total == round_half_up(90000 * 365 * 2 - 96000 * 29 * 3, 365 * 2)  # 785.59
    assert day_30.total == round_half_up(90000 * 365 - 96000 * 30, 365)  # 821.10
    assert day_30.total > day_29.total
    assert "consumed.time_ratio_penalty" in [code for code, _ in day_29.steps]
    assert "consumed.time_ratio_penalty" not in [code for code, _ in day_30.steps]


@pytest.mark.parametrize(("years", "used_months", "before", "after"), [
    (2, 12, "15", "10"),
    (3, 12, "15", "10"),
    (3, 24, "10", "5"),
])
def test_huawei_cloud_refunds_more_just_after_a_year_of_use_because_the_fee_drops(
        example_order, years, used_months, before, after):
    # given a multi-year Huawei line paid in cash, started 2026-03-01 10:05 (+08:00)
    start = datetime.fromisoformat(example_order["lines"][0]["service_start"])
    order = one_line_order(
        example_order, term=("year", years), end=iso(add_months(start, 12 * years)),
        payments=[{"id": "P1", "method": "alipay", "funding": "cash", "amount": "960.00"}])
    policy = load_preset("huawei-cloud")
    threshold = add_months(start, used_months)
    # when refunded at the end of the year of use and one hour later
    at_threshold = assess(policy, order, as_of=threshold)
    hour_later = assess(policy, order, as_of=threshold + timedelta(hours=1))
    # then the handling fee steps down (as Huawei publishes) and the refund steps up
    fees = [s["params"]["percent"] for a in (at_threshold, hour_later)
            for s in a.to_dict()["steps"] if s["code"] == "line.fee"]
    assert fees == [before, after]
    assert hour_later.total > at_threshold.total


# -- rounding at the edges ---------------------------------------------------------------

def test_a_line_is_never_credited_with_more_funding_than_it_cost(example_order):
    # given two lines of 1.00 each, paid 0.01 and 1.99 in cash (split one payment at a time,
    # both odd cents would land on line 1 and credit it with 1.01)
    second = copy.deepcopy(example_order["lines"][0]) | {"id": "2", "product": "cbs"}
    example_order["lines"].append(second)
    for line in example_order["lines"]:
        line["amount_paid"] = "1.00"
    example_order["payments"] = [
        {"id": "P1", "method": "alipay", "funding": "cash", "amount": "0.01"},
        {"id": "P2", "method": "alipay", "funding": "cash", "amount": "1.99"}]
    # when line 1 alone is refunded in full (Tencent's five days, no consumption)
    assessment = assess(load_preset("tencent-cloud"), example_order,
                        as_of=datetime(2026, 3, 2, tzinfo=CST), lines=["1"])
    # then exactly its own 1.00 comes back
    assert (assessment.lines[0].eligible, assessment.total) == (100, 100)


def test_refund_and_fee_never_add_up_to_more_than_the_refundable_amount(example_order):
    # given a rule with a 10 % fee and no consumption, and a line of 0.05 paid in cash
    policy = policy_from_dict({
        "id": "fee-only", "version": 1, "name": {"en": "Fee only", "zh-Hans": "仅手续费"},
        "rules": [{"id": "with_fee", "funding": ["cash"], "fee": {"percent": "10"}}]})
    example_order["lines"][0]["amount_paid"] = "0.05"
    example_order["payments"] = [
        {"id": "P1", "method": "alipay", "funding": "cash", "amount": "0.05"}]
    # when it is refunded (the fee is 0.005, the refund 0.045: both halves round up)
    line = assess(policy, example_order, as_of=datetime(2026, 3, 2, tzinfo=CST)).lines[0]
    # then refund + consumed + fee is still exactly 0.05, and nothing shown is negative
    assert line.refund + line.consumed + line.fee == line.eligible == 5
    assert min(line.refund, line.consumed, line.fee) >= 0


def test_an_order_whose_payments_do_not_add_up_to_its_lines_is_refused(example_order):
    # given payments of 900.00 for a line that cost 960.00
    example_order["payments"] = example_order["payments"][:1]
    # when it is assessed, then the mismatch is named rather than guessed around
    with pytest.raises(AssessmentError, match=r"payments: add up to 900\.00"):
        assess(load_preset("tencent-cloud"), example_order,
               as_of=datetime(2026, 3, 2, tzinfo=CST))
