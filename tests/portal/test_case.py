"""The case page and what the customer does there: read the state, timeline and expected
dates, write, add material, answer a request for information, withdraw, appeal."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from refunddesk.cases import actions
from refunddesk.cases.models import CaseEvent, Document, Message, RefundCase
from refunddesk.core.money import format_money
from tests.portal.builders import customer_for, executable_named_pdf, pdf, vpn_order
from tests.staff import rejection_reason

pytestmark = pytest.mark.django_db
EN = {"Accept-Language": "en"}


@pytest.fixture
def late_order(db):
    """A VPN order bought 45 days ago: past the 30-day guarantee, so its case is reviewed."""
    return vpn_order("VPN-LATE-1", "acct-late", "late@example.com", placed_days_ago=45)


@pytest.fixture
def late_customer(late_order):
    return customer_for(late_order.account)


@pytest.fixture
def late_client(client, late_customer):
    client.force_login(late_customer)
    return client


@pytest.fixture
def reviewed_case(late_order, late_customer):
    return actions.submit(account=late_order.account, order=late_order, line_ids=["1"],
                          actor=late_customer, channel="portal")


def case_url(case, name="portal:case"):
    return reverse(name, args=[case.tracking_number])


def test_the_case_page_shows_the_state_in_plain_words_and_the_review_date(
        late_client, reviewed_case):
    page = late_client.get(case_url(reviewed_case), headers=EN).content.decode()

    assert reviewed_case.tracking_number in page
    assert "In review" in page
    assert "Decision expected by" in page
    assert timezone.localtime(reviewed_case.review_due).strftime("%Y-%m-%d") in page
    assert "Request received" in page and "Sent to an agent for review" in page


def test_an_approved_case_shows_where_the_money_goes_and_when_it_should_arrive(
        client, db):
    order = vpn_order("VPN-NEW-1", "acct-new", "new@example.com", placed_days_ago=2)
    customer = customer_for(order.account)
    case = actions.submit(account=order.account, order=order, line_ids=["1"], actor=customer,
                          channel="portal")
    client.force_login(customer)

    page = client.get(case_url(case), headers=EN).content.decode()

    assert case.state == "approved"
    assert "300.00 CNY" in page
    # the payout the approval planned: back to Alipay, shown by the reference's end
    assert "Alipay ****EW-1" in page
    assert "On its way" in page
    assert "expected to arrive by" in page
    assert "Line 1: the 30-day money-back guarantee applies." in page


def test_the_explanation_is_shown_in_the_viewers_language(client, db):
    order = vpn_order("VPN-NEW-2", "acct-new2", "new2@example.com", placed_days_ago=2)
    customer = customer_for(order.account)
    case = actions.submit(account=order.account, order=order, line_ids=["1"], actor=customer,
                          channel="portal", language="en")
    client.force_login(customer)

    page = client.get(case_url(case)).content.decode()

    assert "30 天无理由退款保证" in page


def test_internal_notes_and_hidden_events_are_not_shown(late_client, reviewed_case, staff):
    actions.post_message(reviewed_case, actor=staff, body="Looks like fraud", is_internal=True)
    actions.post_message(reviewed_case, actor=staff, body="We are looking at it.")

    page = late_client.get(case_url(reviewed_case)).content.decode()

    assert "Looks like fraud" not in page
    assert "We are looking at it." in page


def test_the_customer_posts_a_message(late_client, reviewed_case):
    response = late_client.post(case_url(reviewed_case, "portal:post_message"),
                                {"body": "请尽快处理"})

    assert response.status_code == 302
    message = Message.objects.get(case=reviewed_case)
    assert (message.body, message.author_kind) == ("请尽快处理", "customer")
    assert "请尽快处理" in late_client.get(case_url(reviewed_case)).content.decode()


def test_an_empty_message_is_refused(late_client, reviewed_case):
    response = late_client.post(case_url(reviewed_case, "portal:post_message"), {"body": ""},
                                headers=EN)

    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    assert not Message.objects.exists()


def test_the_customer_uploads_more_material(late_client, reviewed_case):
    response = late_client.post(case_url(reviewed_case, "portal:add_documents"),
                                {"files": [pdf("a.pdf"), pdf("b.pdf")]})

    assert response.status_code == 302
    assert sorted(d.name for d in reviewed_case.documents.all()) == ["a.pdf", "b.pdf"]
    assert reviewed_case.events.filter(action="documents_added").exists()


def test_an_executable_among_more_material_is_refused_and_nothing_is_stored(
        late_client, reviewed_case):
    response = late_client.post(case_url(reviewed_case, "portal:add_documents"),
                                {"files": [pdf(), executable_named_pdf()]}, headers=EN)

    assert response.status_code == 400
    assert "This type of file is not accepted" in response.content.decode()
    assert not Document.objects.exists()


def test_withdrawing_asks_for_confirmation_then_withdraws(late_client, reviewed_case):
    confirm = late_client.get(case_url(reviewed_case, "portal:withdraw"), headers=EN)
    assert confirm.status_code == 200
    assert "Yes, withdraw it" in confirm.content.decode()
    assert RefundCase.objects.get().state == "in_review"

    response = late_client.post(case_url(reviewed_case, "portal:withdraw"),
                                {"confirmed": "True"})

    assert response.status_code == 302
    assert RefundCase.objects.get().state == "withdrawn"
    assert "已撤回" in late_client.get(case_url(reviewed_case)).content.decode()


def test_a_withdraw_post_without_the_confirmation_only_asks(late_client, reviewed_case):
    response = late_client.post(case_url(reviewed_case, "portal:withdraw"), {})

    assert response.status_code == 200
    assert RefundCase.objects.get().state == "in_review"


def test_a_withdrawn_line_can_be_applied_for_again(late_client, reviewed_case, late_order):
    late_client.post(case_url(reviewed_case, "portal:withdraw"), {"confirmed": "True"})

    response = late_client.post(reverse("portal:apply", args=[late_order.external_id]),
                                {"lines": ["1"]})

    assert response.status_code == 302
    assert RefundCase.objects.count() == 2


def test_withdrawing_an_approved_case_is_refused_clearly_and_changes_nothing(client, db):
    order = vpn_order("VPN-NEW-3", "acct-new3", "new3@example.com", placed_days_ago=2)
    customer = customer_for(order.account)
    case = actions.submit(account=order.account, order=order, line_ids=["1"], actor=customer,
                          channel="portal")
    client.force_login(customer)
    events = CaseEvent.objects.count()

    page = client.get(case_url(case), headers=EN).content.decode()
    response = client.post(case_url(case, "portal:withdraw"), {"confirmed": "True"},
                           headers=EN)

    assert "Withdraw the request" not in page
    assert response.status_code == 409
    assert "can no longer be withdrawn" in response.content.decode()
    assert RefundCase.objects.get().state == "approved"
    assert CaseEvent.objects.count() == events


def test_the_customer_answers_a_request_for_information(late_client, reviewed_case, staff):
    actions.request_info(reviewed_case, actor=staff, questions="请上传付款截图",
                         due=timezone.now() + timedelta(days=3))
    page = late_client.get(case_url(reviewed_case), headers=EN).content.decode()
    assert "We need more information" in page and "请上传付款截图" in page

    response = late_client.post(case_url(reviewed_case, "portal:supplement"),
                                {"message": "截图已上传", "files": [pdf("截图.pdf")]})

    case = RefundCase.objects.get()
    assert response.status_code == 302
    assert case.state == "in_review"
    assert [d.name for d in case.documents.all()] == ["截图.pdf"]
    assert case.messages.filter(body="截图已上传", author_kind="customer").exists()


def test_an_empty_answer_is_refused(late_client, reviewed_case, staff):
    actions.request_info(reviewed_case, actor=staff, questions="?",
                         due=timezone.now() + timedelta(days=3))

    response = late_client.post(case_url(reviewed_case, "portal:supplement"), {"message": " "},
                                headers=EN)

    assert response.status_code == 400
    assert "Write an answer or attach a file." in response.content.decode()
    assert RefundCase.objects.get().state == "awaiting_customer"


def test_supplementing_a_case_that_asked_for_nothing_is_refused_without_a_server_error(
        late_client, reviewed_case):
    response = late_client.post(case_url(reviewed_case, "portal:supplement"),
                                {"message": "extra"}, headers=EN)

    assert response.status_code == 409
    assert "This cannot be done any more" in response.content.decode()
    assert RefundCase.objects.get().state == "in_review"
    assert not Message.objects.exists()


def test_an_appeal_with_a_document_reopens_a_rejected_case(late_client, reviewed_case, staff):
    actions.reject(reviewed_case, actor=staff, reason=rejection_reason(), message="使用时间过长")
    page = late_client.get(case_url(reviewed_case), headers=EN).content.decode()
    assert "Appeal the decision" in page and "Appeal possible until" in page

    response = late_client.post(case_url(reviewed_case, "portal:appeal"),
                                {"text": "服务一直无法连接", "files": [pdf("日志.pdf")]})

    case = RefundCase.objects.get()
    assert response.status_code == 302
    assert case.state == "appealed"
    assert case.appeal_text == "服务一直无法连接"
    assert [d.name for d in case.documents.all()] == ["日志.pdf"]


def test_an_appeal_without_a_document_is_refused(late_client, reviewed_case, staff):
    actions.reject(reviewed_case, actor=staff, reason=rejection_reason(), message="no")

    response = late_client.post(case_url(reviewed_case, "portal:appeal"),
                                {"text": "please"}, headers=EN)

    assert response.status_code == 400
    assert "An appeal needs new evidence" in response.content.decode()
    assert RefundCase.objects.get().state == "rejected"


def test_an_appeal_after_the_window_is_refused(late_client, reviewed_case, staff):
    # vpn-30-day gives 30 days to appeal; this decision is 31 days old.
    actions.reject(reviewed_case, actor=staff, reason=rejection_reason(), message="no",
                   now=timezone.now() - timedelta(days=31))
    page = late_client.get(case_url(reviewed_case), headers=EN).content.decode()

    response = late_client.post(case_url(reviewed_case, "portal:appeal"),
                                {"text": "please", "files": [pdf()]}, headers=EN)

    assert "Appeal the decision" not in page
    assert response.status_code == 409
    assert "The time to appeal this decision has passed." in response.content.decode()
    assert RefundCase.objects.get().state == "rejected"
    assert not Document.objects.exists()


def test_my_refunds_lists_the_cases_newest_first(late_client, reviewed_case, late_order):
    page = late_client.get(reverse("portal:refunds"), headers=EN).content.decode()

    assert reviewed_case.tracking_number in page
    assert late_order.external_id in page
    assert format_money(reviewed_case.assessed_total_minor, "CNY", language="en") in page
    assert "In review" in page


def test_my_refunds_says_so_when_there_are_none(alice_client):
    page = alice_client.get(reverse("portal:refunds"), headers=EN).content.decode()

    assert "You have not applied for a refund yet." in page
