"""The worker's payout passes against the sandbox gateway: sent once, followed until they
end, the case moved along, and every crash or late answer handled without paying twice."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from refunddesk.cases.models import CaseEvent
from refunddesk.cases.states import State
from refunddesk.notifications.models import EmailDelivery
from refunddesk.payouts import gateways
from refunddesk.payouts.gateways.base import Gateway, RefundStatus, TerminalError
from refunddesk.payouts.models import Payout, PayoutState
from refunddesk.payouts.runner import call_gateway, claim_due, record, retry_delay, run_pass
from tests.outside_probe import held_back
from tests.payouts.builders import approved_case

pytestmark = pytest.mark.django_db


def slow_sandbox(settings, seconds):
    settings.REFUNDDESK_GATEWAYS["sandbox"]["OPTIONS"]["settle_after"] = {"default": seconds}
    gateways.reset()


def actions_of(case):
    return list(CaseEvent.objects.filter(case=case).values_list("action", flat=True))


def test_an_approved_payout_is_sent_once_and_the_case_ends_refunded(sandbox_gateway):
    # given an approved case refunding 900.00 to the customer's Alipay
    case = approved_case(reference="alipay-7781234")

    # when the worker makes a pass
    result = run_pass()

    # then the sandbox made one refund under the payout's key, the payout is paid, the
    # case went approved → paying → refunded, and the customer's "paid" mail is queued
    payout = Payout.objects.get(case=case)
    refunds = sandbox_gateway().refunds()
    assert [(r.idempotency_key, r.amount, r.requests) for r in refunds] == [
        (payout.idempotency_key, 90000, 1)]
    assert (payout.state, payout.gateway_refund_id, payout.attempts) == (
        PayoutState.SUCCEEDED, refunds[0].id, 1)
    assert payout.next_attempt_at is None and payout.settled_at is not None
    case.refresh_from_db()
    assert case.state == State.REFUNDED
    assert actions_of(case)[-2:] == ["payouts_submitted", "all_settled"]
    assert EmailDelivery.objects.filter(case=case, kind="paid").count() == 1
    assert (result.taken, result.succeeded) == (1, 1)


def test_a_refund_on_its_way_is_followed_until_it_arrives(settings, sandbox_gateway):
    # given a sandbox that takes ten minutes to settle
    slow_sandbox(settings, 600)
    case = approved_case()
    now = timezone.now()

    # when the worker sends it
    run_pass(now=now)

    # then the payout is on its way, asked about again after the first retry delay
    payout = Payout.objects.get(case=case)
    case.refresh_from_db()
    assert (payout.state, case.state) == (PayoutState.SUBMITTED, State.PAYING)
    assert payout.next_attempt_at == now + retry_delay(1)
    assert run_pass(now=now + timedelta(seconds=1)).taken == 0  # not due yet

    # when the passes come back after it settled (the sandbox's clock is real: pretend)
    sandbox = gateways.gateway("sandbox")
    sandbox.clock = lambda: now.timestamp() + 601
    run_pass(now=now + timedelta(minutes=11))

    # then it is paid and the case refunded; the sandbox still holds one refund
    payout.refresh_from_db()
    case.refresh_from_db()
    assert (payout.state, case.state) == (PayoutState.SUCCEEDED, State.REFUNDED)
    assert len(sandbox_gateway().refunds()) == 1


def test_an_expired_card_fails_the_payout_and_the_case_waits_for_finance(sandbox_gateway):
    # given a payment the sandbox cannot refund (the card expired)
    case = approved_case(reference="card-expired_card-4242", method="card")

    # when the worker sends it
    run_pass()

    # then the payout failed for good, with the provider's reason, and is not retried
    payout = Payout.objects.get(case=case)
    assert (payout.state, payout.last_error_code) == (PayoutState.FAILED, "expired_card")
    assert payout.next_attempt_at is None
    case.refresh_from_db()
    assert case.state == State.PAYOUT_FAILED
    failed = CaseEvent.objects.get(case=case, action="payout_failed")
    assert failed.data["error"] == "expired_card"
    assert not EmailDelivery.objects.filter(case=case, kind="paid").exists()


def test_a_merchant_balance_too_low_keeps_the_refund_pending(sandbox_gateway):
    # given a refund the sandbox accepts but cannot pay out yet
    case = approved_case(reference="balance_low-1")
    now = timezone.now()

    # when the worker asks again and again
    run_pass(now=now)
    run_pass(now=now + timedelta(hours=1))

    # then it stays on its way, checked with longer and longer waits, never sent twice
    payout = Payout.objects.get(case=case)
    assert payout.state == PayoutState.SUBMITTED
    assert payout.attempts == 2
    assert payout.next_attempt_at == now + timedelta(hours=1) + retry_delay(2)
    assert [r.requests for r in sandbox_gateway().refunds()] == [1]


def test_a_timeout_after_the_sandbox_accepted_is_resolved_without_a_second_refund(
        sandbox_gateway):
    # given a refund whose answer is lost (the sandbox made it, we never heard)
    case = approved_case(reference="timeout-55")
    now = timezone.now()
    run_pass(now=now)
    payout = Payout.objects.get(case=case)
    assert (payout.state, payout.gateway_refund_id) == (PayoutState.UNKNOWN, "")
    assert Payout.objects.get(case=case).last_error_code == "timeout"

    # when the worker comes back to it
    run_pass(now=now + timedelta(minutes=5))

    # then it asked first, found the refund the sandbox made, and sent nothing again
    payout.refresh_from_db()
    assert payout.state == PayoutState.SUCCEEDED
    refunds = sandbox_gateway().refunds()
    assert [(r.id, r.requests) for r in refunds] == [(payout.gateway_refund_id, 1)]


def test_a_payout_whose_worker_died_is_taken_again_after_the_lease_and_found_paid(
        settings, sandbox_gateway):
    # given a worker that took a payout and sent it, then died before recording the answer
    case = approved_case()
    now = timezone.now()
    claims = claim_due(now)
    call_gateway(claims[0])

    # when another pass runs before the lease ran out, and one after
    assert run_pass(now=now + timedelta(seconds=10)).taken == 0
    lease = timedelta(seconds=settings.REFUNDDESK_PAYOUT_LEASE_SECONDS)
    run_pass(now=now + lease + timedelta(seconds=1))

    # then the second worker asked the sandbox first, found the refund the first one made,
    # and did not send it again
    payout = Payout.objects.get(case=case)
    assert (payout.state, payout.attempts) == (PayoutState.SUCCEEDED, 2)
    assert [(r.idempotency_key, r.requests) for r in sandbox_gateway().refunds()] == [
        (payout.idempotency_key, 1)]


def test_the_late_answer_of_a_worker_whose_lease_ran_out_is_dropped(settings):
    # given a slow worker whose lease ran out, and a second worker that took the payout
    slow_sandbox(settings, 600)
    case = approved_case()
    now = timezone.now()
    slow = claim_due(now)
    lease = timedelta(seconds=settings.REFUNDDESK_PAYOUT_LEASE_SECONDS)
    run_pass(now=now + lease + timedelta(seconds=1))  # the second worker: submitted
    taken_over = Payout.objects.get(case=case)

    # when the slow worker's answer finally comes in
    from refunddesk.payouts.runner import PassResult
    result = PassResult()
    record([call_gateway(slow[0])], now + lease + timedelta(seconds=2), result)

    # then it is dropped: the payout is as the second worker left it
    payout = Payout.objects.get(case=case)
    assert result.dropped == 1
    assert (payout.state, payout.attempts, payout.next_attempt_at) == (
        taken_over.state, taken_over.attempts, taken_over.next_attempt_at)


def test_a_payout_for_a_gateway_nobody_configured_waits_with_a_clear_error(sandbox_gateway):
    # given a payment made through a gateway this installation does not know
    case = approved_case(gateway="adyen")
    now = timezone.now()

    # when the worker tries it
    run_pass(now=now)

    # then nothing is sent, the payout waits, and the error says why
    payout = Payout.objects.get(case=case)
    assert (payout.state, payout.last_error_code) == (PayoutState.PENDING,
                                                       "gateway_not_configured")
    assert payout.next_attempt_at == now + retry_delay(1)
    case.refresh_from_db()
    assert case.state == State.APPROVED
    assert sandbox_gateway().refunds() == []


def test_the_wait_between_attempts_doubles_up_to_an_hour_and_honours_the_provider():
    assert [retry_delay(n).total_seconds() for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
    assert retry_delay(30).total_seconds() == 3600
    assert retry_delay(1, at_least=90).total_seconds() == 90


def test_what_a_batch_cannot_send_within_its_lease_goes_back_to_the_queue_untouched(
        settings, sandbox_gateway):
    # given a lease so short that the batch's time is up before its first call
    case = approved_case()
    settings.REFUNDDESK_PAYOUT_LEASE_SECONDS = 0
    now = timezone.now()

    # when the worker makes a pass
    result = run_pass(now=now)

    # then nothing was sent; the payout is due again at once, as it was
    payout = Payout.objects.get(case=case)
    assert result.taken == 1 and sandbox_gateway().refunds() == []
    assert (payout.state, payout.next_attempt_at, payout.last_error_code) == (
        PayoutState.PENDING, now, "")

    # and with time enough, the next pass sends it
    settings.REFUNDDESK_PAYOUT_LEASE_SECONDS = 120
    run_pass(now=now)
    assert Payout.objects.get(case=case).state == PayoutState.SUCCEEDED


class RefusesQuestions(Gateway):
    """A provider that takes refunds but answers every later question with a refusal."""

    def refund(self, request):
        return RefundStatus("submitted", f"q-{request.payout_id}")

    def fetch(self, request):
        raise TerminalError("invalid_request", "no such thing")


class SameRefundId(Gateway):
    """A broken provider that gives every refund the same id."""

    def refund(self, request):
        return RefundStatus("succeeded", "same-id-for-all")

    def fetch(self, request):
        return RefundStatus("succeeded", "same-id-for-all")


class Probing(Gateway):
    """A provider that looks, at every call, at what the worker holds: a transaction, or
    (asked from another connection) a lock on the payout."""

    seen: list[list[str]] = []

    def _look(self, request):
        Probing.seen.append(held_back(connection, Payout.objects.filter(pk=request.payout_id)))

    def refund(self, request):
        self._look(request)
        return RefundStatus("submitted", f"probe-{request.payout_id}")

    def fetch(self, request):
        self._look(request)
        return RefundStatus("succeeded", f"probe-{request.payout_id}")


def add_gateway(settings, name, backend):
    settings.REFUNDDESK_GATEWAYS[name] = {"BACKEND": f"tests.payouts.test_runner.{backend}"}
    gateways.reset()


def test_a_refusal_to_a_question_never_fails_a_payout_whose_money_may_have_gone(settings):
    # given a payout sent to a provider that then refuses to say what became of it
    add_gateway(settings, "grumpy", "RefusesQuestions")
    case = approved_case(gateway="grumpy")
    now = timezone.now()
    run_pass(now=now)

    # when the worker asks about it
    run_pass(now=now + timedelta(hours=1))

    # then the payout is still on its way (asked again later), not failed
    payout = Payout.objects.get(case=case)
    assert (payout.state, payout.last_error_code) == (PayoutState.SUBMITTED,
                                                       "invalid_request")
    assert payout.next_attempt_at is not None


def test_one_answer_that_cannot_be_recorded_does_not_hold_back_the_batch(settings):
    # given two payouts whose provider gives both refunds the same id
    add_gateway(settings, "broken", "SameRefundId")
    first, second = approved_case(gateway="broken"), approved_case(gateway="broken")

    # when the worker records the batch
    result = run_pass()

    # then the first is recorded; the second, refused by the database, waits to be taken
    # again (and logged), instead of both being rolled back for ever
    states = {Payout.objects.get(case=case).state for case in (first, second)}
    assert states == {PayoutState.SUCCEEDED, PayoutState.PENDING}
    assert result.succeeded == 1


def test_a_payment_naming_no_gateway_goes_to_the_policys_fallback():
    # Alibaba Cloud's policy falls back to the account balance
    case = approved_case(gateway="")
    payout = Payout.objects.get(case=case)
    assert (payout.destination, payout.gateway, payout.fallback_reason) == (
        "balance", "balance", "method_unavailable")


def test_without_a_fallback_a_payment_naming_no_gateway_fails_for_finance(sandbox_gateway):
    # given a VPN refund (no fallback in its policy) of a payment naming no gateway
    case = approved_case(gateway="", policy="vpn-30-day")

    run_pass()

    # then nothing was guessed: the payout failed with the reason, the case waits for finance
    payout = Payout.objects.get(case=case)
    assert (payout.state, payout.last_error_code) == (PayoutState.FAILED, "no_gateway")
    case.refresh_from_db()
    assert case.state == State.PAYOUT_FAILED
    assert sandbox_gateway().refunds() == []


def test_a_waiting_payout_never_overflows_its_wait():
    assert retry_delay(5000).total_seconds() == 3600


@pytest.mark.django_db(transaction=True)
def test_the_gateway_is_called_with_no_transaction_open_and_no_lock_on_the_payout(settings):
    # given an approved payout to a provider that looks at the worker when called
    add_gateway(settings, "probing", "Probing")
    Probing.seen = []
    case = approved_case(gateway="probing")
    now = timezone.now()

    # when the worker sends it, then asks about it once it is due again
    run_pass(now=now)
    run_pass(now=now + timedelta(hours=1))

    # then the payout is paid, and at both calls the worker held no transaction and no
    # lock on the payout
    assert Payout.objects.get(case=case).state == PayoutState.SUCCEEDED
    assert Probing.seen == [[], []]
