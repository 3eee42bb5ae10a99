"""Automatic replies (RFC 3834): the sender of an e-mail that waits for a person learns it
arrived, when to expect an answer and which attachments were refused; never a machine, a
forged sender or ourselves, and at most a few an hour to one sender. The "received" e-mail
of a case opened by e-mail answers that e-mail."""

from __future__ import annotations

import base64

import pytest
from django.utils import translation
from django.utils.translation import gettext

from refunddesk.core.money import format_money
from refunddesk.intake.models import MailState, Source
from refunddesk.intake.processing import process
from refunddesk.intake.storing import store
from refunddesk.notifications.models import EmailDelivery, Kind
from tests.intake.conftest import corpus
from tests.notifications.conftest import run_worker
from tests.portal.builders import ELF

pytestmark = pytest.mark.django_db(transaction=True)


def stranger(key: str, *, sender: str = "zhou.ping38@example.net", body: str = "我的退款呢？",
             extra: str = "") -> bytes:
    return (f"From: {sender}\r\nTo: refunds@desk.example\r\nSubject: 退款\r\n"
            f"Message-ID: <{key}@example.net>\r\n{extra}"
            "Content-Type: text/plain; charset=utf-8\r\n\r\n" + body + "\r\n").encode()


def receive(raw: bytes):
    mail, _ = store(raw, source=Source.PIPE)
    return process(mail)


def replies():
    return EmailDelivery.objects.filter(kind=Kind.MAIL_RECEIVED)


def test_a_stranger_gets_an_automatic_reply_in_their_language_marked_as_one(mailbox):
    mail = receive(stranger("s-1"))
    run_worker()

    assert mail.state == MailState.TRIAGE
    [sent] = mailbox.messages
    message = sent.message
    assert sent.rcpt_tos == ["zhou.ping38@example.net"]
    assert message["Auto-Submitted"] == "auto-replied"
    assert message["In-Reply-To"] == "<s-1@example.net>"
    text = sent.body("text/plain")
    assert "我们已收到您的邮件" in message["Subject"]
    assert "24 小时" in text
    assert replies().get().language == "zh-hans"


def test_the_automatic_reply_names_the_refused_attachments(mailbox):
    raw = (b"From: sophia@example.org\r\nTo: refunds@desk.example\r\nSubject: Refund\r\n"
           b"Message-ID: <att-1@example.org>\r\nMIME-Version: 1.0\r\n"
           b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
           b"Content-Type: text/plain\r\n\r\nPlease refund my plan.\r\n--b\r\n"
           b"Content-Type: application/zip; name=proof.zip\r\n"
           b"Content-Disposition: attachment; filename=proof.zip\r\n"
           b"Content-Transfer-Encoding: base64\r\n\r\nUEsDBAoAAAAAAA==\r\n--b--\r\n")

    mail = receive(raw)
    run_worker()

    assert [item["name"] for item in mail.refused_attachments] == ["proof.zip"]
    text = mailbox.messages[0].body("text/plain")
    assert "We could not accept these attachments: proof.zip." in text
    assert "within 24 hours" in text


@pytest.mark.parametrize("raw", [
    corpus("bounce.eml"),
    corpus("auto_reply.eml"),
    corpus("failed_dmarc.eml"),
    stranger("own-1", sender="refunds@desk.example"),
    stranger("own-2", sender="refunds+K7QH3M9TXW4@desk.example"),
], ids=["bounce", "out-of-office", "failed-dmarc", "our-address", "our-plus-address"])
def test_no_automatic_reply_to_machines_forged_senders_or_ourselves(settings, raw):
    settings.DEFAULT_FROM_EMAIL = "RefundDesk <refunds@desk.example>"
    settings.REFUNDDESK_REPLY_ADDRESS = "refunds+{tracking}@desk.example"

    receive(raw)

    assert not replies().exists()


def test_one_sender_gets_at_most_three_automatic_replies_an_hour(settings):
    settings.REFUNDDESK_MAIL_AUTO_REPLIES_PER_HOUR = 3

    for number in range(5):
        receive(stranger(f"loop-{number}"))

    assert replies().count() == 3
    receive(stranger("other-1", sender="someone.else@example.net"))
    assert replies().count() == 4


def test_the_received_email_of_a_case_opened_by_email_answers_that_email(mailbox, order):
    mail = receive(corpus("request_format.eml"))
    run_worker()

    assert mail.state == MailState.OPENED_CASE
    received = next(sent.message for sent in mailbox.messages
                    if mail.case.tracking_number in sent.message["Subject"])
    assert received["Auto-Submitted"] == "auto-replied"
    assert received["In-Reply-To"] == "<format-1@mail.example.com>"
    assert "<format-1@mail.example.com>" in received["References"]


def test_the_received_email_of_a_request_by_email_gives_the_quote_and_names_refused_files(
        mailbox, order):
    receipt = base64.encodebytes(b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
    raw = corpus("request_format.eml").replace(
        receipt.replace(b"\n", b"\r\n"), base64.encodebytes(ELF).replace(b"\n", b"\r\n"))
    assert raw != corpus("request_format.eml")  # the receipt is an executable now

    mail = receive(raw)
    run_worker()

    received = next(sent for sent in mailbox.messages
                    if mail.case.tracking_number in sent.message["Subject"])
    text = received.body("text/plain")  # in Chinese: the e-mail was written in Chinese
    case = mail.case
    assert case.language == "zh-hans"
    with translation.override("zh-hans"):
        quote = gettext("%(number)s — %(products)s: an agent reviews it; the refund policy "
                        "suggests %(money)s.") % {
            "number": case.tracking_number,
            "products": case.lines.get().order_line.product.name_for("zh-hans"),
            "money": format_money(case.assessed_total_minor, "CNY")}
    assert quote in text and "¥" in quote and "CN¥" not in text  # money as Chinese writes it
    assert "receipt.pdf" in text
