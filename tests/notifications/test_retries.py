"""When the SMTP server is down or refuses, the delivery stays queued, the error is logged
and the next attempt falls due on an exponential backoff; after MAX_ATTEMPTS the delivery
is failed. A change that rolls back queues nothing. A change queues no task: the deliveries
are the queue."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from refunddesk.cases.models import RefundCase
from refunddesk.notifications import sending
from refunddesk.notifications.models import EmailDelivery, Status
from refunddesk.notifications.outbox import notify
from refunddesk.notifications.sending import MAX_ATTEMPTS, retry_delay
from tests.notifications.conftest import free_port, point_django_at, run_worker, submit_case

pytestmark = pytest.mark.django_db(transaction=True)

def let_the_retries_fall_due() -> None:
    """Time passes: every delivery waiting for its next attempt is due now."""
    now = timezone.now() - timedelta(seconds=1)
    EmailDelivery.objects.filter(status=Status.QUEUED).update(next_attempt_at=now)


@pytest.fixture(params=["nothing listening", "451 on RCPT", "554 on DATA"])
def broken_smtp(request, mailbox, settings):
    """An SMTP server that cannot take the mail, three ways."""
    if request.param == "nothing listening":
        point_django_at(settings, free_port())
    elif request.param == "451 on RCPT":
        mailbox.refuse_rcpt = "451 4.3.0 Mailbox temporarily unavailable"
    else:
        mailbox.refuse_data = "554 5.7.1 Message refused"
    return request.param


def test_a_failed_send_stays_queued_with_the_error_and_a_retry_a_minute_later(broken_smtp):
    # given a case submitted while the SMTP server cannot take mail
    case = submit_case("en")
    before = timezone.now()

    # when the worker runs
    run_worker()

    # then each delivery is still queued after one attempt, with the error written down,
    # and falls due again in about a minute, not before
    after = timezone.now()
    for delivery in EmailDelivery.objects.filter(case=case):
        assert delivery.status == Status.QUEUED
        assert delivery.attempts == 1
        assert delivery.sent_at is None
        assert delivery.last_error
        assert (before + timedelta(minutes=1) <= delivery.next_attempt_at
                <= after + timedelta(minutes=1))
    assert sending.send_waiting() == 0
    expected_error = {"nothing listening": "ConnectionRefusedError",
                      "451 on RCPT": "451", "554 on DATA": "554"}[broken_smtp]
    assert expected_error in EmailDelivery.objects.filter(case=case).first().last_error


def test_the_backoff_doubles_from_one_minute():
    assert [retry_delay(attempts) for attempts in range(1, MAX_ATTEMPTS)] == [
        timedelta(minutes=minutes) for minutes in (1, 2, 4, 8, 16)]


def test_a_delivery_that_keeps_failing_is_marked_failed_after_the_last_attempt(mailbox):
    # given an SMTP server that refuses every message
    mailbox.refuse_data = "554 5.7.1 Message refused"
    case = submit_case("en")

    # when the worker has run the first attempt and every retry as it fell due
    run_worker()
    for _ in range(MAX_ATTEMPTS - 1):
        let_the_retries_fall_due()
        run_worker()

    # then the deliveries are failed after MAX_ATTEMPTS, and no further attempt waits
    for delivery in EmailDelivery.objects.filter(case=case):
        assert delivery.status == Status.FAILED
        assert delivery.attempts == MAX_ATTEMPTS
        assert "554" in delivery.last_error
        assert delivery.sent_at is None
        assert delivery.next_attempt_at is None
    assert mailbox.messages == []


def test_a_retry_that_succeeds_sends_the_mail_once(mailbox):
    # given deliveries that failed once while the server refused
    mailbox.refuse_rcpt = "451 4.3.0 Mailbox temporarily unavailable"
    case = submit_case("en")
    run_worker()

    # when the server takes mail again and the retries fall due
    mailbox.refuse_rcpt = ""
    let_the_retries_fall_due()
    run_worker()

    # then each mail (received, approved, paid) is sent once, on the second attempt, and
    # the error is cleared
    assert len(mailbox.messages) == 3
    for delivery in EmailDelivery.objects.filter(case=case):
        assert (delivery.status, delivery.attempts, delivery.last_error) == (Status.SENT, 2, "")
        assert delivery.next_attempt_at is None


class Boom(Exception):
    pass


def test_a_case_opened_and_approved_at_once_queues_its_two_mails_and_no_task(mailbox):
    # when a customer applies inside the five days (approved at once)
    before = timezone.now()
    case = submit_case("en")

    # then the "received" and "decided" mails are queued, due at once, with no task row;
    # the worker's next pass sends both
    deliveries = EmailDelivery.objects.filter(case=case)
    assert [(delivery.status, delivery.attempts) for delivery in deliveries] == [
        (Status.QUEUED, 0), (Status.QUEUED, 0)]
    assert all(before <= delivery.next_attempt_at <= timezone.now() for delivery in deliveries)
    assert not DBTaskResult.objects.exists()
    assert sending.send_waiting() == 2
    assert set(deliveries.values_list("status", flat=True)) == {Status.SENT}


def test_a_change_that_rolls_back_queues_no_mail(mailbox):
    # given a case, and its own mails already sent
    case = submit_case("en")
    run_worker()
    deliveries = EmailDelivery.objects.count()

    # when a change notifies the customer and then fails
    with pytest.raises(Boom), transaction.atomic():
        notify(RefundCase.objects.get(pk=case.pk), "appeal_received")
        assert EmailDelivery.objects.count() == deliveries + 1  # written in the transaction
        raise Boom

    # then the delivery does not exist, and the worker sends nothing
    assert EmailDelivery.objects.count() == deliveries
    run_worker()
    assert len(mailbox.messages) == 3



def test_a_customer_without_an_address_gets_a_failed_delivery_never_due(mailbox):
    # given a case whose account has no e-mail address
    case = submit_case("en")
    run_worker()
    case.account.email = ""
    case.account.save()

    # when the case notifies the customer
    with transaction.atomic():
        delivery = notify(RefundCase.objects.get(pk=case.pk), "appeal_received")

    # then the log says the customer was not told, and nothing waits to be sent
    delivery.refresh_from_db()
    assert delivery.status == Status.FAILED
    assert delivery.last_error == "the account has no e-mail address"
    assert delivery.next_attempt_at is None
    assert sending.send_waiting() == 0


def test_a_mail_that_cannot_be_composed_fails_at_once_without_retries(mailbox, monkeypatch):
    # given a fault in composing the mail (a broken template, say)
    def broken_compose(delivery):
        raise KeyError("number")

    monkeypatch.setattr("refunddesk.notifications.sending.compose", broken_compose)
    case = submit_case("en")

    # when the worker runs
    run_worker()

    # then the deliveries are failed with the fault written down; nothing is retried
    for delivery in EmailDelivery.objects.filter(case=case):
        assert (delivery.status, delivery.attempts) == (Status.FAILED, 1)
        assert delivery.last_error == "KeyError: 'number'"
        assert delivery.next_attempt_at is None
    assert mailbox.messages == []


def test_what_a_pass_cannot_send_within_its_lease_goes_back_to_the_queue_due_at_once(
        mailbox, monkeypatch):
    # given a case's queued mails, and a lease so short that the pass's time is up before
    # its first mail
    case = submit_case("en")
    ids = sorted(EmailDelivery.objects.filter(case=case).values_list("pk", flat=True))
    monkeypatch.setattr(sending, "LEASE", timedelta(0))

    # when the worker's pass runs
    now = timezone.now()
    assert sending.send_waiting(now) == 0

    # then nothing was sent: each mail is queued and due again at once, untouched but for
    # the claim
    assert mailbox.messages == []
    for delivery in EmailDelivery.objects.filter(pk__in=ids):
        assert (delivery.status, delivery.attempts, delivery.last_error) == (
            Status.QUEUED, 1, "")
        assert delivery.next_attempt_at == now

    # and with time enough, the next pass sends them, once each
    monkeypatch.setattr(sending, "LEASE", timedelta(minutes=5))
    assert sending.send_waiting() == 2
    assert len(mailbox.messages) == 2
