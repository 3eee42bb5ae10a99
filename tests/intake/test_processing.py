"""Mail becomes what it asks for, exactly once: a case through the portal's own action, a
message or material on the case it answers, or an item for a person in triage."""

import base64
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from refunddesk.cases import actions
from refunddesk.cases.actors import customer_of
from refunddesk.cases.models import Document, Message, RefundCase
from refunddesk.cases.states import State
from refunddesk.core.leasing import claim_due
from refunddesk.intake.models import InboundMail, MailState, Source, TriageReason
from refunddesk.intake.processing import LEASE, MAX_ATTEMPTS, process, process_waiting
from refunddesk.intake.reading import read_mail
from refunddesk.intake.storing import store
from tests.cases.conftest import AFTER_FIVE_DAYS, INSIDE_FIVE_DAYS
from tests.intake.conftest import corpus
from tests.outside_probe import held_back
from tests.portal.builders import ELF
from tests.staff import staff_member

# The receipt attached to request_format.eml.
PDF_OF_CORPUS = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"

pytestmark = pytest.mark.django_db


def receive(raw, *, now=INSIDE_FIVE_DAYS):
    mail, _is_new = store(raw, source=Source.PIPE, now=now)
    return process(mail, now=now)


def test_a_request_in_the_documented_format_opens_a_case_with_its_attachment(order):
    mail = receive(corpus("request_format.eml"))

    assert mail.state == MailState.OPENED_CASE
    case = RefundCase.objects.get()
    assert mail.case == case
    assert (case.channel, case.language) == ("email", "zh-hans")
    assert case.reason_text == "不再需要这台服务器"
    assert case.state == State.APPROVED  # inside Tencent Cloud's five days: at once
    assert list(case.documents.values_list("name", flat=True)) == ["receipt.pdf"]


def test_free_form_mail_naming_the_order_opens_a_case_for_its_lines(order):
    mail = receive(corpus("free_form_gbk.eml"), now=AFTER_FIVE_DAYS)

    case = mail.case
    assert mail.state == MailState.OPENED_CASE
    assert case.state == State.IN_REVIEW  # after the five days: an agent decides
    assert [line.order_line.line_id for line in case.lines.select_related("order_line")] == ["1"]
    assert "王镕" in case.reason_text


def test_the_same_message_received_twice_opens_one_case(order):
    first = receive(corpus("request_format.eml"))
    second = receive(corpus("request_format.eml"))

    assert first.pk == second.pk
    assert RefundCase.objects.count() == 1
    assert InboundMail.objects.count() == 1


def test_a_message_without_message_id_is_known_again_by_its_bytes(order):
    raw = corpus("html_only.eml").replace(b"Message-ID: <html-1@mail.example.com>\r\n", b"")

    receive(raw)
    receive(raw)

    assert InboundMail.objects.get().message_key.startswith("sha256:")
    assert RefundCase.objects.count() == 1


def test_a_reply_to_the_case_address_becomes_the_customers_message(order):
    case = actions.submit(account=order.account, order=order, line_ids=["1"],
                          actor=customer_of(order.account), channel="portal",
                          now=AFTER_FIVE_DAYS)
    plus = case.tracking_number.replace("-", "")

    mail = receive(corpus("reply_gmail_en.eml", tracking="x").replace(
        b"To: refunds@desk.example", f"To: refunds+{plus}@desk.example".encode()),
        now=AFTER_FIVE_DAYS)

    assert (mail.state, mail.case) == (MailState.ADDED_TO_CASE, case)
    message = Message.objects.get(case=case)
    assert message.body == "The server was never used, I only tested it once."
    assert message.author_kind == "customer"


def test_a_reply_naming_the_tracking_number_in_its_subject_supplements_a_waiting_case(order):
    case = actions.submit(account=order.account, order=order, line_ids=["1"],
                          actor=customer_of(order.account), channel="portal",
                          now=AFTER_FIVE_DAYS)
    agent = staff_member("agent-1", "agent")
    actions.claim(case, actor=agent, now=AFTER_FIVE_DAYS)
    actions.request_info(case, actor=agent, questions="Why?", due=AFTER_FIVE_DAYS.replace(
        month=7), now=AFTER_FIVE_DAYS)

    mail = receive(corpus("reply_gmail_en.eml", tracking=case.tracking_number),
                   now=AFTER_FIVE_DAYS)

    case.refresh_from_db()
    assert mail.state == MailState.ADDED_TO_CASE
    assert case.state == State.IN_REVIEW  # answered: back to the agent
    assert case.messages.filter(author_kind="customer").exists()


def test_a_reply_from_another_address_goes_to_a_person(order):
    case = actions.submit(account=order.account, order=order, line_ids=["1"],
                          actor=customer_of(order.account), channel="portal",
                          now=AFTER_FIVE_DAYS)
    raw = corpus("reply_gmail_en.eml", tracking=case.tracking_number).replace(
        b"li.lei@example.com", b"someone.else@example.net")

    mail = receive(raw, now=AFTER_FIVE_DAYS)

    assert (mail.state, mail.triage_reason, mail.case) == (
        MailState.TRIAGE, TriageReason.UNKNOWN_SENDER, case)
    assert not Message.objects.filter(case=case).exists()


@pytest.mark.parametrize(("name", "state", "reason"), [
    ("bounce.eml", MailState.IGNORED, ""),
    ("auto_reply.eml", MailState.IGNORED, ""),
    ("failed_dmarc.eml", MailState.TRIAGE, TriageReason.NOT_AUTHENTIC),
    ("broken_mime.eml", MailState.TRIAGE, TriageReason.NOTHING_READABLE),
])
def test_mail_a_machine_sent_is_ignored_and_doubtful_mail_goes_to_a_person(order, name, state,
                                                                           reason):
    mail = receive(corpus(name))

    assert (mail.state, mail.triage_reason) == (state, reason)
    assert not RefundCase.objects.exists()
    with mail.raw.open("rb") as kept:
        assert kept.read() == corpus(name)  # kept whole either way


def test_a_stranger_or_a_mail_naming_no_order_goes_to_triage(order):
    stranger = receive(corpus("html_only.eml").replace(b"LI.LEI@EXAMPLE.COM",
                                                       b"nobody@example.org"))
    no_order = receive(corpus("auto_reply.eml").replace(
        b"Auto-Submitted: auto-replied\r\n", b"").replace(b"<ooo-1@", b"<plain-1@"))

    assert (stranger.state, stranger.triage_reason) == (MailState.TRIAGE,
                                                        TriageReason.UNKNOWN_SENDER)
    assert (no_order.state, no_order.triage_reason) == (MailState.TRIAGE,
                                                        TriageReason.NO_ORDER)
    assert not RefundCase.objects.exists()


def test_a_refused_attachment_is_named_and_the_rest_of_the_request_goes_on(order):
    pdf_part = base64.encodebytes(PDF_OF_CORPUS).replace(b"\n", b"\r\n")
    raw = corpus("request_format.eml").replace(
        pdf_part, base64.encodebytes(ELF).replace(b"\n", b"\r\n")).replace(
        b"receipt.pdf", b"invoice.pdf")
    assert pdf_part in corpus("request_format.eml")  # the attachment was swapped

    mail = receive(raw)

    assert mail.state == MailState.OPENED_CASE
    assert [item["name"] for item in mail.refused_attachments] == ["invoice.pdf"]
    assert not Document.objects.exists()


def test_a_message_stored_but_not_processed_is_processed_by_the_worker_once(order):
    mail, _ = store(corpus("request_format.eml"), source=Source.IMAP, now=INSIDE_FIVE_DAYS)

    assert process_waiting() == 1
    assert process_waiting() == 0
    mail.refresh_from_db()
    assert mail.state == MailState.OPENED_CASE and RefundCase.objects.count() == 1


FRIDAY = AFTER_FIVE_DAYS.replace(day=5)  # 2026-06-05, 12:00 Beijing time


def test_a_request_by_email_is_owed_a_first_answer_within_24_hours(order):
    mail = receive(corpus("free_form_gbk.eml"), now=FRIDAY)

    # Tencent Cloud's policy gives a first response one business day (Monday); the mailbox
    # promises 24 hours, which is sooner.
    assert mail.case.first_response_due == FRIDAY + timedelta(hours=24)


def test_a_request_in_the_portal_keeps_the_policys_first_response_time(order):
    case = actions.submit(account=order.account, order=order, line_ids=["1"],
                          actor=customer_of(order.account), channel="portal", now=FRIDAY)

    assert case.first_response_due == FRIDAY + timedelta(days=3)  # Monday 12:00


def test_a_policy_that_asks_sooner_than_the_mailbox_promise_keeps_its_time(order, settings):
    settings.REFUNDDESK_EMAIL_ANSWER_WITHIN = "5d"

    mail = receive(corpus("free_form_gbk.eml"), now=FRIDAY)

    assert mail.case.first_response_due == FRIDAY + timedelta(days=3)


def test_a_wrong_promise_setting_fails_the_system_check(settings):
    from refunddesk.intake.checks import mailboxes_are_readable

    settings.REFUNDDESK_EMAIL_ANSWER_WITHIN = "soon"
    settings.REFUNDDESK_EMAIL_CALENDAR = "XX-NOWHERE"

    assert {error.id for error in mailboxes_are_readable()} == {"intake.E002", "intake.E003"}


def with_attachments(raw: bytes, attachments: list[tuple[str, bytes]]) -> bytes:
    """The corpus request with its receipt replaced by these attachments."""
    head, _sep, _rest = raw.partition(b"--b1\r\nContent-Type: application/pdf")
    parts = b"".join(
        b"--b1\r\nContent-Type: application/pdf; name=\"" + name.encode() + b"\"\r\n"
        b"Content-Disposition: attachment; filename=\"" + name.encode() + b"\"\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n"
        + base64.encodebytes(data).replace(b"\n", b"\r\n") + b"\r\n"
        for name, data in attachments)
    return head + parts + b"--b1--\r\n"


def test_a_20_mb_attachment_is_refused_by_the_upload_limit_and_the_request_goes_on(order):
    big = PDF_OF_CORPUS + b"0" * (20 * 2**20)

    mail = receive(with_attachments(corpus("request_format.eml"), [("scan.pdf", big)]))

    assert mail.state == MailState.OPENED_CASE
    assert [item["name"] for item in mail.refused_attachments] == ["scan.pdf"]
    assert not Document.objects.exists()
    assert mail.size > 20 * 2**20  # kept whole all the same


def test_attachments_beyond_the_limit_are_refused_and_named(order, settings):
    settings.REFUNDDESK_MAIL_MAX_ATTACHMENTS = 2
    files = [(f"page-{number}.pdf", PDF_OF_CORPUS) for number in range(1, 5)]

    mail = receive(with_attachments(corpus("request_format.eml"), files))

    assert mail.state == MailState.OPENED_CASE
    assert sorted(Document.objects.values_list("name", flat=True)) == ["page-1.pdf",
                                                                       "page-2.pdf"]
    assert [item["name"] for item in mail.refused_attachments] == ["page-3.pdf", "page-4.pdf"]
    assert "more than 2 attachments" in mail.refused_attachments[0]["reason"]


def test_a_message_over_the_size_limit_is_kept_whole_for_a_person(order, settings):
    settings.REFUNDDESK_MAIL_MAX_BYTES = 100

    mail = receive(corpus("request_format.eml"))

    assert (mail.state, mail.triage_reason) == (MailState.TRIAGE, TriageReason.TOO_LARGE)
    assert not RefundCase.objects.exists()
    with mail.raw.open("rb") as kept:
        assert kept.read() == corpus("request_format.eml")


@pytest.mark.parametrize("name", ["forwarded_gmail.eml", "big5_request.eml"])
def test_a_forwarded_invoice_or_a_big5_request_naming_the_order_opens_its_case(order, name):
    mail = receive(corpus(name), now=AFTER_FIVE_DAYS)

    assert mail.state == MailState.OPENED_CASE
    assert mail.case.order == order


@pytest.mark.django_db(transaction=True)
def test_the_sweep_reads_a_stored_message_with_no_transaction_open_and_no_lock_on_it(
        order, monkeypatch):
    # given a message stored but not processed, and a storage read that looks at the worker
    mail, _ = store(corpus("request_format.eml"), source=Source.IMAP, now=INSIDE_FIVE_DAYS)
    worker, seen = connection, []

    def read_and_look(raw):
        seen.append(held_back(worker, InboundMail.objects.filter(pk=mail.pk)))
        return read_mail(raw)

    monkeypatch.setattr("refunddesk.intake.processing.read_mail", read_and_look)

    # when the worker's sweep processes it
    assert process_waiting() == 1

    # then the message opened its case, and was read with no transaction open and no lock
    # on its row
    mail.refresh_from_db()
    assert mail.state == MailState.OPENED_CASE
    assert seen == [[]]


def test_a_message_that_keeps_failing_goes_to_a_person_after_the_last_attempt(order,
                                                                           monkeypatch):
    # given a stored message whose processing fails every time
    mail, _ = store(corpus("request_format.eml"), source=Source.IMAP, now=INSIDE_FIVE_DAYS)

    def broken(raw):
        raise ValueError("unreadable")

    monkeypatch.setattr("refunddesk.intake.processing.read_mail", broken)
    now = timezone.now()

    # when the sweep takes it, and again each time it falls due on the backoff
    for attempt in range(1, MAX_ATTEMPTS):
        assert process_waiting(now=now) == 0
        mail.refresh_from_db()
        assert (mail.state, mail.attempts) == (MailState.RECEIVED, attempt)
        assert process_waiting(now=now) == 0  # not due again yet: nothing taken
        now = mail.next_attempt_at
    process_waiting(now=now)

    # then after the last attempt it waits in triage, kept whole
    mail.refresh_from_db()
    assert (mail.state, mail.triage_reason, mail.attempts) == (
        MailState.TRIAGE, TriageReason.BROKEN, MAX_ATTEMPTS)
    assert mail.next_attempt_at is None


def test_a_message_whose_worker_died_on_it_every_time_goes_to_a_person(order):
    # given a stored message three workers took and died on (claimed, never recorded)
    mail, _ = store(corpus("request_format.eml"), source=Source.IMAP, now=INSIDE_FIVE_DAYS)
    now = timezone.now()
    for _ in range(MAX_ATTEMPTS):
        [claimed] = claim_due(InboundMail.objects.filter(pk=mail.pk), now=now, lease=LEASE,
                              limit=1)
        now = claimed.next_attempt_at  # the lease runs out

    # when the sweep takes it once more
    process_waiting(now=now)

    # then it is not processed again (it may be what kills them): a person gets it
    mail.refresh_from_db()
    assert (mail.state, mail.triage_reason) == (MailState.TRIAGE, TriageReason.BROKEN)
    assert RefundCase.objects.count() == 0
