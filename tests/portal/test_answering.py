"""Answering a request for information on the portal: the agent's question, one upload place
per document asked for (missing or already there), one answer box, the deadline; one submit
sends it all and the case goes back to review. A refused file is named and changes nothing."""

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from refunddesk.cases import actions
from refunddesk.cases.actions import CaseError
from refunddesk.cases.models import CaseEvent, Document, Message, RefundCase
from refunddesk.cases.uploads import FileRefused
from refunddesk.notifications.compose import compose
from refunddesk.notifications.models import EmailDelivery
from tests.portal.builders import customer_for, executable_named_pdf, pdf, vpn_order

pytestmark = pytest.mark.django_db
EN = {"Accept-Language": "en"}
ZH = {"Accept-Language": "zh-hans"}
QUESTION = "请上传付款凭证和账户证明。"


@pytest.fixture
def late_order(db):
    """A VPN order bought 45 days ago: past the 30-day guarantee, so its case is reviewed."""
    return vpn_order("VPN-ASK-1", "acct-ask", "ask@example.com", placed_days_ago=45)


@pytest.fixture
def customer(late_order):
    return customer_for(late_order.account)


@pytest.fixture
def customer_client(client, customer):
    client.force_login(customer)
    return client


@pytest.fixture
def case(late_order, customer):
    return actions.submit(account=late_order.account, order=late_order, line_ids=["1"],
                          actor=customer, channel="portal", language="en")


def ask(case, staff, *, questions=QUESTION, documents=("payment_proof", "account_verification"),
        days=3):
    return actions.request_info(case, actor=staff, questions=questions, documents=documents,
                                due=timezone.now() + timedelta(days=days))


def page(client, case, headers=EN):
    response = client.get(reverse("portal:case", args=[case.tracking_number]), headers=headers)
    assert response.status_code == 200
    return response.content.decode()


def answer(client, case, data, headers=EN):
    return client.post(reverse("portal:supplement", args=[case.tracking_number]), data,
                       headers=headers)


def answer_section(html):
    return html.split('id="supplement-heading"')[1].split("</section>")[0]


# -- what the page shows ----------------------------------------------------------------------

def test_the_page_lists_the_question_each_document_with_its_own_slot_and_the_deadline(
        customer_client, case, staff):
    # given an agent who asked a question and for two documents by a deadline
    asked = ask(case, staff)

    # when the customer opens the case page
    html = page(customer_client, case)
    section = answer_section(html)

    # then the question, both documents with their own file field, each still missing,
    # and the deadline are shown in the answer form
    assert QUESTION in section
    assert "Documents asked for" in section
    assert 'name="document_payment_proof"' in section
    assert 'name="document_account_verification"' in section
    assert "Proof of payment (receipt or bank statement)" in section
    assert "Proof that you own the account" in section
    assert section.count("Still missing") == 2
    assert timezone.localtime(asked.info_due).strftime("%Y-%m-%d %H:%M") in section
    assert "the request is closed" in section


def test_the_page_has_one_answer_box_while_the_case_waits_for_the_customer(
        customer_client, case, staff):
    # given a request for information
    ask(case, staff)

    # when the page is shown
    html = page(customer_client, case)

    # then there is one text box on the page (the answer), not a second one for messages
    assert html.count("<textarea") == 1
    assert 'name="message"' in answer_section(html)
    assert "To answer the request for information, use the form" in html


def test_the_page_is_in_chinese_for_a_chinese_reader(customer_client, case, staff):
    ask(case, staff)

    section = answer_section(page(customer_client, case, ZH))

    assert "需要您补充信息" in page(customer_client, case, ZH)
    assert "要求提供的材料" in section and "尚未提供" in section
    assert "付款凭证" in section
    assert "请在" in section and "之前回复" in section


def test_a_question_without_documents_shows_no_document_list_only_the_answer_box(
        customer_client, case, staff):
    # given an agent who only asked a question
    ask(case, staff, questions="服务是哪天开始无法连接的？", documents=())

    # when the page is shown
    section = answer_section(page(customer_client, case))

    # then the question and the answer box are there, and no list of documents
    assert "服务是哪天开始无法连接的？" in section
    assert "Documents asked for" not in section
    assert 'name="document_' not in section
    assert 'name="message"' in section and 'name="files"' in section


def test_a_document_already_on_the_case_is_shown_as_uploaded(customer_client, case, staff):
    # given a first request answered with a proof of payment, then a second request for it
    # and another document
    ask(case, staff, documents=("payment_proof",))
    actions.supplement(case, actor=case.account.user, message="",
                       documents={"payment_proof": [pdf("收据.pdf")]})
    ask(case, staff, documents=("payment_proof", "usage_records"))

    # when the page is shown
    section = answer_section(page(customer_client, case))

    # then the proof of payment is shown as uploaded (by name), the usage records missing
    payment_slot = section.split('id="slot-payment_proof"')[1].split('id="slot-')[0]
    usage_slot = section.split('id="slot-usage_records"')[1]
    assert "Already uploaded" in payment_slot and "收据.pdf" in payment_slot
    assert "Still missing" in usage_slot


# -- sending the answer -----------------------------------------------------------------------

def test_one_submit_sends_the_answer_and_each_file_as_a_document_of_its_kind(
        customer_client, case, staff):
    # given a request for two documents
    ask(case, staff)

    # when the customer sends the answer and a file in each slot, and one more file
    response = answer(customer_client, case, {
        "message": "凭证和截图都在这里。",
        "document_payment_proof": [pdf("收据.pdf")],
        "document_account_verification": [pdf("账户.pdf"), pdf("账户2.pdf")],
        "files": [pdf("其他.pdf")]})

    # then the case is back in review with the answer and the files, each of its kind
    case = RefundCase.objects.get()
    assert response.status_code == 302
    assert case.state == "in_review" and case.info_due is None
    kinds = {document.name: document.kind for document in case.documents.all()}
    assert kinds == {"收据.pdf": "payment_proof", "账户.pdf": "account_verification",
                     "账户2.pdf": "account_verification", "其他.pdf": ""}
    assert case.messages.filter(author_kind="customer", body="凭证和截图都在这里。").exists()
    answered = case.events.get(action="supplemented")
    assert sorted(answered.data["documents"]) == sorted(kinds)


def test_the_case_page_names_the_kind_of_each_document_afterwards(
        customer_client, case, staff):
    ask(case, staff, documents=("payment_proof",))
    answer(customer_client, case, {"document_payment_proof": [pdf("收据.pdf")]})

    html = page(customer_client, case)

    documents = html.split('id="documents-heading"')[1]
    assert "收据.pdf" in documents
    assert "Proof of payment (receipt or bank statement)" in documents


def test_a_refused_file_is_named_on_its_slot_and_nothing_is_sent(customer_client, case, staff):
    # given a request for two documents
    ask(case, staff)
    events, messages = CaseEvent.objects.count(), Message.objects.count()

    # when one of the files is a program under a .pdf name
    response = answer(customer_client, case, {
        "message": "两份材料都附上了", "document_payment_proof": [pdf("收据.pdf")],
        "document_account_verification": [executable_named_pdf()]})

    # then the page comes back with the refusal naming the file on its slot, and nothing
    # was stored, written or moved
    html = response.content.decode()
    assert response.status_code == 400
    slot = html.split('id="slot-account_verification"')[1].split("</div>")[0]
    assert "“invoice.pdf” is not accepted: This type of file is not accepted." in slot
    assert "Nothing was sent. Files have to be chosen again after an error." in html
    assert "两份材料都附上了</textarea>" in answer_section(html)  # the answer is kept
    assert RefundCase.objects.get().state == "awaiting_customer"
    assert not Document.objects.exists()
    assert (CaseEvent.objects.count(), Message.objects.count()) == (events, messages)


def test_a_refused_file_is_named_in_chinese_for_a_chinese_reader(customer_client, case, staff):
    ask(case, staff)

    response = answer(customer_client, case, {
        "message": "附件", "document_payment_proof": [executable_named_pdf()]}, ZH)

    assert response.status_code == 400
    assert "“invoice.pdf”未被接受" in response.content.decode()


def test_a_missing_document_needs_an_answer_saying_why(customer_client, case, staff):
    # given a request for two documents
    ask(case, staff)

    # when the customer sends only one of them and writes nothing
    response = answer(customer_client, case, {"document_payment_proof": [pdf()]})

    # then they are asked for the other one or a reason, and nothing changes
    assert response.status_code == 400
    assert ("Attach Proof that you own the account, or say in your answer why you cannot."
            in response.content.decode())
    assert RefundCase.objects.get().state == "awaiting_customer"
    assert not Document.objects.exists()


def test_a_missing_document_explained_in_the_answer_is_accepted(customer_client, case, staff):
    ask(case, staff)

    response = answer(customer_client, case, {
        "message": "账户是公司的，我没有权限提供证明。", "document_payment_proof": [pdf()]})

    assert response.status_code == 302
    assert RefundCase.objects.get().state == "in_review"


def test_an_answer_to_a_question_alone_is_accepted(customer_client, case, staff):
    ask(case, staff, questions="哪天开始无法连接？", documents=())

    response = answer(customer_client, case, {"message": "3月2日起。"})

    assert response.status_code == 302
    assert RefundCase.objects.get().state == "in_review"


def test_an_empty_answer_is_refused(customer_client, case, staff):
    ask(case, staff, documents=())

    response = answer(customer_client, case, {"message": "  "})

    assert response.status_code == 400
    assert "Write an answer or attach a file." in response.content.decode()
    assert RefundCase.objects.get().state == "awaiting_customer"


def test_another_customer_cannot_answer_the_request(client, case, staff):
    # given Bob, another customer, logged in
    ask(case, staff)
    bob_order = vpn_order("VPN-BOB-9", "acct-bob-9", "bob9@example.com")
    client.force_login(customer_for(bob_order.account))

    # when he posts an answer to the case
    response = answer(client, case, {"message": "mine now",
                                     "document_payment_proof": [pdf()]})

    # then the case does not exist for him, and nothing changes
    assert response.status_code == 404
    assert RefundCase.objects.get(pk=case.pk).state == "awaiting_customer"
    assert not Document.objects.exists()


# -- the action -------------------------------------------------------------------------------

def test_the_action_refuses_a_document_that_was_not_asked_for(case, staff):
    ask(case, staff, documents=("payment_proof",))

    with pytest.raises(CaseError):
        actions.supplement(case, actor=case.account.user, message="x",
                           documents={"identity_document": [pdf()]})

    assert RefundCase.objects.get().state == "awaiting_customer"
    assert not Document.objects.exists()


def test_the_action_names_a_refused_file_and_its_kind(case, staff):
    ask(case, staff, documents=("payment_proof",))

    with pytest.raises(FileRefused) as refused:
        actions.supplement(case, actor=case.account.user, message="x",
                           documents={"payment_proof": [executable_named_pdf()]})

    assert refused.value.slot == "payment_proof"
    assert refused.value.params["file"] == "invoice.pdf"
    assert refused.value.code == "type_not_allowed"
    assert not Document.objects.exists()


# -- the e-mail -------------------------------------------------------------------------------

def test_the_request_mail_lists_the_documents_and_links_to_the_answer_page(
        settings, case, staff):
    settings.REFUNDDESK_BASE_URL = "https://refunds.example"
    mail.outbox.clear()
    ask(case, staff)

    delivery = EmailDelivery.objects.get(case=case, kind="info_requested")
    _subject, text, _html = compose(delivery)

    assert "Proof of payment (receipt or bank statement)" in text
    assert f"https://refunds.example/refunds/{case.tracking_number}" in text
