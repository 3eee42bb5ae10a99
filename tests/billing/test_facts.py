"""Order → order facts: the policy's domain values built straight from the mirror's rows,
the same as the one reader makes of the order-facts JSON."""

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from refunddesk.billing.facts import (
    facts_of_orders,
    history_orders,
    order_facts,
    orders_of_accounts,
)
from refunddesk.billing.importing import OrderImporter, Outcome
from refunddesk.billing.models import Order, Usage
from refunddesk.billing.order_facts import order_digest, read_order
from refunddesk.billing.order_records import (
    BY_ACCOUNT_AND_ID,
    BY_ID,
    BY_PK,
    OrderRecord,
    read_record,
    record_of,
)
from refunddesk.policy.facts import RefundHistory
from refunddesk.policy.facts_reading import read_facts
from refunddesk.policy.facts_writing import write_facts
from tests.policy.test_invariants import requests

GOLDEN = Path(__file__).parent / "golden" / "order_facts.json"
SHANGHAI = ZoneInfo("Asia/Shanghai")

pytestmark = pytest.mark.django_db


def load_order(external_id: str) -> OrderRecord:
    record = read_record(BY_ID, external_id)
    assert record is not None, external_id
    return record


@pytest.fixture
def imported(example_order):
    """Given the DESIGN example, an earlier VPN order and a later renewal of the same account."""
    importer = OrderImporter()
    example_order["lines"][0]["usage"] = [{
        "metric": "traffic", "quantity": "12.5", "unit": "GB",
        "period_start": "2026-03-01T10:05:00+08:00", "period_end": "2026-03-02T10:05:00+08:00",
    }]
    earlier = json.loads(json.dumps(example_order))
    earlier.update(id="VPN-20260115-0007", placed_at="2026-01-15T08:30:00+08:00",
                   currency="USD")
    earlier["lines"] = [{
        "id": "1", "sku": "vpn.yearly", "product": "vpn", "category": "vpn", "billing": "prepaid",
        "term": {"unit": "year", "count": 1}, "service_start": "2026-01-15T08:30:00+08:00",
        "service_end": "2027-01-15T08:30:00+08:00", "list_price": "99.00",
        "amount_paid": "79.00", "flags": ["promotion_non_refundable"],
    }]
    earlier["payments"] = [{"id": "P1", "method": "card", "funding": "cash", "amount": "79.00",
                            "paid_at": "2026-01-15T08:30:05+08:00", "gateway": "stripe",
                            "reference": "ch_3Nabc"}]
    for order in (earlier, example_order):
        assert importer.import_order(read_order(order)) is Outcome.CREATED
    return example_order


def test_the_facts_of_an_order_written_in_the_format_match_the_golden_file(imported):
    facts = order_facts(load_order("TC-20260301-0001"))

    assert write_facts(facts, SHANGHAI) == json.loads(GOLDEN.read_text(encoding="utf-8"))


def test_the_facts_carry_refunds_the_cases_app_passes_in(imported):
    refund = RefundHistory(datetime(2026, 3, 2, 2, 0, tzinfo=UTC), "cvm", "five_day_no_reason",
                           90000, "CNY")

    facts = order_facts(load_order("TC-20260301-0001"), refunds=[refund])

    assert facts.refunds == [refund]


def test_facts_written_and_read_back_in_are_the_same_order(imported):
    facts = order_facts(load_order("TC-20260301-0001"))
    written = write_facts(facts, SHANGHAI)

    assert read_facts(written) == facts
    del written["history"]
    assert order_digest(read_order(written)) == order_digest(read_order(imported))
    assert OrderImporter().import_order(read_order(written)) is Outcome.UNCHANGED


def test_the_facts_hold_instants_whatever_zone_they_were_written_in(imported):
    facts = order_facts(load_order("TC-20260301-0001"))

    assert facts.placed_at == datetime(2026, 3, 1, 2, 0, tzinfo=UTC)
    assert write_facts(facts, ZoneInfo("Europe/Berlin"))["placed_at"] == (
        "2026-03-01T03:00:00+01:00")


def test_reading_the_facts_takes_a_fixed_number_of_queries(imported, django_assert_num_queries):
    # the order with its account, lines, products and usage; its payments; and the
    # account's other orders
    with django_assert_num_queries(3):
        order_facts(load_order("TC-20260301-0001"))


def test_a_record_passed_along_is_not_read_again(imported, django_assert_num_queries):
    record = load_order("TC-20260301-0001")

    with django_assert_num_queries(0):
        assert record_of(record) is record
        assert [line.product.code for line in record.lines] == ["cvm"]
        assert record.account.external_id == "acct-1001"


def test_an_order_held_as_a_model_is_read_once_whole(imported, django_assert_num_queries):
    order = Order.objects.get(external_id="TC-20260301-0001")

    with django_assert_num_queries(2):  # the order with its lines and usage; payments
        record = record_of(order)

    assert order_facts(record) == order_facts(load_order("TC-20260301-0001"))


def test_the_three_lookups_find_the_same_order_and_nothing_else(imported):
    order = Order.objects.select_related("account").get(external_id="TC-20260301-0001")

    found = [read_record(BY_PK, order.pk), read_record(BY_ID, "TC-20260301-0001"),
             read_record(BY_ACCOUNT_AND_ID, order.account.external_id, "TC-20260301-0001")]

    assert {record.order.pk for record in found if record} == {order.pk}
    assert all(record is not None for record in found)
    assert read_record(BY_ID, "TC-nope") is None
    assert read_record(BY_ACCOUNT_AND_ID, "someone-else", "TC-20260301-0001") is None


def test_a_record_holds_what_the_orm_reads_of_the_order(imported):
    record = load_order("TC-20260301-0001")
    order = Order.objects.select_related("account").get(external_id="TC-20260301-0001")

    assert record.order.__dict__.keys() >= {"id", "placed_at", "currency"}
    assert ([(f.attname, getattr(record.order, f.attname)) for f in Order._meta.concrete_fields]
            == [(f.attname, getattr(order, f.attname)) for f in Order._meta.concrete_fields])
    assert record.account == order.account
    assert record.lines == list(order.lines.order_by("position", "id"))
    assert [line.product for line in record.lines] == [
        line.product for line in order.lines.order_by("position", "id")]
    assert record.payments == list(order.payments.order_by("position", "id"))
    assert all(line.order is record.order for line in record.lines)


def test_a_line_with_several_usage_periods_is_one_line_with_its_periods_in_order(imported):
    # given the example's line with two more periods, written out of order, one of them
    # with two metrics
    [line] = Order.objects.get(external_id="TC-20260301-0001").lines.all()
    for start, metric in (("2026-03-05", "traffic"), ("2026-03-03", "traffic"),
                          ("2026-03-03", "cpu_hours")):
        moment = datetime.fromisoformat(f"{start}T00:00:00+00:00")
        Usage.objects.create(line=line, metric=metric, quantity=Decimal("1.5"), unit="h",
                             period_start=moment, period_end=moment + timedelta(days=1))

    record = load_order("TC-20260301-0001")

    # then the line is there once, and its periods are those the ORM reads, oldest first
    assert [found.pk for found in record.lines] == [line.pk]
    assert [(u.metric, u.period_start) for u in record.usage[line.pk]] == [
        (u.metric, u.period_start)
        for u in line.usage.order_by("period_start", "metric")]
    assert len(record.usage[line.pk]) == 4


def test_an_order_without_lines_reads_as_a_record_without_lines(imported):
    Order.objects.get(external_id="TC-20260301-0001").lines.all().delete()

    assert load_order("TC-20260301-0001").lines == []


def test_the_history_of_one_account_is_the_batch_history_without_the_order(imported):
    for order in Order.objects.all():
        batch = orders_of_accounts([order.account_id])[order.account_id]

        assert history_orders(order) == batch.without(order.pk)


def test_facts_from_plain_rows_equal_the_facts_from_the_order(imported, django_assert_num_queries):
    orders = {order.pk: order for order in Order.objects.all()}

    with django_assert_num_queries(4):
        from_rows = facts_of_orders(orders)

    assert from_rows == {pk: order_facts(load_order(order.external_id), other_orders=[])
                         for pk, order in orders.items()}


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(request=requests(), zone=st.sampled_from([SHANGHAI, UTC, ZoneInfo("America/New_York")]))
def test_any_valid_order_comes_back_from_the_mirror_as_the_facts_it_was_read_as(request, zone):
    # given valid order facts (the policy invariants' generator), without their history
    sent, _as_of = request
    sent.pop("history", None)
    read = read_facts(sent)
    # when the import keeps them and the mirror builds them again, one way or the other
    OrderImporter().import_order(read_order(sent))
    order = load_order(read.id)  # its record
    built = order_facts(order, other_orders=[])
    # then they are the facts the one reader made of the JSON, and write back to them
    assert built == read
    assert facts_of_orders([order.order.pk])[order.order.pk] == read
    assert read_facts(write_facts(built, zone)) == read
