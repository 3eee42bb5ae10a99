"""Answering a request for information in a real browser, in Chinese and in English: the
customer reads the agent's question and the deadline, finds one upload place per document
asked for (each saying it is still missing), sees a refused file named on its place, then
sends one answer with a file in each place, and the request goes back to review."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from refunddesk.cases import actions
from refunddesk.cases.actors import customer_of
from refunddesk.cases.models import RefundCase
from tests.browser.conftest import DESKTOP
from tests.browser.test_customer_journey import EMAIL, PASSWORD, customer_login, server_order
from tests.staff import staff_member

pytestmark = pytest.mark.browser

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
ELF = b"\x7fELF\x02\x01\x01\x00" + bytes(8) + b"\x02\x00\x3e\x00\x01\x00\x00\x00"

# What each language calls the parts of the page.
WORDS = {
    "zh-CN": {
        "login": "登录", "email": "电子邮件", "password": "密码", "account": "我的账户",
        "heading": "需要您补充信息", "asked": "要求提供的材料", "missing": "尚未提供",
        "payment": "付款凭证（收据或银行流水）", "ownership": "账户归属证明",
        "answer": "您的回复", "send": "提交回复", "in_review": "审核中",
        "refused": "“setup.pdf”未被接受", "resend": "没有提交任何内容",
        "due": "之前回复", "screenshot": "answer-request-zh",
    },
    "en-US": {
        "login": "Log in", "email": "E-mail", "password": "Password", "account": "My account",
        "heading": "We need more information", "asked": "Documents asked for",
        "missing": "Still missing", "payment": "Proof of payment (receipt or bank statement)",
        "ownership": "Proof that you own the account", "answer": "Your answer",
        "send": "Send the answer", "in_review": "In review",
        "refused": "“setup.pdf” is not accepted", "resend": "Nothing was sent",
        "due": "Please answer by", "screenshot": "answer-request-en",
    },
}


@pytest.fixture(autouse=True)
def nothing_leaves_the_test(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture
def waiting_case(transactional_db) -> RefundCase:
    """Li Lei's server request (40 days in, so reviewed), on which an agent asked a question
    and for two documents, due in three days."""
    order = server_order("TC-ASK-0001", started_days_ago=40)
    customer_login(order)
    case = actions.submit(account=order.account, order=order, line_ids=["1"],
                          actor=customer_of(order.account), channel="portal",
                          language="zh-hans")
    agent = staff_member("agent-li", "agent")
    return actions.request_info(
        case, actor=agent, questions="请上传付款凭证，并证明账户归您所有。",
        documents=["payment_proof", "account_verification"],
        due=timezone.now() + timedelta(days=3))


@pytest.fixture(params=["zh-CN", "en-US"])
def reader(request, browser: Browser) -> Iterator[tuple[Page, dict[str, str]]]:
    """A desktop page whose browser asks for the language, and that language's words."""
    context = browser.new_context(locale=request.param, viewport=DESKTOP)
    try:
        yield context.new_page(), WORDS[request.param]
    finally:
        context.close()


def pdf(name: str) -> dict[str, object]:
    return {"name": name, "mimeType": "application/pdf", "buffer": PDF}


def test_a_customer_answers_a_request_for_information_with_a_file_for_each_document(
        live_server, waiting_case, reader, screenshot: Callable[[Page, str], Path]):
    page, words = reader
    number = waiting_case.tracking_number

    # given the customer, logged in, on the page of their request
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label(words["email"]).fill(EMAIL)
    page.get_by_label(words["password"]).fill(PASSWORD)
    page.get_by_role("button", name=words["login"], exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(words["account"])
    page.goto(f"{live_server.url}/refunds/{number}")

    # then they read the question, the deadline, and one place per document asked for,
    # each still missing, and one answer box
    form = page.get_by_role("region", name=words["heading"])
    expect(form).to_be_visible()
    expect(form.get_by_text("请上传付款凭证，并证明账户归您所有。")).to_be_visible()
    expect(form).to_contain_text(words["due"])
    asked = form.get_by_role("group", name=words["asked"])
    expect(asked.get_by_text(words["missing"])).to_have_count(2)
    expect(page.locator("textarea")).to_have_count(1)
    screenshot(page, words["screenshot"])

    # when they send a program named like a PDF as the proof of ownership
    form.get_by_label(words["answer"]).fill("凭证见附件。")
    form.get_by_label(words["payment"]).set_input_files(files=[pdf("alipay.pdf")])
    form.get_by_label(words["ownership"]).set_input_files(files=[{
        "name": "setup.pdf", "mimeType": "application/pdf", "buffer": ELF}])
    form.get_by_role("button", name=words["send"]).click()

    # then the file is named as refused, nothing was sent, and the answer is still there
    form = page.get_by_role("region", name=words["heading"])
    expect(form).to_contain_text(words["refused"])
    expect(form).to_contain_text(words["resend"])
    expect(form.get_by_label(words["answer"])).to_have_value("凭证见附件。")
    assert RefundCase.objects.get(pk=waiting_case.pk).state == "awaiting_customer"

    # when they choose both files again, the right one this time, and send
    form.get_by_label(words["payment"]).set_input_files(files=[pdf("alipay.pdf")])
    form.get_by_label(words["ownership"]).set_input_files(files=[pdf("account.pdf")])
    form.get_by_role("button", name=words["send"]).click()

    # then the request is back in review with both documents, each of its kind
    expect(page.locator(".case-summary")).to_contain_text(words["in_review"])
    expect(page.get_by_role("region", name=words["heading"])).to_have_count(0)
    case = RefundCase.objects.get(pk=waiting_case.pk)
    assert case.state == "in_review"
    assert {d.name: d.kind for d in case.documents.all()} == {
        "alipay.pdf": "payment_proof", "account.pdf": "account_verification"}
    assert case.messages.filter(author_kind="customer", body="凭证见附件。").exists()
