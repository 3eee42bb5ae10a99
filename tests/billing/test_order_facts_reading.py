"""Reading the order-facts format: what is accepted, and how each problem is named."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from refunddesk.billing.models import (
    BillingMode,
    Funding,
    OrderKind,
    PaymentMethod,
    SalesChannel,
    TermUnit,
)
from refunddesk.billing.order_facts import OrderFactsError, order_digest, read_order
from refunddesk.policy import facts


def problems_of(order: object) -> list[str]:
    with pytest.raises(OrderFactsError) as caught:
        read_order(order)
    return [str(problem) for problem in caught.value.problems]


def test_the_design_example_reads_into_minor_units(example_order):
    order = read_order(example_order)

    assert order.id == "TC-20260301-0001"
    assert order.lines[0].amount_paid == 96000
    assert order.lines[0].list_price == 120000
    assert [p.amount for p in order.payments] == [90000, 6000]
    assert order.placed_at == datetime(2026, 3, 1, 2, 0, tzinfo=UTC)


def test_a_float_amount_is_refused_because_it_may_have_lost_cents(example_order):
    example_order["payments"][0]["amount"] = 900.0

    assert problems_of(example_order) == [
        'payments[0].amount: not a decimal amount (give it as a string, like "960.00")'
    ]


def test_more_decimal_places_than_the_currency_has_is_refused(example_order):
    example_order["lines"][0]["amount_paid"] = "960.001"

    assert "lines[0].amount_paid: more decimal places than CNY has (2)" in problems_of(
        example_order)


@pytest.mark.parametrize("text", ["٩٦٠.٠٠", " 960.00", "960.00 ", "９６０.00"])
def test_an_amount_in_other_digits_or_with_spaces_is_refused(example_order, text):
    example_order["lines"][0]["amount_paid"] = text

    assert any(problem.startswith("lines[0].amount_paid: not a decimal amount")
               for problem in problems_of(example_order))


def test_yen_amounts_have_no_minor_unit(example_order):
    example_order["currency"] = "JPY"
    example_order["lines"][0].update(list_price="1200", amount_paid="960")
    example_order["payments"][0]["amount"] = "900"
    example_order["payments"][1]["amount"] = "60"

    assert read_order(example_order).lines[0].amount_paid == 960


def test_an_unknown_currency_is_refused(example_order):
    example_order["currency"] = "XYZ"

    assert problems_of(example_order) == ["currency: not an ISO 4217 currency code: 'XYZ'"]


def test_a_payment_in_another_currency_than_its_order_is_refused(example_order):
    example_order["payments"][0]["currency"] = "USD"

    assert problems_of(example_order) == [
        "payments[0].currency: USD differs from the order's currency CNY"
    ]


def test_payments_that_do_not_add_up_to_the_lines_are_refused(example_order):
    example_order["payments"][0]["amount"] = "890.00"

    assert problems_of(example_order) == [
        "payments: add up to 950.00 CNY but the lines' amount_paid add up to 960.00 CNY"
    ]


def test_a_time_without_offset_is_refused(example_order):
    example_order["placed_at"] = "2026-03-01T10:00:00"

    assert problems_of(example_order) == [
        "placed_at: needs a UTC offset, like 2026-03-01T10:00:00+08:00"
    ]


def test_every_problem_of_an_order_is_reported_with_its_path(example_order):
    del example_order["account"]["email"]
    example_order["kind"] = "gift"
    example_order["lines"][0]["service_end"] = "2026-02-01T00:00:00+08:00"
    example_order["lines"][0]["amout_paid"] = "1.00"

    assert problems_of(example_order) == [
        "account.email: required",
        "kind: 'gift' is not one of new, renewal, upgrade",
        "lines[0].amout_paid: unknown field",
        "lines[0].service_end: must be after service_start",
    ]


def test_a_voucher_cannot_be_declared_as_cash(example_order):
    example_order["payments"][1]["funding"] = "cash"

    assert problems_of(example_order) == [
        "payments[1].funding: a voucher payment is funded by voucher, not cash"
    ]


def test_line_and_payment_ids_are_unique_within_an_order(example_order):
    example_order["payments"][1]["id"] = "P1"

    assert problems_of(example_order) == ["payments[1].id: 'P1' appears twice in this order"]


def test_an_order_needs_at_least_one_line(example_order):
    example_order["lines"] = []
    example_order["payments"] = []

    assert problems_of(example_order) == ["lines: expected a list with at least one item"]


def test_a_prepaid_line_needs_a_term_and_an_end(example_order):
    del example_order["lines"][0]["term"]
    del example_order["lines"][0]["service_end"]

    assert problems_of(example_order) == [
        "lines[0].service_end: required",
        "lines[0].term: required for a prepaid line",
    ]


def test_usage_records_are_read_with_exact_quantities(example_order):
    example_order["lines"][0]["usage"] = [{
        "metric": "traffic", "quantity": "12.5", "unit": "GB",
        "period_start": "2026-03-01T00:00:00+08:00", "period_end": "2026-03-02T00:00:00+08:00",
    }]

    assert read_order(example_order).lines[0].usage[0].quantity == Decimal("12.5")


def test_something_that_is_not_an_object_is_refused():
    assert problems_of([1, 2]) == ["expected an object"]


def test_the_digest_ignores_the_offset_a_time_is_written_in(example_order):
    first = order_digest(read_order(example_order))
    example_order["placed_at"] = "2026-03-01T02:00:00+00:00"

    assert order_digest(read_order(example_order)) == first


@pytest.mark.parametrize(("allowed", "choices"), [
    (facts.KINDS, OrderKind), (facts.CHANNELS, SalesChannel), (facts.BILLINGS, BillingMode),
    (facts.TERM_UNITS, TermUnit), (facts.FUNDINGS, Funding), (facts.METHODS, PaymentMethod),
])
def test_the_format_allows_exactly_the_values_the_mirror_can_keep(allowed, choices):
    assert set(allowed) == set(choices.values)


def test_a_payment_method_is_funded_as_the_mirror_says():
    assert {
        method: funding for method, funding in
        [(PaymentMethod.BALANCE, Funding.BALANCE), (PaymentMethod.VOUCHER, Funding.VOUCHER),
         (PaymentMethod.GIFT, Funding.GIFT)]} == facts.FUNDING_OF_METHOD


def test_an_email_the_mirror_cannot_use_is_refused_by_the_import(example_order):
    example_order["account"]["email"] = "li.lei@"

    assert problems_of(example_order) == ["account.email: not an e-mail address"]


def test_a_category_the_mirror_does_not_know_is_refused_by_the_import(example_order):
    example_order["lines"][0]["category"] = "savings_plan"

    assert problems_of(example_order) == [
        "lines[0].category: 'savings_plan' is not one of cloud_server, backup, domain, "
        "ssl_certificate, vpn, saas, other"]


def test_todays_price_is_refused_by_the_import_which_cannot_keep_it(example_order):
    example_order["lines"][0]["current_price"] = "800.00"

    assert problems_of(example_order) == [
        "lines[0].current_price: not kept by the billing mirror; leave it out"]
