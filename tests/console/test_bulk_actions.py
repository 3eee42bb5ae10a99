"""Bulk actions from the queue: the ticked cases claimed, assigned or rejected, each through
its own action with its own audit event; a case its action refuses is reported by its
tracking number with the reason and left as it was, and the others go on; rejecting asks
for a confirmation first; nothing selected, too many, or a role that does not work cases
is refused and changes nothing."""

import pytest
from django.urls import reverse

from refunddesk.cases import actions
from refunddesk.cases.models import CaseEvent, Message, RefundCase
from refunddesk.console import bulk
from refunddesk.core.money import format_money
from refunddesk.replies.models import CannedReply
from tests.portal.builders import customer_for, server_order
from tests.staff import rejection_reason

pytestmark = pytest.mark.django_db

URL = reverse("console:queue_bulk")
QUEUE = reverse("console:queue")
EN = {"Accept-Language": "en"}


@pytest.fixture
def cases_in_review(db):
    """Three customers' requests, each 30 days into the service: prorated, so in review."""
    made = []
    for n in range(1, 4):
        order = server_order(f"TC-BULK-{n}", f"acct-bulk-{n}", f"bulk{n}@example.com",
                             started_days_ago=30)
        customer = customer_for(order.account)
        made.append(actions.submit(account=order.account, order=order, line_ids=["1"],
                                   actor=customer, channel="portal", language="en"))
    assert {case.state for case in made} == {"in_review"}
    return made


def numbers(cases):
    return [case.tracking_number for case in cases]


def events(case, action):
    return CaseEvent.objects.filter(case=case, action=action).count()


def fresh(cases):
    return [RefundCase.objects.get(pk=case.pk) for case in cases]


# -- claim ------------------------------------------------------------------------------------

def test_an_agent_claims_the_ticked_cases_each_through_its_own_action(staff_client,
                                                                      cases_in_review):
    # given three open cases and an agent
    client = staff_client("agent", "anna")

    # when the agent claims all three from the queue
    response = client.post(URL, {"case": numbers(cases_in_review), "action": "claim",
                                 "next": QUEUE + "?sort=due"}, headers=EN)

    # then each is theirs with one audit event of its own, and the page says so
    page = response.content.decode()
    assert response.status_code == 200
    assert "Done for 3 of 3 cases." in page
    assert all(case.assignee == client.user for case in fresh(cases_in_review))
    assert all(events(case, "assigned") == 1 for case in cases_in_review)
    assert 'href="/console/?sort=due"' in page


def test_a_case_someone_else_has_taken_is_reported_and_the_others_are_claimed(
        staff_client, make_staff, cases_in_review):
    # given a colleague took the second case a moment ago
    first, taken, third = cases_in_review
    colleague = make_staff("agent", "colleague")
    actions.claim(taken, actor=colleague)
    client = staff_client("agent", "anna")

    # when the agent claims all three
    response = client.post(URL, {"case": numbers(cases_in_review), "action": "claim"},
                           headers=EN)

    # then the two others are claimed, and the taken one is named with the reason
    page = response.content.decode()
    assert "Done for 2 of 3 cases." in page
    assert taken.tracking_number in page
    assert "Someone else has taken this case" in page
    first, taken, third = fresh(cases_in_review)
    assert first.assignee == third.assignee == client.user
    assert taken.assignee == colleague
    assert events(taken, "assigned") == 1  # only the colleague's


# -- assign -----------------------------------------------------------------------------------

def test_an_agent_assigns_the_ticked_cases_to_a_colleague(staff_client, make_staff,
                                                          cases_in_review):
    colleague = make_staff("reviewer", "rita")
    client = staff_client("agent", "anna")

    response = client.post(URL, {"case": numbers(cases_in_review[:2]), "action": "assign",
                                 "assignee": colleague.pk}, headers=EN)

    page = response.content.decode()
    assert "Cases assigned to rita" in page and "Done for 2 of 2 cases." in page
    first, second, third = fresh(cases_in_review)
    assert first.assignee == second.assignee == colleague
    assert third.assignee is None
    assert [events(case, "assigned") for case in (first, second, third)] == [1, 1, 0]


def test_assigning_without_choosing_a_colleague_is_refused_and_keeps_the_selection(
        staff_client, cases_in_review):
    client = staff_client("agent", "anna")

    response = client.post(URL, {"case": numbers(cases_in_review), "action": "assign"},
                           headers=EN)

    page = response.content.decode()
    assert response.status_code == 400
    assert "Choose the staff member who gets the cases." in page
    assert all(f'name="case" value="{case.tracking_number}"' in page
               for case in cases_in_review)
    assert not CaseEvent.objects.filter(action="assigned").exists()


# -- reject -----------------------------------------------------------------------------------

def test_rejecting_asks_for_a_confirmation_and_changes_nothing_until_confirmed(
        staff_client, cases_in_review):
    reason = rejection_reason()
    client = staff_client("agent", "anna")

    response = client.post(URL, {"case": numbers(cases_in_review), "action": "reject",
                                 "reason": reason.pk, "message": "Outside the window."},
                           headers=EN)

    page = response.content.decode()
    assert response.status_code == 200
    assert "Reject these cases?" in page
    assert "Reject 3 cases and tell the customers" in page
    assert 'name="confirmed" value="True"' in page
    assert {case.state for case in fresh(cases_in_review)} == {"in_review"}
    assert not Message.objects.exists()


def test_confirmed_rejection_rejects_each_case_with_the_reason_and_the_message(
        staff_client, cases_in_review):
    reason = rejection_reason()
    client = staff_client("agent", "anna")

    response = client.post(URL, {"case": numbers(cases_in_review), "action": "reject",
                                 "reason": reason.pk, "message": "Outside the window.",
                                 "confirmed": "True"}, headers=EN)

    assert "Done for 3 of 3 cases." in response.content.decode()
    for case in fresh(cases_in_review):
        assert case.state == "rejected"
        assert case.rejection_reason == reason
        assert case.decided_by == client.user
        assert events(case, "rejected") == 1
        assert case.messages.get().body == "Outside the window."


def test_a_case_that_moved_on_is_reported_and_the_others_are_rejected(
        staff_client, make_staff, cases_in_review):
    # given a colleague already rejected the first case
    reason = rejection_reason()
    colleague = make_staff("agent", "colleague")
    first, *others = cases_in_review
    actions.reject(first, actor=colleague, reason=reason, message="Earlier.")
    client = staff_client("agent", "anna")

    # when the agent rejects all three
    response = client.post(URL, {"case": numbers(cases_in_review), "action": "reject",
                                 "reason": reason.pk, "message": "Later.",
                                 "confirmed": "True"}, headers=EN)

    # then the first is reported and unchanged; the two others are rejected
    page = response.content.decode()
    assert "Done for 2 of 3 cases." in page
    assert first.tracking_number in page and "can no longer be" in page
    first = RefundCase.objects.get(pk=first.pk)
    assert first.decided_by == colleague and first.decision_note == "Earlier."
    assert events(first, "rejected") == 1
    assert all(case.state == "rejected" and case.decided_by == client.user
               for case in fresh(others))


def test_a_case_the_agent_may_not_decide_is_reported_and_the_others_are_rejected(
        staff_client, make_staff, cases_in_review):
    # given the first case was opened by this agent for a caller: a colleague decides it
    reason = rejection_reason()
    client = staff_client("agent", "anna")
    first, *others = cases_in_review
    RefundCase.objects.filter(pk=first.pk).update(channel="agent", opened_by=client.user)

    response = client.post(URL, {"case": numbers(cases_in_review), "action": "reject",
                                 "reason": reason.pk, "message": "No.", "confirmed": "True"},
                           headers=EN)

    page = response.content.decode()
    assert "Done for 2 of 3 cases." in page
    assert "You opened this case for the caller; a colleague decides it." in page
    assert RefundCase.objects.get(pk=first.pk).state == "in_review"
    assert not Message.objects.filter(case=first).exists()
    assert {case.state for case in fresh(others)} == {"rejected"}


def test_rejecting_without_a_reason_or_a_message_is_refused_on_the_page(staff_client,
                                                                        cases_in_review):
    client = staff_client("agent", "anna")

    response = client.post(URL, {"case": numbers(cases_in_review), "action": "reject",
                                 "message": "  ", "confirmed": "True"}, headers=EN)

    page = response.content.decode()
    assert response.status_code == 400
    assert "Choose the reason for the rejection." in page
    assert "Write the customers a message explaining the rejection, or choose a canned " \
           "reply." in page
    assert {case.state for case in fresh(cases_in_review)} == {"in_review"}


def test_a_canned_reply_rejects_each_case_in_its_customers_language_filled_in(
        staff_client, cases_in_review):
    # given a Chinese customer among English ones, and a canned reply
    reason = rejection_reason()
    chinese, *english = cases_in_review
    RefundCase.objects.filter(pk=chinese.pk).update(language="zh-hans")
    reply = CannedReply.objects.create(
        title="Late", updated_at=chinese.submitted_at,
        text_zh="{tracking_number}：{amount} 无法退款。",
        text_en="{tracking_number}: {amount} cannot be refunded.")
    client = staff_client("agent", "anna")
    data = {"case": numbers(cases_in_review), "action": "reject", "reason": reason.pk,
            "reply": reply.pk}

    # when the agent asks, sees each customer's message, and confirms
    asked = client.post(URL, data, headers=EN).content.decode()
    done = client.post(URL, {**data, "confirmed": "True"}, headers=EN).content.decode()

    # then each customer reads the reply in their language, filled in for their case
    def amount(case, language):
        return format_money(case.assessed_total_minor, case.currency, language=language)

    assert amount(chinese, "zh-hans").startswith("¥")  # as Chinese readers write money
    assert f"{chinese.tracking_number}：{amount(chinese, 'zh-hans')} 无法退款。" in asked
    assert "Done for 3 of 3 cases." in done
    assert Message.objects.get(case=chinese).body == (
        f"{chinese.tracking_number}：{amount(chinese, 'zh-hans')} 无法退款。")
    for case in english:
        assert Message.objects.get(case=case).body == (
            f"{case.tracking_number}: {amount(case, 'en')} cannot be refunded.")


def test_a_typed_message_has_its_placeholders_filled_in_for_each_case(staff_client,
                                                                    cases_in_review):
    reason = rejection_reason()
    client = staff_client("agent", "anna")

    client.post(URL, {"case": numbers(cases_in_review), "action": "reject",
                      "reason": reason.pk, "message": "About {tracking_number}.",
                      "confirmed": "True"}, headers=EN)

    for case in cases_in_review:
        assert Message.objects.get(case=case).body == f"About {case.tracking_number}."


def test_an_unknown_placeholder_in_the_message_is_refused_naming_it(staff_client,
                                                                    cases_in_review):
    reason = rejection_reason()
    client = staff_client("agent", "anna")

    response = client.post(URL, {"case": numbers(cases_in_review), "action": "reject",
                                 "reason": reason.pk, "message": "Dear {name}.",
                                 "confirmed": "True"}, headers=EN)

    assert response.status_code == 400
    assert "Unknown placeholder {name}" in response.content.decode()
    assert not Message.objects.exists()


# -- selection --------------------------------------------------------------------------------

def test_nothing_selected_is_said_on_the_queue_and_changes_nothing(staff_client,
                                                                   cases_in_review):
    client = staff_client("agent", "anna")
    back = QUEUE + "?channel=portal"

    response = client.post(URL, {"action": "claim", "next": back}, headers=EN)

    assert response.status_code == 302 and response["Location"] == back
    page = client.get(back, headers=EN).content.decode()
    assert "Select at least one case in the queue first" in page
    assert not CaseEvent.objects.filter(action="assigned").exists()


def test_select_all_on_the_page_without_javascript_takes_the_listed_cases(staff_client,
                                                                          cases_in_review):
    client = staff_client("agent", "anna")

    response = client.post(URL, {"all_on_page": "on", "on_page": numbers(cases_in_review),
                                 "action": "claim"}, headers=EN)

    assert "Done for 3 of 3 cases." in response.content.decode()
    assert all(case.assignee == client.user for case in fresh(cases_in_review))


def test_more_cases_than_the_limit_are_refused_at_once(staff_client, cases_in_review,
                                                       monkeypatch):
    monkeypatch.setattr("refunddesk.console.bulk_forms.MAX_CASES", 2)
    client = staff_client("agent", "anna")

    response = client.post(URL, {"case": numbers(cases_in_review), "action": "claim",
                                 "next": QUEUE}, headers=EN, follow=True)

    assert "You selected 3 cases; act on at most 2 at once." in response.content.decode()
    assert not CaseEvent.objects.filter(action="assigned").exists()


def test_an_unknown_tracking_number_is_reported_and_the_others_go_on(staff_client,
                                                                     cases_in_review):
    client = staff_client("agent", "anna")
    gone = cases_in_review[0].tracking_number
    RefundCase.objects.filter(pk=cases_in_review[0].pk).update(tracking_number="X")

    response = client.post(URL, {"case": numbers(cases_in_review), "action": "claim"},
                           headers=EN)

    page = response.content.decode()
    assert "Done for 2 of 3 cases." in page
    assert gone in page and "There is no such case." in page


# -- who may ----------------------------------------------------------------------------------

@pytest.mark.parametrize("role", ["finance"])
def test_a_role_that_does_not_work_cases_is_refused_and_changes_nothing(staff_client, role,
                                                                        cases_in_review):
    client = staff_client(role)

    response = client.post(URL, {"case": numbers(cases_in_review), "action": "claim"},
                           headers=EN)

    assert response.status_code == 403
    assert not CaseEvent.objects.filter(action="assigned").exists()


def test_a_stranger_is_sent_to_log_in_and_a_customer_is_refused(client, cases_in_review):
    data = {"case": numbers(cases_in_review), "action": "claim"}

    stranger = client.post(URL, data)
    assert stranger.status_code == 302 and "/accounts/login/" in stranger["Location"]

    client.force_login(cases_in_review[0].account.user)
    assert client.post(URL, data).status_code == 403
    assert not CaseEvent.objects.filter(action="assigned").exists()


def test_an_admin_who_may_not_decide_gets_every_rejection_refused_by_its_action(
        staff_client, cases_in_review):
    # given an admin: they work cases (claim, assign) but decide none
    reason = rejection_reason()
    client = staff_client("admin")

    response = client.post(URL, {"case": numbers(cases_in_review), "action": "reject",
                                 "reason": reason.pk, "message": "No.", "confirmed": "True"},
                           headers=EN)

    page = response.content.decode()
    assert "Done for 0 of 3 cases." in page
    assert page.count("Your role does not decide refund cases.") == 3
    assert {case.state for case in fresh(cases_in_review)} == {"in_review"}


def test_the_bulk_module_goes_on_after_a_refusal(make_staff, cases_in_review):
    # given the customer of the middle case has withdrawn it
    agent = make_staff("agent", "anna")
    middle = cases_in_review[1]
    actions.withdraw(middle, actor=middle.account.user)

    result = bulk.claim(numbers(cases_in_review), actor=agent)

    assert [outcome.is_done for outcome in result.outcomes] == [True, False, True]
    assert result.refused[0].tracking_number == middle.tracking_number
    assert RefundCase.objects.get(pk=middle.pk).assignee is None


# -- the bar on the queue -----------------------------------------------------------------------

def test_the_queue_offers_a_box_per_open_row_and_the_bulk_bar_to_those_who_work_cases(
        staff_client, cases_in_review):
    client = staff_client("agent", "anna")

    page = client.get(QUEUE, headers=EN).content.decode()

    assert 'id="queue-bulk"' in page and "Select all on this page" in page
    for case in cases_in_review:
        assert (f'name="case" value="{case.tracking_number}" form="queue-bulk"') in page
        assert f'name="on_page" value="{case.tracking_number}"' in page
    assert "console/bulk.js" in page


def test_finance_sees_no_boxes_and_no_bulk_bar(staff_client, cases_in_review):
    client = staff_client("finance")

    page = client.get(QUEUE, headers=EN).content.decode()

    assert 'id="queue-bulk"' not in page and 'form="queue-bulk"' not in page
