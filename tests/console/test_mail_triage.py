"""The e-mail triage queue in the console: agents see what the intake could not place,
read it (headers, text, attachments, the raw message as a download), add it to its case or
set it aside; other roles and strangers are refused; bad input changes nothing."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from refunddesk.cases.models import Message
from refunddesk.cases.tracking import new_tracking_number
from refunddesk.intake.models import InboundMail, MailState, Source, TriageReason
from refunddesk.intake.processing import process
from refunddesk.intake.storing import store
from refunddesk.notifications.models import EmailDelivery
from tests.intake.conftest import corpus
from tests.notifications.conftest import run_worker

pytestmark = pytest.mark.django_db

EN = {"Accept-Language": "en"}
LIST = reverse("console:mail_list")


def stranger_mail(subject="Where is my money?", key="stranger-1"):
    raw = (f"From: Zhou Ping <zhou.ping38@example.net>\r\nTo: refunds@desk.example\r\n"
           f"Subject: {subject}\r\nMessage-ID: <{key}@example.net>\r\n"
           "Authentication-Results: mx.desk.example; spf=pass\r\n\r\n"
           "I paid twice for my VPN, please refund one.\r\n").encode()
    mail, _ = store(raw, source=Source.PIPE)
    return process(mail)


def test_an_agent_sees_the_mail_waiting_in_triage_oldest_first_with_why(staff_client):
    first, second = stranger_mail(key="a"), stranger_mail("Second", key="b")
    client = staff_client("agent")

    page = client.get(LIST, headers=EN).content.decode()

    assert first.state == MailState.TRIAGE
    assert "2 messages wait in triage." in page
    assert "The sender matches no account" in page
    assert page.index(reverse("console:mail_detail", args=[first.pk])) < page.index(
        reverse("console:mail_detail", args=[second.pk]))
    assert f'href="{LIST}"' in page  # the console's menu leads here


def test_the_empty_triage_queue_says_so(staff_client):
    page = staff_client("agent").get(LIST, headers=EN).content.decode()

    assert "No e-mail waits for a person." in page


def test_a_message_shows_its_headers_text_and_attachments_and_the_raw_message_downloads(
        staff_client):
    mail = stranger_mail()
    client = staff_client("reviewer")

    page = client.get(reverse("console:mail_detail", args=[mail.pk]), headers=EN)
    raw = client.get(reverse("console:mail_raw", args=[mail.pk]))

    text = page.content.decode()
    assert "I paid twice for my VPN, please refund one." in text
    assert "Authentication-Results" in text and "spf=pass" in text
    assert "zhou.ping38@example.net" in text.replace("<wbr>", "")
    assert raw["Content-Type"] == "message/rfc822"
    assert raw["Content-Disposition"].startswith("attachment")
    assert b"".join(raw.streaming_content).startswith(b"From: Zhou Ping")


def test_adding_a_message_to_its_case_makes_it_the_customers_message(staff_client,
                                                                     case_in_review):
    mail = stranger_mail()
    client = staff_client("agent")

    response = client.post(reverse("console:mail_add_to_case", args=[mail.pk]),
                           {"tracking_number": case_in_review.tracking_number.lower()},
                           headers=EN)

    assert response.status_code == 302
    mail.refresh_from_db()
    assert (mail.state, mail.case, mail.handled_by) == (
        MailState.ADDED_TO_CASE, case_in_review, client.user)
    message = Message.objects.get(case=case_in_review)
    assert (message.body, message.author_kind) == (
        "I paid twice for my VPN, please refund one.", "customer")


@pytest.mark.parametrize(("number", "says"), [
    ("not-a-number", "is not a tracking number"),
    (new_tracking_number(), "No case has the tracking number"),
])
def test_a_wrong_tracking_number_is_refused_and_changes_nothing(staff_client, number, says):
    mail = stranger_mail()

    response = staff_client("agent").post(
        reverse("console:mail_add_to_case", args=[mail.pk]), {"tracking_number": number},
        headers=EN)

    assert response.status_code == 400
    assert says in response.content.decode()
    mail.refresh_from_db()
    assert mail.state == MailState.TRIAGE and not Message.objects.exists()


def test_setting_a_message_aside_takes_it_out_of_triage_and_it_cannot_be_handled_twice(
        staff_client, case_in_review):
    mail = stranger_mail()
    client = staff_client("agent")

    client.post(reverse("console:mail_set_aside", args=[mail.pk]))
    again = client.post(reverse("console:mail_add_to_case", args=[mail.pk]),
                        {"tracking_number": case_in_review.tracking_number}, headers=EN)

    mail.refresh_from_db()
    assert mail.state == MailState.SET_ASIDE
    assert again.status_code == 400
    assert "has been dealt with already" in again.content.decode()
    assert "No e-mail waits for a person." in client.get(LIST, headers=EN).content.decode()
    assert "Set aside" in client.get(LIST + "?state=all", headers=EN).content.decode()


def test_the_list_filters_by_state_and_reason_and_refuses_unknown_values(staff_client):
    stranger_mail()
    InboundMail.objects.update(triage_reason=TriageReason.NOT_AUTHENTIC)
    client = staff_client("agent")

    shown = client.get(LIST + "?reason=not_authentic", headers=EN).content.decode()
    hidden = client.get(LIST + "?reason=no_order", headers=EN).content.decode()
    wrong = client.get(LIST + "?state=nonsense", headers=EN)

    assert "Where is my money?" in shown and "Where is my money?" not in hidden
    assert wrong.status_code == 200 and "Select a valid choice" in wrong.content.decode()


def test_finance_and_customers_are_refused_and_strangers_sent_to_log_in(staff_client, client,
                                                                        alice_order):
    mail = stranger_mail()
    finance = staff_client("finance")
    assert finance.get(LIST).status_code == 403
    assert finance.get(reverse("console:mail_raw", args=[mail.pk])).status_code == 403
    finance.logout()
    assert client.get(LIST).status_code == 302


def test_a_corpus_message_reads_the_same_in_the_console_as_in_the_intake(staff_client):
    mail, _ = store(corpus("failed_dmarc.eml"), source=Source.PIPE)
    mail = process(mail)

    page = staff_client("agent").get(reverse("console:mail_detail", args=[mail.pk]),
                                     headers=EN).content.decode()

    assert mail.triage_reason == TriageReason.NOT_AUTHENTIC
    assert "failed SPF, DKIM or DMARC" in page and "dmarc=fail" in page


def test_mail_waiting_longer_than_the_promised_answer_time_is_marked_overdue(staff_client):
    raw = (b"From: someone@example.org\r\nSubject: Old\r\nMessage-ID: <old@example.org>\r\n"
           b"\r\nHello?\r\n")
    mail, _ = store(raw, source=Source.PIPE, now=timezone.now() - timedelta(days=2))
    process(mail)
    stranger_mail()  # just arrived: not overdue

    page = staff_client("agent").get(LIST, headers=EN).content.decode()

    assert page.count("Overdue</span>") == 1


def test_the_case_page_shows_which_messages_came_by_email_and_the_cases_emails(
        staff_client, case_in_review):
    mail = stranger_mail()
    client = staff_client("agent")
    client.post(reverse("console:mail_add_to_case", args=[mail.pk]),
                {"tracking_number": case_in_review.tracking_number})

    page = client.get(reverse("console:case", args=[case_in_review.tracking_number]),
                      headers=EN).content.decode()

    detail = reverse("console:mail_detail", args=[mail.pk])
    assert f'<a href="{detail}">by e-mail</a>' in page
    assert "E-mail about this case" in page and "Where is my money?" in page


@pytest.mark.django_db(transaction=True)
def test_an_agent_answers_the_sender_who_gets_the_answer_in_the_thread(staff_client, mailbox):
    mail = stranger_mail()
    client = staff_client("agent")

    response = client.post(reverse("console:mail_answer", args=[mail.pk]),
                           {"body": "Which order do you mean?\n\nPlease send its number."},
                           headers=EN)
    run_worker()

    assert response.status_code == 302
    mail.refresh_from_db()
    assert (mail.state, mail.handled_by) == (MailState.ANSWERED, client.user)
    answer = next(sent for sent in mailbox.messages
                  if sent.message["Subject"] == "Re: Where is my money?")
    assert answer.rcpt_tos == ["zhou.ping38@example.net"]
    assert answer.message["In-Reply-To"] == "<stranger-1@example.net>"
    assert answer.message["Auto-Submitted"] is None  # a person wrote it
    assert "Please send its number." in answer.body("text/plain")
    page = client.get(reverse("console:mail_detail", args=[mail.pk]), headers=EN)
    assert "Answers sent" in page.content.decode()


def test_an_empty_answer_is_refused_and_sends_nothing(staff_client):
    mail = stranger_mail()

    response = staff_client("agent").post(reverse("console:mail_answer", args=[mail.pk]),
                                          {"body": "   "}, headers=EN)

    assert response.status_code == 400
    mail.refresh_from_db()
    assert mail.state == MailState.TRIAGE
    assert not EmailDelivery.objects.filter(kind="mail_answered").exists()


def test_an_agent_takes_an_email_and_another_cannot_deal_with_it(staff_client, make_staff,
                                                                 case_in_review, client):
    mail = stranger_mail()
    first = staff_client("agent", "agent-a")
    first.post(reverse("console:mail_claim", args=[mail.pk]))
    listed = first.get(LIST, headers=EN).content.decode()

    second = make_staff("agent", "agent-b")
    first.force_login(second)
    refused = first.post(reverse("console:mail_add_to_case", args=[mail.pk]),
                         {"tracking_number": case_in_review.tracking_number}, headers=EN)

    mail.refresh_from_db()
    assert mail.claimed_by.get_username() == "agent-a"
    assert "taken by agent-a" in listed
    assert refused.status_code == 400
    assert "agent-a has taken this e-mail already." in refused.content.decode()
    assert mail.state == MailState.TRIAGE
