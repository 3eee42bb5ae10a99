"""POST /api/v1/cases: opening a case for some lines of an account's order, as a
merchant's console does on its customer's behalf."""

from __future__ import annotations

import json

import pytest
from ninja.responses import NinjaJSONEncoder

from refunddesk.billing.models import Product
from refunddesk.cases.models import RefundCase
from refunddesk.notifications.models import EmailDelivery
from tests.api.conftest import (
    EXAMPLE_ACCOUNT,
    EXAMPLE_ORDER_ID,
    assert_invalid,
    error_of,
    example_order,
    fresh_order,
    post,
)


def test_opening_a_case_gives_201_and_the_case_through_the_api_channel(db, writer):
    # Given a customer's VPN order
    order = fresh_order("acct-han", "han.meimei@example.com")

    # When the console opens a case for its line, in English
    response = post(writer, "/api/v1/cases", {
        "account": "acct-han", "order": order.external_id, "lines": ["1"],
        "reason": "I no longer need it.", "language": "en"})

    # Then the case is created, marked as opened through the API, and approved at once
    assert response.status_code == 201, response.content
    body = response.json()
    case = RefundCase.objects.get(tracking_number=body["tracking_number"])
    assert (body["channel"], case.channel) == ("api", "api")
    assert (body["account"], body["order"]) == ("acct-han", order.external_id)
    assert (case.reason_text, case.language) == ("I no longer need it.", "en")
    assert body["state"] == "approved" and body["approved_total"] == "300.00"
    assert [line["id"] for line in body["lines"]] == ["1"]
    # And the customer's e-mail about it is queued in their language
    submitted = EmailDelivery.objects.get(case=case, kind="submitted")
    assert (submitted.to_address, submitted.language, submitted.status) == (
        "han.meimei@example.com", "en", "queued")
    # And reading it back gives the same case, the only one the request opened
    shown = {name: value for name, value in body.items() if name != "cases"}
    assert writer.get(f"/api/v1/cases/{case.tracking_number}").json() == shown
    assert body["cases"] == [shown]


@pytest.mark.parametrize("approved_at_once", [True, False],
                         ids=["approved with its payouts", "sent to review"])
def test_the_answer_shows_the_cases_as_written_byte_for_byte_as_reading_them_back(
        db, writer, approved_at_once):
    # Given an order of two lines, inside its money-back window or (the account's refund
    # already used) not
    order = fresh_order(lines=2)
    if not approved_at_once:
        first = post(writer, "/api/v1/cases", {
            "account": order.account.external_id, "order": order.external_id,
            "lines": ["1"]})
        assert first.json()["state"] == "approved"
        order = fresh_order(order.account.external_id, order.account.email, lines=2)

    # When a case is opened for both lines (shown as written, not read back)
    response = post(writer, "/api/v1/cases", {
        "account": order.account.external_id, "order": order.external_id,
        "lines": ["1", "2"], "reason": "Not needed.", "language": "en"})

    # Then the answer is, to the byte, what reading the case back gives
    assert response.status_code == 201, response.content
    number = response.json()["tracking_number"]
    read = writer.get(f"/api/v1/cases/{number}").json()
    assert (read["state"] == "approved") is approved_at_once
    assert bool(read["payouts"]) is approved_at_once
    assert response.content == json.dumps({**read, "cases": [read]},
                                          cls=NinjaJSONEncoder).encode()


def test_a_case_opened_without_a_language_writes_to_the_customer_in_chinese(db, writer):
    # Given the DESIGN example order
    example_order()

    # When a case is opened with only the required fields
    response = post(writer, "/api/v1/cases", {
        "account": EXAMPLE_ACCOUNT, "order": EXAMPLE_ORDER_ID, "lines": ["1"]})

    # Then it goes to review, and the customer hears in the site's language
    assert response.status_code == 201, response.content
    case = RefundCase.objects.get(tracking_number=response.json()["tracking_number"])
    assert (case.state, case.language, case.channel) == ("in_review", "zh-hans", "api")
    assert EmailDelivery.objects.get(case=case, kind="submitted").to_address == (
        "li.lei@example.com")


def test_the_same_lines_cannot_be_in_two_open_cases(db, writer):
    # Given a case opened through the API
    order = fresh_order("acct-api", lines=2)
    body = {"account": "acct-api", "order": order.external_id, "lines": ["1"]}
    assert post(writer, "/api/v1/cases", body).status_code == 201

    # When the same line is asked for again, alone or with another
    again = post(writer, "/api/v1/cases", body)
    with_another = post(writer, "/api/v1/cases", dict(body, lines=["2", "1"]))

    # Then both are refused as conflicts and nothing more is opened
    for response in (again, with_another):
        assert response.status_code == 409, response.content
        assert error_of(response)["code"] == "lines_already_in_case"
    assert RefundCase.objects.count() == 1


def test_a_case_cannot_be_opened_for_another_accounts_order(db, writer):
    # Given two customers' orders
    theirs = fresh_order("acct-theirs", "theirs@example.com")
    fresh_order("acct-mine", "mine@example.com")

    # When a case is asked for with one account and the other's order
    response = post(writer, "/api/v1/cases", {
        "account": "acct-mine", "order": theirs.external_id, "lines": ["1"]})

    # Then the order is not found for that account, and nothing is opened
    assert response.status_code == 404
    error = error_of(response)
    assert (error["code"], error["field"]) == ("not_found", "order")
    assert not RefundCase.objects.exists()


def test_a_case_cannot_be_opened_for_an_unknown_account(db, writer):
    # Given an order
    order = fresh_order()

    # When a case is asked for with an account that does not exist
    response = post(writer, "/api/v1/cases", {
        "account": "acct-ghost", "order": order.external_id, "lines": ["1"]})

    # Then the account is named as not found
    assert response.status_code == 404
    error = error_of(response)
    assert (error["code"], error["field"]) == ("not_found", "account")
    assert not RefundCase.objects.exists()


VALID_CASE = {"account": "acct-api", "order": "VPN-API-VALID", "lines": ["1"],
              "reason": "", "language": "en"}


@pytest.mark.parametrize(("change", "field"), [
    pytest.param({"account": None}, "account", id="missing account"),
    pytest.param({"order": None}, "order", id="missing order"),
    pytest.param({"lines": None}, "lines", id="missing lines"),
    pytest.param({"account": 1001}, "account", id="account a number"),
    pytest.param({"order": ["VPN-API-VALID"]}, "order", id="order a list"),
    pytest.param({"lines": "1"}, "lines", id="lines a string"),
    pytest.param({"lines": [True]}, "lines.0", id="a line a boolean"),
    pytest.param({"lines": []}, "lines", id="no lines"),
    pytest.param({"language": "fr"}, "language", id="a language not offered"),
    pytest.param({"language": "EN"}, "language", id="a language in capitals"),
    pytest.param({"language": 1}, "language", id="a language a number"),
    pytest.param({"reason": "x" * 4001}, "reason", id="reason too long"),
    pytest.param({"account": ""}, "account", id="empty account"),
    pytest.param({"order": "o" * 65}, "order", id="order id too long"),
])
def test_an_invalid_request_to_open_a_case_is_refused_naming_the_field(
        db, writer, change, field):
    # Given a valid request, changed in one field (None: the field left out)
    fresh_order("acct-api", order_id="VPN-API-VALID")
    body = {name: value for name, value in {**VALID_CASE, **change}.items()
            if value is not None}

    # When it is sent
    response = post(writer, "/api/v1/cases", body)

    # Then it is refused, naming that field, and nothing is opened
    assert_invalid(response, field)
    assert not RefundCase.objects.exists()


@pytest.mark.parametrize("raw", [
    pytest.param("{not json", id="broken json"),
    pytest.param("", id="no body"),
])
def test_a_body_that_is_not_json_is_refused_in_the_error_shape(db, writer, raw):
    # When a request to open a case carries no JSON object
    response = writer.post("/api/v1/cases", raw, content_type="application/json")

    # Then it is refused as a client error in the one error shape
    assert response.status_code in (400, 422), response.content
    error_of(response)
    assert not RefundCase.objects.exists()


def test_a_body_that_is_a_json_array_is_refused_in_the_error_shape(db, writer):
    # When a request to open a case carries a JSON array instead of an object
    response = post(writer, "/api/v1/cases", [VALID_CASE])

    # Then it is refused in the one error shape
    assert response.status_code in (400, 422), response.content
    error_of(response)


@pytest.mark.parametrize(("method", "path", "body"), [
    pytest.param("get", "/api/v1/cases?account=acct%00", None, id="list filter"),
    pytest.param("post", "/api/v1/quotes", {"order": "TC\u0000", "lines": ["1"]},
                 id="quoted order"),
    pytest.param("post", "/api/v1/cases", {"account": "acct\u0000", "order": EXAMPLE_ORDER_ID,
                                           "lines": ["1"]}, id="account"),
    pytest.param("post", "/api/v1/cases", {"account": EXAMPLE_ACCOUNT, "order": "TC\u0000",
                                           "lines": ["1"]}, id="order"),
    pytest.param("post", "/api/v1/cases", {"account": EXAMPLE_ACCOUNT, "order": EXAMPLE_ORDER_ID,
                                           "lines": ["1"], "reason": "a\u0000b"},
                 id="reason"),
])
def test_a_nul_character_in_any_input_never_makes_a_server_error(
        db, writer, method, path, body):
    # Given the example order (PostgreSQL, unlike SQLite, refuses NUL in any text it is
    # sent, so this matters when the suite runs on the production database)
    example_order()

    # When a NUL character comes in a filter, an id or the customer's words
    response = post(writer, path, body) if method == "post" else writer.get(path)

    # Then the answer is an answer, never a server error
    assert response.status_code < 500, response.content
    if response.status_code >= 400:
        error_of(response)


def test_opening_a_case_for_a_line_the_order_does_not_have_is_refused_like_a_quote(
        db, writer):
    # Given an order with one line
    order = fresh_order("acct-api")

    # When a case is asked for line 9
    response = post(writer, "/api/v1/cases", {
        "account": "acct-api", "order": order.external_id, "lines": ["9"]})

    # Then, as for a quote, the lines are named as invalid
    assert_invalid(response, "lines")


def test_opening_a_case_for_lines_under_no_policy_gives_the_code_a_quote_gives(db, writer):
    # Given an order whose product has no refund policy
    order = fresh_order("acct-api")
    Product.objects.filter(code="vpn").update(policy_id="")

    # When a case is asked for its line
    response = post(writer, "/api/v1/cases", {
        "account": "acct-api", "order": order.external_id, "lines": ["1"]})

    # Then it is refused with the same code the quote gives
    assert response.status_code == 409
    assert error_of(response)["code"] == "no_policy"


def test_opening_a_case_reads_the_order_once_and_writes_the_case_row_once(db, writer):
    # Given a customer's order, inside its money-back window (approved at once)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    order = fresh_order("acct-once", "once@example.com")

    # When a case is opened for it
    with CaptureQueriesContext(connection) as queries:
        response = post(writer, "/api/v1/cases", {
            "account": "acct-once", "order": order.external_id, "lines": ["1"]})

    # Then the order was read once for the checks, the assessment and the case, the case
    # row was inserted in its final state and never updated, and nothing was read back
    assert response.status_code == 201 and response.json()["state"] == "approved"
    statements = [query["sql"] for query in queries.captured_queries]
    order_reads = [sql for sql in statements
                   if sql.startswith("SELECT") and 'FROM "billing_order" ' in sql]
    case_writes = [sql.split(" (")[0] for sql in statements
                   if '"cases_refundcase"' in sql and not sql.startswith("SELECT")]
    case_reads = [sql for sql in statements
                  if sql.startswith("SELECT") and 'FROM "cases_refundcase"' in sql]
    assert len(order_reads) == 1
    assert case_writes == ['INSERT INTO "cases_refundcase"']
    assert case_reads == []
