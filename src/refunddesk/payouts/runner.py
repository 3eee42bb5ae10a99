"""The worker's side of payouts: send pending payouts to their gateway and follow the ones
on their way until they end.

The Payout rows are the queue, taken by the claim-and-lease protocol every outbox shares
(core/leasing.py). An approval writes them in its own transaction (the outbox);
`next_attempt_at` says when each is due. A pass claims a batch of due payouts in one short
transaction (their lease keeps every other worker off them), talks to the gateways with no
transaction open, so no lock is held while a provider answers, and records what the
gateways said in one transaction, which also settles the cases
(cases/actions/settlement.py).

A worker killed at any moment leaves each payout either untouched (taken again when its
lease runs out) or recorded. Taken again, a payout is sent again with the same idempotency
key, and the provider answers with the refund it already made: paid once, whatever
happens. A lease that ran out while its worker was only slow is noticed by the attempt
count: the slow worker's answer is dropped and the newer one counts.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from refunddesk.cases.actions.settlement import settle_cases
from refunddesk.cases.actors import PAYOUT_RUNNER
from refunddesk.core import leasing
from refunddesk.core.bulk import update_from_values
from refunddesk.payouts.actions import fall_back
from refunddesk.payouts.gateways import gateway
from refunddesk.payouts.gateways.base import (
    GatewayError,
    NeedsFinance,
    OutcomeUnknown,
    RefundRequest,
    RefundStatus,
    RetryableError,
    RouteClosed,
    TerminalError,
)
from refunddesk.payouts.models import FINAL_STATES, Payout, PayoutState

log = logging.getLogger(__name__)

BATCH = settings.REFUNDDESK_PAYOUT_BATCH


def request_for(payout: Payout) -> RefundRequest:
    payment, case = payout.payment, payout.case
    return RefundRequest(
        payout_id=payout.pk, idempotency_key=payout.idempotency_key,
        amount_minor=payout.amount_minor, currency=payout.currency,
        destination=payout.destination, method=payment.method,
        payment_reference=payment.reference, paid_at=payment.paid_at,
        account=case.account.external_id, account_pk=case.account_id,
        case=case.tracking_number, refund_id=payout.gateway_refund_id,
        payment_amount_minor=payment.amount_minor)


@dataclass
class Claim:
    """A claimed payout and what to ask its gateway."""

    payout_id: int
    gateway: str
    state: str
    attempts: int  # after this claim: the answer counts only if nobody claimed it since
    request: RefundRequest

    @property
    def token(self) -> leasing.Claim:
        return leasing.Claim(self.payout_id, self.attempts)


@dataclass
class Outcome:
    claim: Claim
    status: RefundStatus | None = None
    error: GatewayError | None = None
    is_released: bool = False  # not asked at all: due again at once, nothing else changes


@dataclass
class PassResult:
    taken: int = 0
    succeeded: int = 0
    failed: int = 0
    waiting: int = 0
    dropped: int = 0
    cases: set[int] = field(default_factory=set)


def retry_policy() -> leasing.RetryPolicy:
    """Doubling from REFUNDDESK_PAYOUT_RETRY_SECONDS, at most
    REFUNDDESK_PAYOUT_RETRY_MAX_SECONDS (an hour): read when used, as tests and operators
    set them."""
    return leasing.RetryPolicy(
        first=timedelta(seconds=settings.REFUNDDESK_PAYOUT_RETRY_SECONDS),
        longest=timedelta(seconds=settings.REFUNDDESK_PAYOUT_RETRY_MAX_SECONDS))


def retry_delay(attempts: int, at_least: float | None = None) -> timedelta:
    """Wait before the next call about a payout after `attempts` calls, never less than the
    provider asked (its Retry-After, honoured up to our own longest wait)."""
    return retry_policy().delay(attempts, at_least)


def lease() -> timedelta:
    return timedelta(seconds=settings.REFUNDDESK_PAYOUT_LEASE_SECONDS)


def waiting() -> QuerySet[Payout]:
    """The payouts with something left to ask a gateway (their `next_attempt_at` is set),
    with what a request needs (not the case's assessment: a request never reads it)."""
    return Payout.objects.select_related("payment", "case__account").defer("case__assessment")


def claim_due(now: datetime, *, limit: int = BATCH, case_ids: list[int] | None = None
              ) -> list[Claim]:
    due = waiting() if case_ids is None else waiting().filter(case_id__in=case_ids)
    payouts = leasing.claim_due(due, now=now, lease=lease(), limit=limit)
    return [Claim(payout.pk, payout.gateway, payout.state, payout.attempts,
                  request_for(payout)) for payout in payouts]


def call_gateway(claim: Claim) -> Outcome:
    """Ask the gateway; every failure becomes an Outcome, never an exception."""
    request = claim.request
    # A payout waiting for finance without a refund id was never taken by the provider
    # (NeedsFinance): it is sent again, as it was.
    is_send = claim.state == PayoutState.PENDING or (
        claim.state == PayoutState.REQUIRES_ACTION and not request.refund_id)
    # Sent before without an answer recorded: the outcome was lost (unknown), or a worker
    # took it earlier and died before recording (pending, taken more than once).
    may_have_been_sent = not request.refund_id and (
        claim.state == PayoutState.UNKNOWN
        or (claim.state == PayoutState.PENDING and claim.attempts > 1))
    try:
        if not claim.gateway:
            raise TerminalError("no_gateway", "the payment names no gateway that could "
                                "refund it")
        adapter = gateway(claim.gateway)
        if may_have_been_sent:
            # Ask first: the provider may have made the refund, and may no longer remember
            # the idempotency key (Stripe forgets after a day) or may replay its own error
            # for it. Only a provider that has no such refund gets it sent again.
            try:
                return Outcome(claim, status=adapter.fetch(request))
            except GatewayError as error:
                if error.code != "resource_missing":
                    raise _as_retryable(error) from error
            is_send = True
        if is_send:
            # The payout's idempotency key makes a repeated send return the first refund.
            adapter.throttle()
            return Outcome(claim, status=adapter.refund(request))
        try:
            return Outcome(claim, status=adapter.fetch(request))
        except GatewayError as error:
            raise _as_retryable(error) from error
    except GatewayError as error:
        return Outcome(claim, error=error)
    except Exception as error:
        log.exception("payout %s: the %s gateway failed unexpectedly", claim.payout_id,
                      claim.gateway)
        text = f"{type(error).__name__}: {error}"[:500]
        # After a send, we cannot tell whether the provider acted: ask again, same key.
        return Outcome(claim, error=(OutcomeUnknown if is_send else RetryableError)(
            "unexpected_error", text))


def _as_retryable(error: GatewayError) -> GatewayError:
    """A failed question about a refund says nothing about the refund itself: never let it
    fail the payout (finance could then pay again what was paid)."""
    if error.retryable:
        return error
    return RetryableError(error.code, error.message, retry_after=error.retry_after)


def apply(payout: Payout, outcome: Outcome, now: datetime) -> None:
    """Write what the gateway said onto the (locked) payout row."""
    status, error = outcome.status, outcome.error
    if status is not None:
        if status.refund_id:
            payout.gateway_refund_id = status.refund_id[:128]
        if payout.submitted_at is None:
            payout.submitted_at = now
        payout.state = status.state
        payout.last_error_code = status.error_code[:64]
        payout.last_error_message = status.error_message
        if status.state in (PayoutState.SUCCEEDED, PayoutState.FAILED):
            payout.next_attempt_at = None
            if status.state == PayoutState.SUCCEEDED:
                payout.settled_at = status.settled_at or now
        else:
            payout.next_attempt_at = now + retry_delay(payout.attempts)
        return
    assert error is not None
    payout.last_error_code, payout.last_error_message = error.code[:64], error.message
    if not error.retryable:
        payout.state, payout.next_attempt_at = PayoutState.FAILED, None
        return
    if isinstance(error, OutcomeUnknown) and (
            payout.state == PayoutState.PENDING
            or (payout.state == PayoutState.REQUIRES_ACTION and not payout.gateway_refund_id)):
        # Sent without an answer: asked about before it is ever sent again.
        payout.state = PayoutState.UNKNOWN
    elif isinstance(error, NeedsFinance):
        payout.state = PayoutState.REQUIRES_ACTION
    payout.next_attempt_at = now + retry_delay(payout.attempts, error.retry_after)


UPDATED_FIELDS = ["state", "gateway_refund_id", "submitted_at", "settled_at", "next_attempt_at",
                  "last_error_code", "last_error_message", "updated_at"]


def record(outcomes: list[Outcome], now: datetime, result: PassResult) -> None:
    """Write the answers of a batch and settle their cases, in one transaction. Should that
    fail (one bad answer, say a refund id another payout already has), each payout is
    recorded on its own, so one poisoned row cannot hold back the batch for ever."""
    if not outcomes:
        return
    try:
        with transaction.atomic():
            counts = _record(outcomes, now)
        _add(result, counts)
        return
    except Exception:
        log.exception("recording a batch of %s payouts failed; recording one by one",
                      len(outcomes))
    for outcome in outcomes:
        try:
            with transaction.atomic():
                counts = _record([outcome], now)
            _add(result, counts)
        except Exception:
            # Left as taken: it is asked again when its lease runs out, and logged each time.
            log.exception("payout %s: its answer could not be recorded",
                          outcome.claim.payout_id)


def _record(outcomes: list[Outcome], now: datetime) -> PassResult:
    payouts = leasing.still_claimed(Payout, [outcome.claim.token for outcome in outcomes])
    changed, ended = [], []
    counts = PassResult()
    for outcome in outcomes:
        payout = payouts.get(outcome.claim.payout_id)
        if payout is None:
            counts.dropped += 1  # another worker took it since; its answer counts
            continue
        if payout.state in FINAL_STATES:
            # The provider's notification ended it while we were asking: what it said
            # stands, an older answer never takes it back (notices.py).
            counts.dropped += 1
            continue
        if outcome.is_released:
            payout.next_attempt_at = now
            changed.append(payout)
            continue
        before = payout.state
        apply(payout, outcome, now)
        payout.updated_at = now
        if payout.state != before and payout.state in FINAL_STATES:
            ended.append(payout)
        changed.append(payout)
        counts.cases.add(payout.case_id)
        if payout.state == PayoutState.SUCCEEDED:
            counts.succeeded += 1
        elif payout.state == PayoutState.FAILED:
            counts.failed += 1
            log.warning("payout %s failed: %s %s", payout.pk, payout.last_error_code,
                        payout.last_error_message)
        else:
            counts.waiting += 1
    _write(changed)
    closed = {outcome.claim.payout_id for outcome in outcomes
              if isinstance(outcome.error, RouteClosed)}
    for payout in [payout for payout in ended if payout.pk in closed]:
        if fall_back(payout, actor=PAYOUT_RUNNER, now=now) is not None:
            ended.remove(payout)  # replaced: finance has nothing to do about it
    settle_cases({payout.case_id for payout in changed}, actor=PAYOUT_RUNNER, now=now,
                 ended=ended)
    return counts


def _write(changed: list[Payout]) -> None:
    """The batch's new payout values: on PostgreSQL in one statement (each statement is a
    round trip there, and bulk_update's CASE expressions cost more than the trips they
    save), elsewhere one UPDATE per row (SQLite answers in process)."""
    if connection.vendor == "postgresql" and len(changed) > 1:
        update_from_values(Payout, changed, UPDATED_FIELDS)
        return
    for payout in changed:
        Payout.objects.filter(pk=payout.pk).update(
            **{name: getattr(payout, name) for name in UPDATED_FIELDS})


def _add(result: PassResult, counts: PassResult) -> None:
    result.succeeded += counts.succeeded
    result.failed += counts.failed
    result.waiting += counts.waiting
    result.dropped += counts.dropped
    result.cases |= counts.cases


def run_pass(now: datetime | None = None, *, limit: int = BATCH,
             case_ids: list[int] | None = None) -> PassResult:
    """One batch: take what is due, ask the gateways, record the answers."""
    result = PassResult()
    claims = claim_due(now or timezone.now(), limit=limit, case_ids=case_ids)
    result.taken = len(claims)
    # What slow gateways leave no time for goes back to the queue untouched.
    in_time = leasing.time_left(timedelta(seconds=settings.REFUNDDESK_PAYOUT_LEASE_SECONDS))
    outcomes = [call_gateway(claim) if in_time() else Outcome(claim, is_released=True)
                for claim in claims]
    record(outcomes, now or timezone.now(), result)
    return result


def run_until_idle(*, limit: int = BATCH, max_passes: int = 1000) -> int:
    """Passes until nothing is due now; the number of payouts taken."""
    taken = 0
    for _ in range(max_passes):
        result = run_pass(limit=limit)
        taken += result.taken
        if result.taken < limit:
            break
    return taken
