"""`refunddesk worker`: the background worker, a thin layer over django-tasks-db's worker."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.db import connection
from django_tasks_db.models import DBTaskResult

from refunddesk.notifications.models import (
    DeliveryState,
    EmailDelivery,
    Status,
    WebhookDelivery,
)
from tests.notifications.conftest import BASE_URL, run_worker, submit_case
from tests.notifications.webhook_receiver import subscribe


def refunddesk(*arguments: str, env: dict[str, str] | None = None
               ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "refunddesk.cli", *arguments],
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, **(env or {})})


def test_worker_help_says_what_it_does_and_lists_the_worker_options():
    # when an operator asks for help
    result = refunddesk("worker", "--help")

    # then it explains the command and offers db_worker's options
    assert result.returncode == 0, result.stderr
    assert "background worker" in result.stdout
    for option in ("--batch", "--no-startup-delay", "--queue-name", "--interval",
                   "--max-tasks", "--worker-id"):
        assert option in result.stdout


@pytest.mark.django_db(transaction=True)
def test_worker_in_batch_mode_sends_every_due_mail_and_exits(mailbox):
    # given a submitted case with two queued mails, and no task row for them
    case = submit_case("en")
    assert EmailDelivery.objects.filter(case=case, status=Status.QUEUED).count() == 2
    assert DBTaskResult.objects.count() == 0

    # when `refunddesk worker --batch --no-startup-delay` runs
    run_worker()

    # then it returned with every mail sent, the "paid" mail of the payout it made on the
    # way included
    assert EmailDelivery.objects.filter(case=case, status=Status.SENT).count() == 3


@pytest.mark.django_db(transaction=True)
def test_worker_in_batch_mode_delivers_every_due_webhook_and_exits(mailbox, receiver):
    # given an endpoint listening for submitted cases, and a case submitted
    subscribe(receiver.url, ["case.submitted"])
    case = submit_case("en")
    [delivery] = WebhookDelivery.objects.all()
    assert DBTaskResult.objects.count() == 0

    # when `refunddesk worker --batch --no-startup-delay` runs
    run_worker()

    # then the receiver has the event, once
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts) == (DeliveryState.SUCCEEDED, 1)
    [request] = receiver.requests
    assert request.headers["RefundDesk-Event-Type"] == "case.submitted"
    assert case.tracking_number in request.body.decode()


def database_url_of_the_test_database() -> str:
    db = connection.settings_dict
    return (f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST'] or '127.0.0.1'}:"
            f"{db['PORT'] or 5432}/{db['NAME']}")


@pytest.mark.slow
@pytest.mark.postgres_only
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_two_worker_processes_sharing_the_queue_send_each_mail_once(mailbox, settings):
    # given a case whose two mails are queued
    case = submit_case("en")

    # when two separate worker processes drain the queue at the same time
    env = {"DATABASE_URL": database_url_of_the_test_database(),
           "EMAIL_HOST": "127.0.0.1", "EMAIL_PORT": str(settings.EMAIL_PORT),
           "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
           "REFUNDDESK_BASE_URL": BASE_URL}
    command = [sys.executable, "-m", "refunddesk.cli", "worker", "--batch",
               "--no-startup-delay", "--no-reload"]
    workers = [subprocess.Popen(command, env={**os.environ, **env}, text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
               for _ in range(2)]
    outputs = [worker.communicate(timeout=120)[0] for worker in workers]

    # then both exited, and each mail (with the "paid" mail of the payout one of them
    # made on the way) reached the server once
    assert [worker.returncode for worker in workers] == [0, 0], outputs
    assert sorted(received.subject for received in mailbox.messages) == sorted([
        f"We have received your refund request {case.tracking_number}",
        "Your refund of CN¥900.00 is approved",
        "Your refund of CN¥900.00 has been paid"])
    for delivery in EmailDelivery.objects.filter(case=case):
        assert (delivery.status, delivery.attempts) == (Status.SENT, 1)
