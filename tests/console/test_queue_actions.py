"""Claim and assign from a queue row: through the actions, back to the same queue address,
the updated row for htmx, and refused for those whose role does not work cases."""

import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse

from refunddesk.cases import actions
from refunddesk.cases.models import CaseEvent
from tests.console import queue_builders as build

pytestmark = pytest.mark.django_db

QUEUE = "/console/"


@pytest.fixture(autouse=True)
def in_english(settings):
    settings.LANGUAGE_CODE = "en"


def html(response):
    return response.content.decode()


def claim_url(case):
    return reverse("console:queue_claim", args=[case.tracking_number])


def assign_url(case):
    return reverse("console:queue_assign", args=[case.tracking_number])


def test_an_agent_claims_an_unassigned_case_and_returns_to_the_same_queue(staff_client,
                                                                          case_in_review):
    client = staff_client("agent", "anna")
    back = QUEUE + "?channel=portal&sort=due"
    response = client.post(claim_url(case_in_review), {"next": back})
    assert response.status_code == 302
    assert response["Location"] == back
    case_in_review.refresh_from_db()
    assert case_in_review.assignee == client.user
    assert CaseEvent.objects.filter(case=case_in_review, action="assigned").count() == 1
    page = html(client.get(back))
    assert f"You have taken case {case_in_review.tracking_number}." in page
    assert "anna" in page


def test_claiming_with_htmx_returns_the_updated_row(staff_client, case_in_review):
    client = staff_client("agent", "anna")
    response = client.post(claim_url(case_in_review), {"next": QUEUE},
                           headers={"HX-Request": "true"})
    page = html(response)
    assert response.status_code == 200
    assert page.lstrip().startswith(f'<tr id="case-{case_in_review.pk}"')
    assert "You have taken case" in page
    assert ">anna<" in page
    assert "Claim</button>" not in page  # taken: only reassigning is left


def test_a_case_someone_else_has_taken_is_not_claimed(staff_client, make_staff,
                                                      case_in_review):
    other = make_staff("agent", "other")
    actions.claim(case_in_review, actor=other)
    client = staff_client("agent", "anna")
    response = client.post(claim_url(case_in_review), {"next": QUEUE}, follow=True)
    assert "Someone else has taken this case" in html(response)
    case_in_review.refresh_from_db()
    assert case_in_review.assignee == other


def test_an_agent_assigns_a_case_to_a_colleague_and_back_to_the_open_queue(
        staff_client, make_staff, case_in_review):
    colleague = make_staff("agent", "colleague")
    client = staff_client("agent", "anna")
    response = client.post(assign_url(case_in_review), {"assignee": colleague.pk,
                                                        "next": QUEUE}, follow=True)
    assert "is now assigned to colleague" in html(response)
    case_in_review.refresh_from_db()
    assert case_in_review.assignee == colleague
    response = client.post(assign_url(case_in_review), {"assignee": "", "next": QUEUE},
                           follow=True)
    assert "is back in the open queue" in html(response)
    case_in_review.refresh_from_db()
    assert case_in_review.assignee is None


def test_a_case_cannot_be_assigned_to_someone_who_does_not_work_cases(
        staff_client, make_staff, case_in_review):
    finance = make_staff("finance", "fiona")
    client = staff_client("agent")
    for chosen in (finance.pk, "nobody", 987654):
        response = client.post(assign_url(case_in_review), {"assignee": chosen,
                                                            "next": QUEUE}, follow=True)
        assert "Choose a staff member who works refund cases." in html(response)
    case_in_review.refresh_from_db()
    assert case_in_review.assignee is None


def test_assigning_a_finished_case_is_refused_with_the_reason(staff_client, make_staff):
    finished = build.case(state="refunded")
    client = staff_client("agent")
    response = client.post(assign_url(finished), {"assignee": client.user.pk,
                                                  "next": QUEUE},
                           headers={"HX-Request": "true"})
    assert "This case is finished" in html(response)
    finished.refresh_from_db()
    assert finished.assignee is None


def test_finance_sees_no_claim_or_assign_buttons(staff_client, case_in_review):
    page = html(staff_client("finance").get(QUEUE))
    assert case_in_review.tracking_number in page
    assert "Claim</button>" not in page and "Assign</button>" not in page
    assert 'name="assignee" id="assign-' not in page


def test_finance_cannot_claim_or_assign_even_by_posting(staff_client, case_in_review):
    client = staff_client("finance")
    response = client.post(claim_url(case_in_review), {"next": QUEUE}, follow=True)
    assert "Your role does not handle refund cases." in html(response)
    response = client.post(assign_url(case_in_review), {"assignee": "", "next": QUEUE},
                           follow=True)
    assert "Your role does not handle refund cases." in html(response)
    case_in_review.refresh_from_db()
    assert case_in_review.assignee is None
    assert not CaseEvent.objects.filter(case=case_in_review, action="assigned").exists()


def test_claim_and_assign_only_answer_posts(staff_client, case_in_review):
    client = staff_client("agent")
    assert client.get(claim_url(case_in_review)).status_code == 405
    assert client.get(assign_url(case_in_review)).status_code == 405


def test_claiming_an_unknown_case_is_not_found(staff_client):
    response = staff_client("agent").post("/console/queue/AAAA-AAAA-AAA/claim")
    assert response.status_code == 404


@pytest.mark.parametrize("target", ["https://evil.example/console/", "//evil.example/",
                                    "/accounts/logout/", "/console/../accounts/logout/",
                                    "/console/cases/X", ""])
def test_after_an_action_the_queue_never_sends_you_elsewhere(staff_client, case_in_review,
                                                             target):
    response = staff_client("agent").post(claim_url(case_in_review), {"next": target})
    assert response["Location"] == QUEUE


def test_the_row_buttons_post_back_to_the_queue_address_shown(staff_client, case_in_review):
    page = html(staff_client("agent").get(QUEUE + "?channel=portal&sort=due"))
    region = page[page.index('<div id="queue-region"'):]
    nexts = {unescape(value) for value in re.findall(r'name="next" value="([^"]+)"', region)}
    assert len(nexts) == 1
    params = parse_qs(urlsplit(nexts.pop()).query)
    assert params["channel"] == ["portal"] and params["sort"] == ["due"]
