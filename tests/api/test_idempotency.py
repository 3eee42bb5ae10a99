"""Idempotency-Key on the API's POSTs, as Stripe has it: a retry gets the first answer, a
reused key with another request is refused, a key still running is refused, keys are
kept a day."""

import json
import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from refunddesk.api.idempotency import CLAIM_TIMEOUT, purge
from refunddesk.api.keys import digest
from refunddesk.api.models import IdempotencyRecord
from refunddesk.cases.models import RefundCase
from tests.api.conftest import error_of, fresh_order

pytestmark = pytest.mark.django_db


def open_case(client, order, key, lines=("1",)):
    return client.post("/api/v1/cases", json.dumps({
        "account": order.account.external_id, "order": order.external_id,
        "lines": list(lines)}), content_type="application/json", HTTP_IDEMPOTENCY_KEY=key)


def test_a_retry_with_the_same_key_gets_the_first_answer_and_opens_one_case(writer):
    # given a case opened with an idempotency key
    order = fresh_order()
    first = open_case(writer, order, "retry-1")
    assert first.status_code == 201

    # when the same request is sent again with the same key
    again = open_case(writer, order, "retry-1")

    # then the first answer comes back, marked as a replay, and there is still one case
    assert (again.status_code, again.json()) == (201, first.json())
    assert again["Idempotent-Replayed"] == "true"
    assert RefundCase.objects.count() == 1


def test_the_same_json_in_another_order_or_spacing_is_the_same_request(writer):
    order = fresh_order()
    body = {"account": order.account.external_id, "order": order.external_id,
            "lines": ["1"]}
    first = writer.post("/api/v1/cases", json.dumps(body), content_type="application/json",
                        HTTP_IDEMPOTENCY_KEY="same")
    reordered = json.dumps(dict(reversed(list(body.items()))), indent=2)
    again = writer.post("/api/v1/cases", reordered, content_type="application/json",
                        HTTP_IDEMPOTENCY_KEY="same")
    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"


def test_the_same_key_with_another_request_is_refused_and_changes_nothing(writer):
    # given a key used to open a case for one order
    open_case(writer, fresh_order(), "reused")

    # when it is sent with a request for another order
    other = fresh_order()
    response = open_case(writer, other, "reused")

    # then it is refused, and the other order has no case
    assert response.status_code == 422
    assert error_of(response)["code"] == "idempotency_key_reused"
    assert not RefundCase.objects.filter(order=other).exists()


def test_a_refusal_is_kept_too_so_a_retry_gets_the_same_refusal(writer):
    order = fresh_order()
    first = open_case(writer, order, "refused", lines=("9",))
    again = open_case(writer, order, "refused", lines=("9",))
    assert first.status_code == again.status_code == 422
    assert again["Idempotent-Replayed"] == "true"


def test_a_key_whose_first_request_still_runs_is_refused_with_409(writer):
    # given a key claimed a moment ago by a request that has not answered yet
    order = fresh_order()
    IdempotencyRecord.objects.create(owner=digest(f"Bearer {writer.secret}"), key="busy",
                                     fingerprint="x" * 64, created_at=timezone.now())

    response = open_case(writer, order, "busy")

    assert response.status_code in (409, 422)
    assert not RefundCase.objects.exists()


def test_a_key_still_running_with_the_same_request_is_refused_with_409(writer):
    order = fresh_order()
    first = open_case(writer, order, "running")
    record = IdempotencyRecord.objects.get(key="running")
    # the first request is made to look unanswered, as while it runs
    IdempotencyRecord.objects.filter(pk=record.pk).update(is_done=False)

    response = open_case(writer, order, "running")

    assert first.status_code == 201
    assert response.status_code == 409
    assert error_of(response)["code"] == "idempotency_key_in_use"


def test_a_claim_whose_request_died_is_taken_over_after_the_timeout(writer):
    # given a key whose request died without an answer long ago (nothing of it committed)
    order = fresh_order()
    long_ago = timezone.now() - CLAIM_TIMEOUT - timedelta(seconds=1)
    IdempotencyRecord.objects.create(owner=digest(f"Bearer {writer.secret}"), key="dead",
                                     fingerprint="y" * 64, created_at=long_ago)

    response = open_case(writer, order, "dead")

    assert response.status_code == 201
    assert RefundCase.objects.count() == 1


def test_keys_belong_to_the_api_key_that_sent_them(writer, api_client):
    other = api_client(["cases:read", "cases:write"], name="another system")
    open_case(writer, fresh_order(), "shared-name")
    response = open_case(other, fresh_order(), "shared-name")
    assert response.status_code == 201
    assert not response.has_header("Idempotent-Replayed")


def test_an_unauthenticated_request_keeps_nothing(stranger, writer):
    order = fresh_order()
    assert open_case(stranger, order, "anon").status_code == 401
    assert not IdempotencyRecord.objects.exists()


@pytest.mark.parametrize("key", ["", "x" * 256])
def test_an_empty_or_overlong_key_is_refused(writer, key):
    response = open_case(writer, fresh_order(), key)
    assert response.status_code == 422
    assert error_of(response)["field"] == "Idempotency-Key"
    assert not RefundCase.objects.exists()


def test_requests_without_a_key_are_not_remembered(writer):
    order = fresh_order()
    writer.post("/api/v1/quotes", json.dumps({"order": order.external_id, "lines": ["1"]}),
                content_type="application/json")
    assert not IdempotencyRecord.objects.exists()


def test_keys_are_kept_a_day_and_then_forgotten(writer):
    open_case(writer, fresh_order(), "old")
    record = IdempotencyRecord.objects.get()

    assert purge(record.created_at + timedelta(hours=23)) == 0
    assert purge(record.created_at + timedelta(hours=24, seconds=1)) == 1


@pytest.mark.postgres_only
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_two_retries_at_the_same_moment_open_one_case(api_client):
    # given a request sent twice at once with the same key
    writer = api_client(["cases:read", "cases:write"])
    order = fresh_order()
    start, answers = threading.Barrier(2), []

    def send():
        from django.db import connection as thread_connection
        from django.test import Client

        client = Client(HTTP_ACCEPT_LANGUAGE="en", HTTP_AUTHORIZATION=f"Bearer {writer.secret}")
        try:
            start.wait()
            answers.append(open_case(client, order, "at-once").status_code)
        finally:
            thread_connection.close()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    # then one opened the case; the other was told it runs, or got its answer replayed
    assert sorted(answers) in ([201, 201], [201, 409])
    assert RefundCase.objects.count() == 1
