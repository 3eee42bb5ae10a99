"""E-mail to the customer reaches a real SMTP server through the worker, in the customer's
language, with the tracking number and the tracking link; each delivery is logged and is
sent once however often the worker's pass runs."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext

from refunddesk.cases.models import RefundCase
from refunddesk.cases.states import State
from refunddesk.core.leasing import claim_due
from refunddesk.notifications.models import EmailDelivery, Status
from refunddesk.notifications.outbox import notify
from refunddesk.notifications.sending import LEASE, send_waiting, waiting
from tests.notifications.conftest import BASE_URL, run_worker, submit_case
from tests.outside_probe import held_back

# Run by a worker after the case has committed, as in production.
pytestmark = pytest.mark.django_db(transaction=True)


# 900.00 CNY as each language writes money (core/money.py).
MONEY = {"en": "CN¥900.00", "zh-hans": "¥900.00"}


def expected_subjects(language: str, number: str) -> tuple[str, str, str]:
    """The subjects through the same catalogue the mail uses: right before and after the
    Chinese translations land."""
    money = MONEY[language]
    with translation.override(language):
        return (gettext("We have received your refund request %(number)s") % {"number": number},
                gettext("Your refund of %(money)s is approved") % {"money": money},
                gettext("Your refund of %(money)s has been paid") % {"money": money})


def mails_by_subject(mailbox):
    return {received.subject: received for received in mailbox.messages}


def test_an_english_customer_gets_the_submitted_and_the_decided_mail_in_english(mailbox):
    # given a case submitted in English inside the five days, approved at once
    case = submit_case("en")
    assert case.state == State.APPROVED
    assert mailbox.messages == []  # nothing is sent before the worker runs

    # when the worker runs the queue
    run_worker()

    # then the SMTP server has three mails for the customer, in English: received, approved
    # and paid (the policy refunds to the account balance, which the worker credits at once)
    link = f"{BASE_URL}/track?number={case.tracking_number}"
    assert len(mailbox.messages) == 3
    mails = mails_by_subject(mailbox)
    submitted = mails[f"We have received your refund request {case.tracking_number}"]
    decided = mails["Your refund of CN¥900.00 is approved"]
    paid = mails["Your refund of CN¥900.00 has been paid"]
    for received in (submitted, decided, paid):
        assert received.rcpt_tos == ["li.lei@example.com"]
        assert received.message["To"] == "li.lei@example.com"
        assert received.message.get_content_type() == "multipart/alternative"
        text, html = received.body("text/plain"), received.body("text/html")
        assert f"Tracking number: {case.tracking_number}" in text
        assert link in text
        assert f'href="{link}"' in html
        assert case.tracking_number in html
        assert '<html lang="en">' in html
    assert "order TC-20260301-0001" in submitted.body("text/plain")
    assert "CN¥900.00 will be paid back" in decided.body("text/plain")


def test_a_chinese_customer_gets_the_mails_in_simplified_chinese(mailbox):
    # given a case submitted in Simplified Chinese
    case = submit_case("zh-hans")

    # when the worker runs the queue
    run_worker()

    # then the mails carry the Chinese subjects, the number, the amount and the link
    submitted_subject, decided_subject, paid_subject = expected_subjects(
        "zh-hans", case.tracking_number)
    mails = mails_by_subject(mailbox)
    assert set(mails) == {submitted_subject, decided_subject, paid_subject}
    link = f"{BASE_URL}/track?number={case.tracking_number}"
    for received in mails.values():
        assert received.rcpt_tos == ["li.lei@example.com"]
        assert received.message.get_content_type() == "multipart/alternative"
        text, html = received.body("text/plain"), received.body("text/html")
        assert case.tracking_number in text and link in text
        assert f'href="{link}"' in html
        assert '<html lang="zh-hans">' in html
    assert "900.00" in mails[decided_subject].body("text/plain")
    with translation.override("zh-hans"):
        footer = gettext("RefundDesk — please do not reply to this message.")
    assert footer in mails[submitted_subject].body("text/plain")


def test_each_delivery_is_logged_as_sent_once_with_one_attempt(mailbox):
    # given a case whose two mails the worker has sent
    case = submit_case("en")
    queued = list(EmailDelivery.objects.filter(case=case).values_list("kind", "status"))
    assert sorted(queued) == [("decided", Status.QUEUED), ("submitted", Status.QUEUED)]
    run_worker()

    # then each delivery is logged: sent, one attempt, when, no error, the subject
    deliveries = EmailDelivery.objects.filter(case=case).order_by("id")
    assert [d.kind for d in deliveries] == ["submitted", "decided", "paid"]
    for delivery in deliveries:
        assert delivery.status == Status.SENT
        assert delivery.attempts == 1
        assert delivery.sent_at is not None
        assert delivery.last_error == ""
        assert delivery.to_address == "li.lei@example.com"
        assert delivery.language == "en"
    assert deliveries[1].subject == "Your refund of CN¥900.00 is approved"


def test_running_the_worker_or_its_pass_again_sends_nothing_more(mailbox):
    # given a case whose mails have been sent
    case = submit_case("en")
    run_worker()
    assert len(mailbox.messages) == 3
    delivery = EmailDelivery.objects.get(case=case, kind="submitted")
    sent_at = delivery.sent_at

    # when the worker runs again, and its pass twice more, later
    run_worker()
    assert send_waiting() == 0
    assert send_waiting(timezone.now() + LEASE) == 0

    # then nothing more was sent and the log is unchanged
    assert len(mailbox.messages) == 3
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.sent_at) == (Status.SENT, 1, sent_at)


def test_the_smtp_conversation_runs_with_no_transaction_open_and_no_lock_on_the_mail(mailbox):
    # given a case with queued mails, and an SMTP server that looks at the worker as each
    # message arrives
    case = submit_case("en")
    worker, seen = connection, []
    mailbox.on_data = lambda: seen.append(
        held_back(worker, EmailDelivery.objects.filter(case_id=case.pk)))

    # when the worker sends them
    run_worker()

    # then while the server took each message the worker held no transaction and (on
    # PostgreSQL, asked from another connection) no lock on any of the case's mails
    assert len(mailbox.messages) == 3
    assert seen == [[], [], []]


def test_a_mail_whose_worker_died_while_sending_is_sent_by_a_later_pass_after_its_lease(
        mailbox):
    # given a case whose mails are sent, and a new one a worker took and then died on
    case = submit_case("en")
    run_worker()
    with transaction.atomic():
        delivery = notify(RefundCase.objects.get(pk=case.pk), "appeal_received")
    now = timezone.now()
    assert claim_due(waiting().filter(pk=delivery.pk), now=now, lease=LEASE, limit=1)

    # when the worker's pass runs while the lease holds
    assert send_waiting(now) == 0
    assert send_waiting(now + LEASE - timedelta(seconds=1)) == 0

    # then nothing was sent; once the lease has run out a pass sends it, once
    assert len(mailbox.messages) == 3
    assert send_waiting(now + LEASE) == 1
    assert send_waiting(now + 2 * LEASE) == 0
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == (
        Status.SENT, 2, None)
    assert len(mailbox.messages) == 4
