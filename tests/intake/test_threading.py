"""A customer's reply to any case e-mail lands on that case: the e-mail carries the case in
its Reply-To (plus address) and its Message-ID, and a thread root in References; the reply
finds the case by either, even from a mail program that drops one of them."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import make_msgid, parseaddr

import pytest

from refunddesk.cases.models import Message
from refunddesk.intake.models import MailState, Source
from refunddesk.intake.processing import process
from refunddesk.intake.storing import store
from tests.notifications.conftest import run_worker, submit_case

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def reply_address(settings):
    settings.REFUNDDESK_REPLY_ADDRESS = "refunds+{tracking}@desk.example"
    settings.DEFAULT_FROM_EMAIL = "RefundDesk <refunds@desk.example>"


def customer_reply(original, *, to: str, body: str, keep_references: bool = True) -> bytes:
    reply = EmailMessage()
    reply["From"] = "Li Lei <li.lei@example.com>"
    reply["To"] = to
    reply["Subject"] = "Re: question"  # no tracking number: the headers must do
    reply["Message-ID"] = make_msgid(domain="mail.example.com")
    if keep_references:
        reply["In-Reply-To"] = original["Message-ID"]
        reply["References"] = f'{original["References"]} {original["Message-ID"]}'
    reply.set_content(f"{body}\n\nOn Wed, Mar 4, 2026, RefundDesk wrote:\n> earlier text\n")
    return bytes(reply)


def received_case_mail(mailbox):
    case = submit_case("en")
    run_worker()
    return case, mailbox.messages[0].message


def test_every_case_email_names_its_case_for_replies_and_threads_with_the_others(mailbox):
    case, _first = received_case_mail(mailbox)
    symbols = case.tracking_number.replace("-", "")

    for received in mailbox.messages:
        sent = received.message
        assert sent["Reply-To"] == f"refunds+{symbols}@desk.example"
        assert sent["Message-ID"].startswith(f"<rd.{symbols}.")
        assert sent["References"] == f"<rd.{symbols}@desk.example>"
    assert len({received.message["Message-ID"] for received in mailbox.messages}) == len(
        mailbox.messages)


def test_a_reply_to_the_reply_to_address_lands_on_the_case(mailbox):
    case, original = received_case_mail(mailbox)
    to = parseaddr(original["Reply-To"])[1]

    mail, _ = store(customer_reply(original, to=to, body="Thank you!", keep_references=False),
                    source=Source.PIPE)
    mail = process(mail)

    assert (mail.state, mail.case) == (MailState.ADDED_TO_CASE, case)
    assert Message.objects.get(case=case).body == "Thank you!"


def test_a_reply_sent_to_the_plain_address_finds_the_case_by_the_mail_it_answers(mailbox):
    case, original = received_case_mail(mailbox)

    mail, _ = store(customer_reply(original, to="refunds@desk.example", body="Any news?"),
                    source=Source.PIPE)
    mail = process(mail)

    assert (mail.state, mail.case) == (MailState.ADDED_TO_CASE, case)
    assert Message.objects.get(case=case).body == "Any news?"
