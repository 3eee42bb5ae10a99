import copy
from datetime import datetime

import pytest

from refunddesk.billing.importing import OrderImporter
from refunddesk.billing.models import Order, Product
from refunddesk.billing.order_facts import read_order
from tests.conftest import EXAMPLE_ORDER

# The DESIGN example: a CVM bought 2026-03-01 10:05 (Beijing), 900.00 cash + 60.00 voucher.
INSIDE_FIVE_DAYS = datetime.fromisoformat("2026-03-04T12:00:00+08:00")
AFTER_FIVE_DAYS = datetime.fromisoformat("2026-06-04T12:00:00+08:00")


def import_order(facts, policy="tencent-cloud"):
    OrderImporter().import_order(read_order(facts))
    for line in facts["lines"]:
        Product.objects.filter(code=line["product"]).update(policy_id=policy)
    return Order.objects.select_related("account").get(external_id=facts["id"])


@pytest.fixture
def order(db):
    return import_order(copy.deepcopy(EXAMPLE_ORDER))


@pytest.fixture
def two_line_order(db):
    facts = copy.deepcopy(EXAMPLE_ORDER)
    facts["id"] = "TC-20260301-0002"
    facts["lines"].append(dict(facts["lines"][0], id="2", sku="cbs.100g", product="cbs",
                               category="backup", list_price="120.00", amount_paid="120.00"))
    facts["payments"][0]["amount"] = "1020.00"
    return import_order(facts)


@pytest.fixture(autouse=True)
def in_english():
    # The messages these tests match are the English source strings; zh-hans is the
    # site's default language.
    from django.utils import translation

    with translation.override("en"):
        yield
