"""Order → order facts: the exact JSON the policy engine will see."""

import json
from pathlib import Path

import pytest
from django.test.utils import override_settings

from refunddesk.billing.facts import load_order, order_facts
from refunddesk.billing.importing import OrderImporter, Outcome
from refunddesk.billing.order_facts import read_order

GOLDEN = Path(__file__).parent / "golden" / "order_facts.json"

pytestmark = pytest.mark.django_db


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


@override_settings(TIME_ZONE="Asia/Shanghai")
def test_the_facts_of_an_order_match_the_golden_file(imported):
    facts = order_facts(load_order("TC-20260301-0001"))

    assert facts == json.loads(GOLDEN.read_text(encoding="utf-8"))


def test_the_facts_carry_refunds_the_cases_app_passes_in(imported):
    refund = {"at": "2026-03-02T10:00:00+08:00", "product": "cvm", "rule": "five_day_no_reason"}

    facts = order_facts(load_order("TC-20260301-0001"), refunds=[refund])

    assert facts["history"]["refunds"] == [refund]


def test_facts_read_back_in_are_the_same_order(imported):
    facts = order_facts(load_order("TC-20260301-0001"), with_history=False)

    assert read_order(facts).digest() == read_order(imported).digest()
    assert OrderImporter().import_order(read_order(facts)) is Outcome.UNCHANGED


@override_settings(TIME_ZONE="Europe/Berlin")
def test_times_are_written_in_the_business_time_zone_with_their_offset(imported):
    facts = order_facts(load_order("TC-20260301-0001"))

    assert facts["placed_at"] == "2026-03-01T03:00:00+01:00"


def test_reading_the_facts_takes_a_fixed_number_of_queries(imported, django_assert_num_queries):
    with django_assert_num_queries(5):
        order_facts(load_order("TC-20260301-0001"))
