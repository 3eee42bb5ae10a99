"""Lines of one order under different refund policies through the API: the quote answers
one group per policy, and opening a case opens one per policy (the first case at the top,
every case in `cases`), all or none, and a retry with the same Idempotency-Key gets the
same answer."""

from __future__ import annotations

import json

import pytest
from ninja.responses import NinjaJSONEncoder

from refunddesk.api.schemas import OpenedCasesOut
from refunddesk.billing.models import Product
from refunddesk.cases.models import RefundCase
from refunddesk.notifications.models import EmailDelivery
from tests.api.conftest import client_with, error_of, post
from tests.portal.builders import mixed_order

pytestmark = pytest.mark.django_db

ACCOUNT = "acct-mix-api"


@pytest.fixture
def order():
    """Line 1 a server (Tencent Cloud, 914.29 back at once), line 2 a VPN (the 30-day
    guarantee, 300.00 back at once)."""
    return mixed_order("MIX-API-1", ACCOUNT, "mix.api@example.com")


def open_cases(client, order, lines=("1", "2"), **headers):
    return client.post("/api/v1/cases", json.dumps({
        "account": ACCOUNT, "order": order.external_id, "lines": list(lines),
        "language": "en"}), content_type="application/json", **headers)


# --- quotes ------------------------------------------------------------------------------

def test_a_quote_of_lines_under_two_policies_answers_one_group_per_policy(reader, order):
    # When lines under two policies are quoted
    response = post(reader, "/api/v1/quotes", {"order": order.external_id,
                                              "lines": ["2", "1"]})

    # Then there is one group per policy, in the order of the lines, each with its own
    # assessment; no single assessment stands for them all
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["assessment"] is None
    groups = body["groups"]
    assert [(group["policy"], group["lines"]) for group in groups] == [
        ("tencent-cloud@1", ["1"]), ("vpn-30-day@1", ["2"])]
    assert [group["assessment"]["total"] for group in groups] == ["914.29", "300.00"]
    assert groups[0]["assessment"]["rule"] == "five_day_no_reason"
    assert groups[1]["assessment"]["allocation"][0]["destination"] == "original"
    assert any("Line 2" in step for step in groups[1]["assessment"]["explanation"])


def test_a_quote_of_lines_under_one_policy_keeps_its_assessment_and_has_one_group(
        reader, order):
    response = post(reader, "/api/v1/quotes", {"order": order.external_id, "lines": ["2"]})

    body = response.json()
    assert body["assessment"]["total"] == "300.00"
    assert body["groups"] == [{"policy": "vpn-30-day@1", "lines": ["2"],
                               "assessment": body["assessment"]}]


def test_a_quote_of_a_line_under_no_policy_is_a_conflict_naming_the_line(reader, order):
    Product.objects.filter(code="vpn").update(policy_id="")

    response = post(reader, "/api/v1/quotes", {"order": order.external_id,
                                              "lines": ["1", "2"]})

    assert response.status_code == 409
    error = error_of(response)
    assert (error["code"], error["field"]) == ("no_policy", "lines")
    assert error["message"].startswith("Line 2 is not covered by any refund policy")


# --- opening cases -----------------------------------------------------------------------

def test_opening_a_case_for_lines_under_two_policies_opens_one_case_per_policy(
        writer, order):
    # When a case is asked for lines under two policies
    response = open_cases(writer, order)

    # Then two cases are opened through the API channel, each with its own number
    assert response.status_code == 201, response.content
    body = response.json()
    assert [case["lines"][0]["id"] for case in body["cases"]] == ["1", "2"]
    first, second = body["cases"]
    assert first["tracking_number"] != second["tracking_number"]
    assert (first["assessed_total"], second["assessed_total"]) == ("914.29", "300.00")
    assert {case["channel"] for case in body["cases"]} == {"api"}
    assert RefundCase.objects.count() == 2
    # And the answer's own fields are the first case, as for a single case
    assert {name: value for name, value in body.items() if name != "cases"} == first
    # And each case reads back as listed
    for case in body["cases"]:
        assert writer.get(f"/api/v1/cases/{case['tracking_number']}").json() == case
    # And the customer gets one "received" e-mail for both
    assert EmailDelivery.objects.filter(kind="submitted").count() == 1


def test_the_answer_is_byte_for_byte_what_ninja_renders_after_checking_it(writer, order):
    # When cases are opened (the answer skips Ninja's check against OpenedCasesOut)
    response = open_cases(writer, order)

    # Then the answer is what Ninja gives for it checked against OpenedCasesOut
    assert response.status_code == 201
    checked = OpenedCasesOut.model_validate(response.json()).model_dump(by_alias=True)
    assert response.content == json.dumps(checked, cls=NinjaJSONEncoder).encode()
    assert response["Content-Type"] == "application/json; charset=utf-8"


def test_a_retry_with_the_same_idempotency_key_gets_the_same_cases(writer, order):
    # Given cases opened with an idempotency key
    first = open_cases(writer, order, HTTP_IDEMPOTENCY_KEY="mixed-1")
    assert first.status_code == 201

    # When the request is sent again with the key
    again = open_cases(writer, order, HTTP_IDEMPOTENCY_KEY="mixed-1")

    # Then the same answer comes back, both cases, and nothing more was opened
    assert (again.status_code, again.json()) == (201, first.json())
    assert again["Idempotent-Replayed"] == "true"
    assert RefundCase.objects.count() == 2


def test_asking_again_without_a_key_is_refused_and_opens_nothing(writer, order):
    open_cases(writer, order)

    response = open_cases(writer, order)

    assert response.status_code == 409
    assert error_of(response)["code"] == "lines_already_in_case"
    assert RefundCase.objects.count() == 2


def test_a_line_under_no_policy_refuses_the_whole_request(writer, order):
    Product.objects.filter(code="vpn").update(policy_id="")

    response = open_cases(writer, order)

    assert response.status_code == 409
    error = error_of(response)
    assert (error["code"], error["field"]) == ("no_policy", "lines")
    assert "Line 2" in error["message"]
    assert not RefundCase.objects.exists()


def test_without_a_key_nothing_is_quoted_or_opened(order):
    stranger = client_with()

    assert open_cases(stranger, order).status_code == 401
    assert post(stranger, "/api/v1/quotes", {"order": order.external_id,
                                             "lines": ["1", "2"]}).status_code == 401
    assert not RefundCase.objects.exists()


def test_a_key_that_only_reads_cannot_open_cases(reader, order):
    assert open_cases(reader, order).status_code == 403
    assert not RefundCase.objects.exists()
