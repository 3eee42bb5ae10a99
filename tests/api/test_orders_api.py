"""Sending orders through the API: the order-facts format, one at a time or in batches,
created, updated or unchanged, and refused with the field at fault."""

import copy
import json

import pytest

from refunddesk.billing.models import Order
from tests.api.conftest import error_of
from tests.conftest import EXAMPLE_ORDER

pytestmark = pytest.mark.django_db


@pytest.fixture
def feeder(api_client):
    return api_client(["orders:write"])


def send(client, body, path="/api/v1/orders"):
    return client.post(path, json.dumps(body), content_type="application/json")


def test_a_new_order_is_created_and_sending_it_again_changes_nothing(feeder):
    # when the example order is sent twice
    first = send(feeder, EXAMPLE_ORDER)
    again = send(feeder, EXAMPLE_ORDER)

    # then it was created once, then found unchanged
    assert (first.status_code, first.json()) == (201, {"id": "TC-20260301-0001",
                                                        "outcome": "created"})
    assert (again.status_code, again.json()["outcome"]) == (200, "unchanged")
    assert Order.objects.get().payments.count() == 2


def test_a_changed_order_is_updated(feeder):
    send(feeder, EXAMPLE_ORDER)
    changed = copy.deepcopy(EXAMPLE_ORDER)
    changed["invoiced"] = True

    response = send(feeder, changed)

    assert (response.status_code, response.json()["outcome"]) == (200, "updated")
    assert Order.objects.get().is_invoiced is True


def test_an_invalid_order_is_refused_with_the_field_at_fault_and_nothing_is_stored(feeder):
    broken = copy.deepcopy(EXAMPLE_ORDER)
    broken["lines"][0]["amount_paid"] = "nine hundred"

    response = send(feeder, broken)

    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "invalid" and "amount_paid" in error["field"]
    assert not Order.objects.exists()


def test_text_with_a_nul_character_is_refused(feeder):
    broken = copy.deepcopy(EXAMPLE_ORDER)
    broken["account"]["name"] = "Li\x00Lei"
    response = send(feeder, broken)
    assert response.status_code == 422
    assert not Order.objects.exists()


def test_a_batch_imports_each_order_on_its_own_and_reports_each(feeder):
    # given a batch of a good order, a broken one and the good one again
    broken = copy.deepcopy(EXAMPLE_ORDER)
    broken["id"], broken["currency"] = "TC-BROKEN", "yuan"
    response = send(feeder, {"orders": [EXAMPLE_ORDER, broken, EXAMPLE_ORDER]},
                    "/api/v1/orders/batch")

    # then the good one is in, the broken one reported with its field, the repeat unchanged
    body = response.json()
    assert response.status_code == 200
    assert [(r["index"], r["outcome"]) for r in body["results"]] == [
        (0, "created"), (1, "failed"), (2, "unchanged")]
    assert body["results"][1]["id"] == "TC-BROKEN"
    assert body["results"][1]["error"]["field"] == "currency"
    assert body["counts"] == {"created": 1, "updated": 0, "unchanged": 1, "failed": 1}
    assert list(Order.objects.values_list("external_id", flat=True)) == ["TC-20260301-0001"]


def test_an_empty_or_oversized_batch_is_refused(feeder):
    assert send(feeder, {"orders": []}, "/api/v1/orders/batch").status_code == 422
    too_many = {"orders": [{}] * 1001}
    assert send(feeder, too_many, "/api/v1/orders/batch").status_code == 422


def test_sending_orders_needs_the_orders_scope(api_client, stranger):
    reader = api_client(["cases:read", "cases:write"])
    assert send(reader, EXAMPLE_ORDER).status_code == 403
    assert send(stranger, EXAMPLE_ORDER).status_code == 401
    assert not Order.objects.exists()
