"""/api/v1/cases: reading a case by its tracking number and listing cases a page at a
time, as a merchant's console does."""

from __future__ import annotations

import json

import pytest
from ninja.responses import NinjaJSONEncoder

from refunddesk.cases.tracking import check_symbol
from refunddesk.notifications.case_shape import CaseOut, case_out
from tests.api.conftest import (
    EXAMPLE_ACCOUNT,
    assert_invalid,
    case_for,
    error_of,
    example_order,
    fresh_order,
)
from tests.payouts.builders import approved_case


def listed(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [item["tracking_number"] for item in response.json()["items"]]


# --- reading a case ----------------------------------------------------------------------

def test_a_case_is_read_by_its_tracking_number(db, reader):
    # Given a case approved in full, its refund planned back to the Alipay account
    case = approved_case()

    # When the console reads it by its tracking number
    response = reader.get(f"/api/v1/cases/{case.tracking_number}")

    # Then it sees the case as the customer's billing system knows it
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["tracking_number"] == case.tracking_number
    assert body["state"] == "approved"
    assert body["channel"] == "portal"
    assert body["account"] == EXAMPLE_ACCOUNT
    assert body["order"] == case.order.external_id
    assert (body["currency"], body["assessed_total"], body["approved_total"]) == (
        "CNY", "900.00", "900.00")
    assert body["decided_at"] is not None
    # (a whole refund of the prepaid server: its service ends when approved)
    assert body["lines"] == [{"id": "1", "assessed": "900.00", "approved": "900.00",
                              "rule": case.lines.get().rule,
                              "service_ends_at": body["decided_at"]}]
    assert [(p["destination"], p["amount"], p["currency"]) for p in body["payouts"]] == [
        ("original", "900.00", "CNY")]


@pytest.mark.parametrize("make", [approved_case, lambda: case_for(example_order())],
                         ids=["approved with a payout", "in review"])
def test_the_read_is_byte_for_byte_what_ninja_renders_after_checking_it_against_case_out(
        db, reader, make):
    # Given a case (the read skips Ninja's check of its answer against CaseOut)
    case = make()

    # When it is read
    response = reader.get(f"/api/v1/cases/{case.tracking_number}")

    # Then the answer is what Ninja gives for the case checked against CaseOut
    checked = CaseOut.model_validate(case_out(case)).model_dump(by_alias=True)
    assert response.content == json.dumps(checked, cls=NinjaJSONEncoder).encode()
    assert response["Content-Type"] == "application/json; charset=utf-8"


def test_a_case_in_review_shows_no_decision_yet(db, reader):
    # Given the DESIGN example order, long past its five days, applied for today
    case = case_for(example_order())

    # When it is read
    body = reader.get(f"/api/v1/cases/{case.tracking_number}").json()

    # Then it waits for a reviewer: nothing approved, nothing paid
    assert body["state"] == "in_review"
    assert body["approved_total"] is None and body["decided_at"] is None
    assert body["payouts"] == []
    assert body["lines"][0]["approved"] is None


@pytest.mark.parametrize("typed", [
    pytest.param(str.lower, id="lower case"),
    pytest.param(lambda number: number.replace("-", ""), id="without hyphens"),
    pytest.param(lambda number: number.replace("-", " "), id="with spaces"),
    pytest.param(lambda number: number.lower().replace("-", ""), id="lower case, no hyphens"),
])
def test_a_tracking_number_is_found_however_the_customer_typed_it(db, reader, typed):
    # Given a case
    case = case_for(fresh_order())

    # When its number is sent as a person might have typed it
    response = reader.get(f"/api/v1/cases/{typed(case.tracking_number)}")

    # Then it is the same case, under its canonical number
    assert response.status_code == 200, response.content
    assert response.json()["tracking_number"] == case.tracking_number


def test_an_unknown_tracking_number_is_not_found(db, reader):
    # Given a well-formed number no case has
    case_for(fresh_order())
    body = "K7QH3M9TXW"
    unknown = f"{body[:4]}-{body[4:8]}-{body[8:]}{check_symbol(body)}"

    # When it is read
    response = reader.get(f"/api/v1/cases/{unknown}")

    # Then the answer is 404 in the error shape
    assert response.status_code == 404
    error = error_of(response)
    assert error["code"] == "not_found"
    assert error["field"] is None


@pytest.mark.parametrize("number", [
    pytest.param("mistyped", id="one symbol mistyped"),
    pytest.param("K7QH", id="too short"),
    pytest.param("K7QH-3M9T-XW4O", id="a letter outside the alphabet"),
    pytest.param("%E2%98%83", id="not even latin"),
])
def test_something_that_is_not_a_tracking_number_is_not_found(db, reader, number):
    # Given a case, and a number that is not one (or is the case's with a typo)
    case = case_for(fresh_order())
    if number == "mistyped":
        first = case.tracking_number[0]
        number = ("2" if first != "2" else "3") + case.tracking_number[1:]

    # When it is read
    response = reader.get(f"/api/v1/cases/{number}")

    # Then it is 404, never someone else's case
    assert response.status_code == 404, response.content
    assert error_of(response)["code"] == "not_found"


# --- listing cases -----------------------------------------------------------------------

def test_cases_are_listed_newest_first(db, reader):
    # Given three cases opened one after another
    opened = [case_for(fresh_order()).tracking_number for _ in range(3)]

    # When the console lists cases
    response = reader.get("/api/v1/cases")

    # Then they come newest first, on one page
    assert listed(response) == opened[::-1]
    assert response.json()["next_cursor"] is None


def test_an_empty_list_is_a_page_with_no_items(db, reader):
    # Given no cases at all
    # When the console lists them
    response = reader.get("/api/v1/cases")

    # Then it gets an empty last page
    assert response.status_code == 200
    assert response.json() == {"items": [], "next_cursor": None}


def test_cases_are_filtered_by_state(db, reader):
    # Given an approved case and one in review
    approved = case_for(fresh_order())
    in_review = case_for(example_order())
    assert (approved.state, in_review.state) == ("approved", "in_review")

    # When the console asks for each state
    only_approved = listed(reader.get("/api/v1/cases?state=approved"))
    only_in_review = listed(reader.get("/api/v1/cases?state=in_review"))
    only_refunded = listed(reader.get("/api/v1/cases?state=refunded"))

    # Then each list holds the cases in that state only
    assert only_approved == [approved.tracking_number]
    assert only_in_review == [in_review.tracking_number]
    assert only_refunded == []


def test_cases_are_filtered_by_account(db, reader):
    # Given cases of two accounts
    mine = [case_for(fresh_order("acct-mine", "mine@example.com")) for _ in range(2)]
    case_for(fresh_order("acct-theirs", "theirs@example.com"))

    # When the console asks for one account's cases
    response = reader.get("/api/v1/cases?account=acct-mine")

    # Then it gets those only; an unknown account has none
    assert listed(response) == [case.tracking_number for case in reversed(mine)]
    assert listed(reader.get("/api/v1/cases?account=acct-nobody")) == []


def test_filters_combine(db, reader):
    # Given the example account with a case in review and an approved one, and another
    # account's approved case
    in_review = case_for(example_order())
    approved = case_for(fresh_order(EXAMPLE_ACCOUNT, "li.lei@example.com"))
    case_for(fresh_order("acct-other", "other@example.com"))

    # When the console asks for the example account's approved cases
    response = reader.get(f"/api/v1/cases?account={EXAMPLE_ACCOUNT}&state=approved")

    # Then only that one case is listed
    assert listed(response) == [approved.tracking_number]
    assert in_review.tracking_number not in listed(response)


def test_paging_through_cases_neither_repeats_nor_skips_when_one_is_opened_meanwhile(
        db, reader):
    # Given five cases
    before = [case_for(fresh_order()).tracking_number for _ in range(5)]

    # When the console reads them two at a time, and a case is opened after the first page
    first = reader.get("/api/v1/cases?limit=2").json()
    opened_meanwhile = case_for(fresh_order()).tracking_number
    second = reader.get(f"/api/v1/cases?limit=2&cursor={first['next_cursor']}").json()
    third = reader.get(f"/api/v1/cases?limit=2&cursor={second['next_cursor']}").json()

    # Then the pages hold the five cases exactly once each, newest first, and end
    pages = [first, second, third]
    assert [len(page["items"]) for page in pages] == [2, 2, 1]
    seen = [item["tracking_number"] for page in pages for item in page["items"]]
    assert seen == before[::-1]
    assert third["next_cursor"] is None
    # And the new case is on the first page of a new listing, not in the old one
    assert opened_meanwhile not in seen
    assert listed(reader.get("/api/v1/cases?limit=2"))[0] == opened_meanwhile


def test_a_full_last_page_says_there_is_no_next_page(db, reader):
    # Given exactly two cases
    opened = [case_for(fresh_order()).tracking_number for _ in range(2)]

    # When the console asks for two
    page = reader.get("/api/v1/cases?limit=2").json()

    # Then it has both and no cursor: no empty page to fetch
    assert [item["tracking_number"] for item in page["items"]] == opened[::-1]
    assert page["next_cursor"] is None


def test_the_cursor_keeps_to_the_filters(db, reader):
    # Given three approved cases and two in review, interleaved
    approved = []
    for n in range(3):
        approved.append(case_for(fresh_order()).tracking_number)
        if n < 2:
            case_for(example_order(id=f"TC-REVIEW-{n}"))

    # When the approved ones are paged one at a time
    seen, cursor = [], None
    for _ in range(4):
        query = "state=approved&limit=1" + (f"&cursor={cursor}" if cursor else "")
        page = reader.get(f"/api/v1/cases?{query}").json()
        seen += [item["tracking_number"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break

    # Then exactly the approved cases came, newest first
    assert seen == approved[::-1]


@pytest.mark.parametrize("cursor", [
    pytest.param("not-a-cursor!", id="not base64"),
    pytest.param("YWJj", id="base64 of letters"),
    pytest.param("MA", id="base64 of zero"),
    pytest.param("LTU", id="base64 of a negative number"),
    pytest.param("%E2%98%83", id="not ascii"),
])
def test_a_cursor_the_api_did_not_give_is_refused(db, reader, cursor):
    # Given a case, and a cursor the API never gave
    case_for(fresh_order())

    # When the console pages with it
    response = reader.get(f"/api/v1/cases?cursor={cursor}")

    # Then it is told the cursor is at fault
    assert_invalid(response, "cursor")


@pytest.mark.parametrize(("query", "field"), [
    pytest.param("limit=0", "limit", id="limit zero"),
    pytest.param("limit=101", "limit", id="limit over a hundred"),
    pytest.param("limit=-1", "limit", id="negative limit"),
    pytest.param("limit=ten", "limit", id="limit not a number"),
    pytest.param("state=lost", "state", id="unknown state"),
    pytest.param("account=" + "a" * 65, "account", id="account id too long"),
])
def test_a_listing_with_an_invalid_query_is_refused_naming_the_parameter(
        db, reader, query, field):
    # When the console lists cases with a parameter out of range
    response = reader.get(f"/api/v1/cases?{query}")

    # Then it is refused, naming that parameter
    assert_invalid(response, field)


@pytest.mark.parametrize("limit", [1, 100])
def test_the_limits_of_the_page_size_are_accepted(db, reader, limit):
    # Given two cases
    for _ in range(2):
        case_for(fresh_order())

    # When the console asks for the smallest and the largest pages
    response = reader.get(f"/api/v1/cases?limit={limit}")

    # Then both are served
    assert len(listed(response)) == min(limit, 2)
