"""The sandbox provider on its own: its books keyed by idempotency key, settling by the
clock per method, and the three ways it can be told to misbehave. No database needed."""

from datetime import UTC, datetime

import pytest

from refunddesk.payouts.gateways.base import OutcomeUnknown, RefundRequest, RetryableError
from refunddesk.payouts.gateways.sandbox import SandboxGateway, SandboxLedger


class Clock:
    def __init__(self):
        self.now = 1_800_000_000.0

    def __call__(self):
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def sandbox(tmp_path, clock):
    return SandboxGateway("sandbox", ledger=tmp_path / "ledger.sqlite3", clock=clock,
                          settle_after={"default": 120, "card": 300})


def request(payout_id=1, reference="2026030122001", method="alipay", refund_id=""):
    return RefundRequest(payout_id=payout_id, idempotency_key=f"refunddesk-payout-{payout_id}",
                         amount_minor=90000, currency="CNY", destination="original",
                         method=method, payment_reference=reference, paid_at=None,
                         account="acct-1", account_pk=1, case="R-1", refund_id=refund_id)


def test_a_refund_is_on_its_way_until_its_method_settles(sandbox, clock):
    first = sandbox.refund(request())
    assert first.state == "submitted" and first.refund_id.startswith("sbre_")

    clock.now += 119
    assert sandbox.fetch(request(refund_id=first.refund_id)).state == "submitted"
    clock.now += 1
    paid = sandbox.fetch(request(refund_id=first.refund_id))
    assert paid.state == "succeeded"
    assert paid.settled_at == datetime.fromtimestamp(clock.now, UTC)


def test_cards_take_longer_than_wallets(sandbox, clock):
    card = sandbox.refund(request(method="card"))
    clock.now += 200
    assert sandbox.fetch(request(method="card", refund_id=card.refund_id)).state == "submitted"


def test_the_same_key_twice_returns_the_first_refund_and_counts_the_request(sandbox):
    first = sandbox.refund(request())
    again = sandbox.refund(request())

    assert again.refund_id == first.refund_id
    [refund] = sandbox.ledger.refunds()
    assert refund.requests == 2


def test_an_expired_card_fails_for_good_once_due(sandbox, clock):
    sandbox.refund(request(reference="card-expired_card-1", method="card"))
    clock.now += 300
    status = sandbox.fetch(request())
    assert (status.state, status.error_code) == ("failed", "expired_card")


def test_a_merchant_balance_too_low_keeps_it_pending(sandbox, clock):
    sandbox.refund(request(reference="balance_low"))
    clock.now += 10**6
    assert sandbox.fetch(request()).state == "submitted"


def test_a_timeout_loses_the_first_answer_but_keeps_the_refund(sandbox):
    with pytest.raises(OutcomeUnknown):
        sandbox.refund(request(reference="timeout-1"))
    assert len(sandbox.ledger.refunds()) == 1
    assert sandbox.refund(request(reference="timeout-1")).state == "submitted"


def test_asking_about_a_refund_it_never_made_is_a_retryable_not_found(sandbox):
    with pytest.raises(RetryableError) as missing:
        sandbox.fetch(request(payout_id=404))
    assert missing.value.code == "resource_missing"


def test_two_gateways_on_one_file_share_the_books(tmp_path, clock):
    path = tmp_path / "shared.sqlite3"
    SandboxGateway("sandbox", ledger=path, clock=clock).refund(request())
    assert len(SandboxLedger(path).refunds()) == 1
