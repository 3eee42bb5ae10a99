"""The one reader of the order-facts format: what it makes of an order, and how it names
every problem with the path of the field at fault."""

from __future__ import annotations

import copy
import re
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from refunddesk.policy.engine import AssessmentError, assess
from refunddesk.policy.facts import FactsError, OrderFacts
from refunddesk.policy.facts_reading import read_facts
from refunddesk.policy.presets import load_preset
from tests.conftest import EXAMPLE_ORDER
from tests.policy.test_invariants import requests

CST = timezone(timedelta(hours=8))


def example() -> dict[str, Any]:
    return copy.deepcopy(EXAMPLE_ORDER)


def problems_of(order: object) -> list[str]:
    with pytest.raises(FactsError) as caught:
        read_facts(order)
    return [str(problem) for problem in caught.value.problems]


def test_the_design_example_reads_into_domain_values_in_minor_units():
    facts = read_facts(example())

    assert (facts.id, facts.account.id, facts.account.name) == ("TC-20260301-0001",
                                                               "acct-1001", "李雷")
    assert facts.placed_at == datetime(2026, 3, 1, 10, 0, tzinfo=CST)
    line = facts.lines[0]
    assert (line.amount_paid, line.list_price, line.term_months) == (96000, 120000, 12)
    assert [(p.id, p.funding, p.amount) for p in facts.payments] == [
        ("P1", "cash", 90000), ("P2", "voucher", 6000)]
    assert facts.payments[0].gateway == "sandbox"
    assert (facts.refunds, facts.orders) == ([], [])


def test_a_missing_field_is_named_with_its_path():
    order = example()
    del order["lines"][0]["amount_paid"]

    assert problems_of(order) == ["lines[0].amount_paid: required"]


def test_every_problem_is_named_in_the_order_the_fields_are_read():
    # given an order wrong in six places: its account, kind, a line, a payment, its history
    order = example()
    order["account"]["created_at"] = "yesterday"
    order["kind"] = "gift"
    order["lines"][0]["term"] = {"unit": "month", "count": 0}
    order["lines"][0]["servce_start"] = order["lines"][0].pop("service_start")
    order["payments"][1]["amount"] = 60
    order["history"] = {"refunds": [{"at": "2026-03-02T10:00:00", "rule": "x"}]}
    # when it is read, then each is named, none hides another
    assert problems_of(order) == [
        "account.created_at: not an ISO 8601 date and time",
        "kind: 'gift' is not one of new, renewal, upgrade",
        "lines[0].servce_start: unknown field",
        "lines[0].term.count: expected a whole number of at least 1",
        "lines[0].service_start: required",
        'payments[1].amount: not a decimal amount (give it as a string, like "960.00")',
        "history.refunds[0].at: needs a UTC offset, like 2026-03-01T10:00:00+08:00",
    ]


@pytest.mark.parametrize(("change", "problem"), [
    (lambda o: o["lines"][0].update(id=1), "lines[0].id: expected a string"),
    (lambda o: o.update(invoiced="no"), "invoiced: expected true or false"),
    (lambda o: o.update(currency="XYZ"), "currency: not an ISO 4217 currency code: 'XYZ'"),
    (lambda o: o["lines"][0].update(flags="promotion"), "lines[0].flags: expected a list of "
                                                        "strings"),
    (lambda o: o["lines"].append("2"), "lines[1]: expected an object"),
    (lambda o: o["lines"][0].update(product="云服务器"),
     "lines[0].product: use letters, digits, '-', '_' or '.' only"),
    (lambda o: o["payments"][0].update(method="cash"), "payments[0].method: 'cash' is not "
     "one of alipay, wechat_pay, card, paypal, bank_transfer, balance, voucher, gift, "
     "app_store, google_play"),
    (lambda o: o["payments"][1].update(funding="cash"),
     "payments[1].funding: a voucher payment is funded by voucher, not cash"),
    (lambda o: o["lines"][0].update(usage=[{"metric": "gb", "quantity": "-1", "unit": "GB",
                                            "period_start": "2026-03-01T00:00:00+08:00",
                                            "period_end": "2026-03-02T00:00:00+08:00"}]),
     "lines[0].usage[0].quantity: expected a non-negative decimal string"),
    (lambda o: o.update(history={"orders": [{"id": "O-0", "placed_at": "2026-01-01T00:00:00Z"}]}),
     "history.orders[0].product: required"),
])
def test_a_field_of_the_wrong_kind_is_named(change, problem):
    order = example()
    change(order)

    assert problems_of(order) == [problem]


def test_payments_that_do_not_pay_for_the_lines_are_named_once_the_rest_reads():
    order = example()
    order["payments"][0]["amount"] = "890.00"

    assert problems_of(order) == [
        "payments: add up to 950.00 CNY but the lines' amount_paid add up to 960.00 CNY"]


def test_something_that_is_not_an_order_object_is_refused():
    assert problems_of([1, 2]) == ["expected an object"]
    assert problems_of({}) == ["empty order"]


def test_what_only_the_engine_reads_is_read_too():
    # given the history `refunddesk assess` takes and today's price of a line
    order = example()
    order["lines"][0]["current_price"] = "800.00"
    order["lines"][0]["usage"] = [{"metric": "traffic", "quantity": "12.50", "unit": "GB",
                                   "period_start": "2026-03-01T10:05:00+08:00",
                                   "period_end": "2026-03-02T10:05:00+08:00"}]
    order["history"] = {
        "refunds": [{"at": "2026-02-01T10:00:00+08:00", "product": "cvm",
                     "rule": "five_day_no_reason", "amount": "12.34", "currency": "USD"}],
        "orders": [{"id": "TC-0", "product": "cvm", "placed_at": "2026-01-01T00:00:00Z"}]}

    facts = read_facts(order)

    assert facts.lines[0].current_price == 80000
    assert facts.lines[0].usage[0].quantity == Decimal("12.5")
    assert (facts.refunds[0].amount, facts.refunds[0].currency) == (1234, "USD")
    assert (facts.orders[0].kind, facts.orders[0].placed_at) == (
        "new", datetime(2026, 1, 1, tzinfo=UTC))


def test_the_engine_refuses_unreadable_facts_with_the_readers_words():
    order = example()
    del order["lines"][0]["billing"]

    with pytest.raises(AssessmentError, match=r"^lines\[0\]\.billing: missing is not one of"):
        assess(load_preset("tencent-cloud"), order, as_of=datetime(2026, 3, 2, tzinfo=UTC))


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
    | st.text(max_size=8),
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=10)


@settings(max_examples=200)
@given(value=JSON)
def test_anything_json_is_either_an_order_or_a_facts_error(value):
    try:
        read_facts(value)
    except FactsError as error:
        assert error.problems
    # no other exception: nothing falls through to a traceback


def _paths(value: Any, path: str = "") -> list[str]:
    """Every field's path in a decoded JSON object, as problems name them."""
    paths = []
    if isinstance(value, dict):
        for key, item in value.items():
            inner = f"{path}.{key}" if path else key
            paths.append(inner)
            paths.extend(_paths(item, inner))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            inner = f"{path}[{index}]"
            paths.append(inner)
            paths.extend(_paths(item, inner))
    return paths


def _replace(value: Any, path: str, new: Any) -> None:
    parts = path.replace("[", ".[").split(".")
    *parents, last = parts
    for part in parents:
        value = value[int(part[1:-1])] if part.startswith("[") else value[part]
    if last.startswith("["):
        value[int(last[1:-1])] = new
    else:
        value[last] = new


@settings(max_examples=150)
@given(request=requests(), data=st.data())
def test_a_field_spoilt_anywhere_is_named_or_still_reads(request, data):
    # given valid facts with one field replaced by some other JSON value
    facts = copy.deepcopy(request[0])
    path = data.draw(st.sampled_from(_paths(facts)))
    _replace(facts, path, data.draw(JSON))
    # when they are read, then they still read, or the problems are all in the part of the
    # order the field is in, or its totals
    top = re.split(r"[.\[]", path)[0]
    try:
        assert isinstance(read_facts(facts), OrderFacts)
    except FactsError as error:
        assert error.problems
        assert all(problem.path.startswith(top) or problem.path == "payments"
                   for problem in error.problems), (path, error.problems)
