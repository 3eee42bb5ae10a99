"""Decisions through the API with a decisions:write key: the key decides as the staff
member it belongs to, under their roles, limits and the four-eyes rule."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from refunddesk.api.keys import make_key
from refunddesk.cases.actors import COMMAND_LINE
from refunddesk.cases.models import CaseEvent, RefundCase
from tests.api.conftest import ApiClient, case_for, error_of, example_order, post
from tests.cases.decision_builders import case_in_review, large_huawei_order
from tests.staff import approval_limit, rejection_reason, staff_member


def deciding_as(person, scopes=("cases:read", "decisions:write")) -> ApiClient:
    return ApiClient(*make_key(name="decisions", scopes=list(scopes), actor=COMMAND_LINE,
                               acting_as=person))


@pytest.fixture
def reviewer(db):
    return staff_member("api-reviewer", "reviewer")


@pytest.fixture
def decider(reviewer) -> ApiClient:
    return deciding_as(reviewer)


def test_a_case_is_approved_in_full_as_the_keys_staff_member(db, decider, reviewer):
    # Given a case in review (the example order, after its five days: 675.00 prorated)
    case = case_for(example_order())

    # When the key approves it without amounts
    response = post(decider, f"/api/v1/cases/{case.tracking_number}/approve",
                    {"note": "Prorated as the policy says."})

    # Then the case is approved for the assessment, decided by the reviewer, through the key
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["state"] == "approved"
    assert body["approved_total"] == body["assessed_total"]
    assert body["payouts"], "the payouts are planned with the approval"
    case.refresh_from_db()
    assert case.decided_by == reviewer
    event = CaseEvent.objects.get(case=case, action="approved")
    assert (event.actor, event.actor_kind) == (reviewer, "staff")
    assert event.data["via"] == f"api:{decider.key.prefix}"


def test_a_case_is_approved_in_part_with_amounts_per_line(db, decider):
    case = case_for(example_order())

    response = post(decider, f"/api/v1/cases/{case.tracking_number}/approve",
                    {"amounts": {"1": "100.50"}})

    assert response.status_code == 200, response.content
    assert response.json()["approved_total"] == "100.50"
    assert response.json()["lines"][0]["approved"] == "100.50"


@pytest.mark.parametrize(("amounts", "field"), [
    ({"1": "12.345"}, "amounts.1"),
    ({"1": "-1"}, "amounts.1"),
    ({"1": "ten"}, "amounts.1"),
    # other scripts' digits and padding are no amounts (they read as 123 and 1 before)
    ({"1": "١٢٣"}, "amounts.1"),
    ({"1": " 1 "}, "amounts.1"),
    ({"1": "１"}, "amounts.1"),
])
def test_an_amount_that_is_not_money_in_the_cases_currency_is_refused(
        db, decider, amounts, field):
    case = case_for(example_order())

    response = post(decider, f"/api/v1/cases/{case.tracking_number}/approve",
                    {"amounts": amounts})

    assert response.status_code == 422, response.content
    assert error_of(response)["field"] == field
    assert RefundCase.objects.get(pk=case.pk).state == "in_review"


def test_an_amount_for_a_line_not_in_the_case_is_refused_as_a_conflict(db, decider):
    case = case_for(example_order())

    response = post(decider, f"/api/v1/cases/{case.tracking_number}/approve",
                    {"amounts": {"9": "1.00"}})

    assert response.status_code == 409, response.content
    assert "Line 9" in error_of(response)["message"]
    assert RefundCase.objects.get(pk=case.pk).state == "in_review"


def test_an_approval_above_the_staff_members_limit_is_refused(db):
    # Given an agent who may approve up to 100.00 CNY, and a key acting as them
    approval_limit("agent", "CNY", 10000)
    agent = staff_member("api-agent", "agent")
    case = case_for(example_order())

    # When the key approves the whole 675.00
    response = post(deciding_as(agent), f"/api/v1/cases/{case.tracking_number}/approve", {})

    # Then it is refused as the console would refuse the agent
    assert response.status_code == 403, response.content
    assert error_of(response)["code"] == "not_permitted"
    assert RefundCase.objects.get(pk=case.pk).state == "in_review"


def test_an_approval_above_the_four_eyes_threshold_waits_for_a_second_person(db, decider):
    # Given a Huawei Cloud case whose prorated refund is above 50,000.00 CNY
    case = case_in_review(large_huawei_order())

    # When the key approves it
    response = post(decider, f"/api/v1/cases/{case.tracking_number}/approve", {})

    # Then the approval is proposed, not made: the case waits in review for a second person
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["state"], body["approved_total"], body["decided_at"]) == (
        "in_review", None, None)
    assert RefundCase.objects.get(pk=case.pk).proposal is not None


def test_a_case_is_rejected_with_a_reason_from_the_list_and_a_message(db, decider):
    rejection_reason("not_eligible")
    case = case_for(example_order())

    response = post(decider, f"/api/v1/cases/{case.tracking_number}/reject",
                    {"reason": "not_eligible", "message": "The five days have passed."})

    assert response.status_code == 200, response.content
    assert response.json()["state"] == "rejected"
    case.refresh_from_db()
    assert (case.rejection_reason.code, case.decision_note) == (
        "not_eligible", "The five days have passed.")


def test_a_rejection_with_an_unknown_reason_is_refused_naming_the_reasons(db, decider):
    rejection_reason("not_eligible")
    case = case_for(example_order())

    response = post(decider, f"/api/v1/cases/{case.tracking_number}/reject",
                    {"reason": "because", "message": "No."})

    assert response.status_code == 422, response.content
    error = error_of(response)
    assert error["field"] == "reason"
    assert "not_eligible" in error["message"]
    assert RefundCase.objects.get(pk=case.pk).state == "in_review"


def test_the_customer_is_asked_for_documents_by_a_deadline(db, decider):
    case = case_for(example_order())
    due = (timezone.now() + timedelta(days=5)).isoformat()

    response = post(decider, f"/api/v1/cases/{case.tracking_number}/request-info",
                    {"questions": "Which server?", "documents": ["payment_proof"],
                     "due": due})

    assert response.status_code == 200, response.content
    assert response.json()["state"] == "awaiting_customer"
    case.refresh_from_db()
    assert case.requested_documents == ["payment_proof"]


@pytest.mark.parametrize(("changes", "field"), [
    ({"due": "2020-01-01T00:00:00+08:00"}, "due"),
    ({"due": "2099-01-01T00:00:00"}, "due"),
    ({"documents": ["passport_scan"]}, "documents.0"),
])
def test_a_request_for_information_with_a_bad_deadline_or_kind_is_refused(
        db, decider, changes, field):
    case = case_for(example_order())
    body = {"questions": "Which server?", "due": "2099-01-01T00:00:00+08:00", **changes}

    response = post(decider, f"/api/v1/cases/{case.tracking_number}/request-info", body)

    assert response.status_code == 422, response.content
    assert error_of(response)["field"] == field
    assert RefundCase.objects.get(pk=case.pk).state == "in_review"


def test_a_key_of_nobody_decides_nothing(db, api_client):
    # Given a decisions:write key made on the command line for no staff member
    client = api_client(["decisions:write"])
    case = case_for(example_order())

    # When it approves
    response = post(client, f"/api/v1/cases/{case.tracking_number}/approve", {})

    # Then it is refused, saying why
    assert response.status_code == 403, response.content
    assert error_of(response)["code"] == "no_staff_member"
    assert RefundCase.objects.get(pk=case.pk).state == "in_review"


def test_a_key_of_a_staff_member_who_left_decides_nothing(db, reviewer, decider):
    reviewer.is_active = False
    reviewer.save()
    case = case_for(example_order())

    response = post(decider, f"/api/v1/cases/{case.tracking_number}/approve", {})

    assert response.status_code == 403, response.content
    assert error_of(response)["code"] == "no_staff_member"


def test_deciding_a_case_already_decided_is_a_conflict(db, decider):
    case = case_for(example_order())
    post(decider, f"/api/v1/cases/{case.tracking_number}/approve", {})

    response = post(decider, f"/api/v1/cases/{case.tracking_number}/approve", {})

    assert response.status_code == 409, response.content
    assert error_of(response)["code"] == "invalid_transition"
    assert CaseEvent.objects.filter(case=case, action="approved").count() == 1


def test_the_command_line_makes_a_deciding_key_only_for_a_named_staff_member(db, reviewer):
    from io import StringIO

    from django.core.management import CommandError, call_command

    from refunddesk.api.models import ApiKey

    # When a decisions:write key is asked for without naming who it decides as
    with pytest.raises(CommandError, match="--acting-as"):
        call_command("make_api_key", name="ops", scopes=["decisions:write"],
                     stdout=StringIO(), stderr=StringIO())
    # Or naming someone who is not staff
    with pytest.raises(CommandError, match="no active staff member"):
        call_command("make_api_key", name="ops", scopes=["decisions:write"],
                     acting_as="nobody", stdout=StringIO(), stderr=StringIO())

    # Then no key was made; named, the key decides as the reviewer
    assert not ApiKey.objects.exists()
    call_command("make_api_key", name="ops", scopes=["decisions:write"],
                 acting_as=reviewer.username, stdout=StringIO(), stderr=StringIO())
    assert ApiKey.objects.get().created_by == reviewer
