"""/api/v1/quotes: what refunding some lines would give now, without opening a case."""

from __future__ import annotations

import json

import pytest

from refunddesk.billing.models import Product
from refunddesk.cases.models import RefundCase
from refunddesk.notifications.models import EmailDelivery
from tests.api.conftest import (
    EXAMPLE_ORDER_ID,
    assert_invalid,
    error_of,
    example_order,
    fresh_order,
    post,
)


def test_a_quote_gives_the_assessment_and_opens_nothing(db, reader):
    # Given a VPN bought three days ago, inside its 30-day money-back guarantee
    order = fresh_order()

    # When the console asks what refunding its line would give
    response = post(reader, "/api/v1/quotes", {"order": order.external_id, "lines": ["1"]})

    # Then it gets the whole assessment: a full refund back to Alipay, approved at once
    assert response.status_code == 200, response.content
    assessment = response.json()["assessment"]
    assert (assessment["outcome"], assessment["rule"], assessment["handling"]) == (
        "full", "money_back", "approve")
    assert (assessment["currency"], assessment["total"]) == ("CNY", "300.00")
    assert [(line["id"], line["refundable"]) for line in assessment["lines"]] == [
        ("1", "300.00")]
    assert [(a["method"], a["destination"], a["amount"])
            for a in assessment["allocation"]] == [("alipay", "original", "300.00")]
    assert assessment["explanation"] and assessment["steps"]
    # And no case was opened, no one was written to
    assert not RefundCase.objects.exists()
    assert not EmailDelivery.objects.exists()


def test_a_quote_of_the_design_example_long_after_purchase_is_a_partial_refund(db, reader):
    # Given the DESIGN example order, its five days long past
    example_order()

    # When it is quoted
    response = post(reader, "/api/v1/quotes", {"order": EXAMPLE_ORDER_ID, "lines": ["1"]})

    # Then the refund is what remains of the cash, for review, to the balance
    assessment = response.json()["assessment"]
    assert (assessment["policy"], assessment["outcome"], assessment["handling"]) == (
        "tencent-cloud@1", "partial", "review")
    assert 0 < float(assessment["total"]) < 900


def test_a_quote_explains_itself_in_english_when_english_is_asked_for(db, reader):
    # Given an order
    order = fresh_order()

    # When it is quoted with Accept-Language: en
    response = post(reader, "/api/v1/quotes", {"order": order.external_id, "lines": ["1"]})

    # Then the explanation is in English
    assert response.json()["assessment"]["explanation"][0].startswith("Order ")


@pytest.mark.parametrize("accept_language", [
    pytest.param("zh-hans", id="asked for in Chinese"),
    pytest.param(None, id="no Accept-Language: the site's default, Chinese"),
])
def test_a_quote_explains_itself_in_chinese_when_chinese_is_wanted(
        db, reader, accept_language):
    # Given an order, and its quote in English
    order = fresh_order()
    body = json.dumps({"order": order.external_id, "lines": ["1"]})
    english = reader.post("/api/v1/quotes", body, content_type="application/json")

    # When it is quoted in Chinese (asked for, or as the site's default)
    headers = {"HTTP_ACCEPT_LANGUAGE": accept_language or ""}
    chinese = reader.post("/api/v1/quotes", body, content_type="application/json",
                          **headers)

    # Then the numbers agree and only the explanation changes language
    assert chinese.status_code == 200, chinese.content
    english, chinese = english.json()["assessment"], chinese.json()["assessment"]
    assert english["total"] == chinese["total"]
    assert english["explanation"] != chinese["explanation"]


def test_a_quote_of_an_unknown_order_is_not_found(db, reader):
    # Given no such order
    fresh_order()

    # When it is quoted
    response = post(reader, "/api/v1/quotes", {"order": "NO-SUCH-ORDER", "lines": ["1"]})

    # Then the order is named as not found
    assert response.status_code == 404
    error = error_of(response)
    assert (error["code"], error["field"]) == ("not_found", "order")
    assert "NO-SUCH-ORDER" in error["message"]


@pytest.mark.parametrize(("lines", "field"), [
    pytest.param(["9"], "lines", id="a line the order does not have"),
    pytest.param([], "lines", id="no lines"),
    pytest.param("1", "lines", id="a string, not a list"),
    pytest.param([1], "lines.0", id="a number, not a line id"),
    pytest.param(None, "lines", id="null"),
    pytest.param([str(n) for n in range(101)], "lines", id="over a hundred lines"),
])
def test_a_quote_with_bad_lines_is_refused_naming_the_lines(db, reader, lines, field):
    # Given an order with one line
    order = fresh_order()

    # When it is quoted with lines that cannot be
    response = post(reader, "/api/v1/quotes", {"order": order.external_id, "lines": lines})

    # Then the lines are named as invalid
    assert_invalid(response, field)


def test_a_quote_of_lines_under_no_refund_policy_is_a_conflict(db, reader):
    # Given an order whose product has no refund policy
    order = fresh_order()
    Product.objects.filter(code="vpn").update(policy_id="")

    # When it is quoted
    response = post(reader, "/api/v1/quotes", {"order": order.external_id, "lines": ["1"]})

    # Then it is refused: there is nothing to assess them by
    assert response.status_code == 409
    assert error_of(response)["code"] == "no_policy"
