"""Finance's three ways out of a refused payout — retry, redirect to the balance, record as
paid outside — each a new payout replacing the refused one, audited, permission-checked."""

import pytest

from refunddesk.billing.models import BalanceEntry
from refunddesk.cases.errors import NotPermitted
from refunddesk.cases.models import CaseEvent
from refunddesk.cases.states import State
from refunddesk.payouts.actions import (
    PayoutError,
    record_paid_outside,
    redirect_to_balance,
    retry_payout,
)
from refunddesk.payouts.models import Payout, PayoutState
from refunddesk.payouts.runner import run_pass
from tests.payouts.builders import approved_case
from tests.staff import staff_member

pytestmark = pytest.mark.django_db


@pytest.fixture
def finance():
    return staff_member("finance-pay", "finance")


@pytest.fixture
def refused():
    """A case whose Alipay refund the sandbox refused for good (the card behind it expired)."""
    case = approved_case(reference="expired_card-8812")
    run_pass()
    case.refresh_from_db()
    assert case.state == State.PAYOUT_FAILED
    return Payout.objects.get(case=case)


def test_a_retry_sends_the_amount_again_as_a_new_payout_and_the_case_pays_again(
        refused, finance):
    # when finance retries the refused payout
    new = retry_payout(refused, actor=finance)

    # then a new payout with its own key replaces it, due now, and the case is paying
    assert (new.replaces_id, new.amount_minor, new.gateway, new.state) == (
        refused.pk, refused.amount_minor, "sandbox", PayoutState.PENDING)
    assert new.idempotency_key != refused.idempotency_key
    case = new.case
    case.refresh_from_db()
    assert case.state == State.PAYING
    event = CaseEvent.objects.get(case=case, action="retry")
    assert (event.actor, event.from_state, event.to_state) == (finance, "payout_failed",
                                                               "paying")
    assert event.data["replaces"] == str(refused.pk)


def test_a_redirect_credits_the_balance_and_the_case_ends_refunded(refused, finance):
    new = redirect_to_balance(refused, actor=finance)
    assert (new.destination, new.gateway, new.fallback_reason) == ("balance", "balance",
                                                                   "redirected")

    # when the worker runs
    run_pass()

    # then the balance holds the credit once and the case is refunded
    new.refresh_from_db()
    assert new.state == PayoutState.SUCCEEDED
    assert BalanceEntry.objects.get(reference=new.idempotency_key).amount_minor == (
        refused.amount_minor)
    new.case.refresh_from_db()
    assert new.case.state == State.REFUNDED


def test_recording_a_payment_made_outside_ends_the_case_refunded_at_once(refused, finance):
    new = record_paid_outside(refused, actor=finance, reference="  ICBC 2026-11-22  0042 ")

    assert (new.gateway, new.state, new.gateway_refund_id) == (
        "outside", PayoutState.SUCCEEDED, "ICBC 2026-11-22 0042")
    case = new.case
    case.refresh_from_db()
    assert case.state == State.REFUNDED
    assert list(CaseEvent.objects.filter(case=case).values_list("action", flat=True))[-2:] == [
        "record_paid_outside", "all_settled"]


def test_the_same_outside_reference_cannot_be_recorded_twice(refused, finance):
    record_paid_outside(refused, actor=finance, reference="TRANSFER-1")
    other = approved_case(reference="expired_card-9")
    run_pass()
    second = Payout.objects.get(case=other)

    with pytest.raises(PayoutError, match="TRANSFER-1 is already recorded"):
        record_paid_outside(second, actor=finance, reference="TRANSFER-1")
    second.refresh_from_db()
    assert not Payout.objects.filter(replaces=second).exists()


def test_an_empty_reference_is_refused_and_changes_nothing(refused, finance):
    with pytest.raises(PayoutError, match="Enter the reference"):
        record_paid_outside(refused, actor=finance, reference="   ")
    assert not Payout.objects.filter(replaces=refused).exists()


def test_a_payout_can_be_replaced_only_once(refused, finance):
    retry_payout(refused, actor=finance)
    with pytest.raises(PayoutError, match="already replaced"):
        redirect_to_balance(refused, actor=finance)


def test_only_a_failed_payout_can_be_replaced(finance):
    case = approved_case()
    payout = Payout.objects.get(case=case)
    with pytest.raises(PayoutError, match="Only a failed payout"):
        retry_payout(payout, actor=finance)


@pytest.mark.parametrize("role", ["agent", "reviewer", "admin"])
def test_roles_other_than_finance_cannot_touch_payouts(refused, role):
    someone = staff_member(f"{role}-pay", role)
    for action in (retry_payout, redirect_to_balance):
        with pytest.raises(NotPermitted):
            action(refused, actor=someone)
    with pytest.raises(NotPermitted):
        record_paid_outside(refused, actor=someone, reference="X-1")
    assert not Payout.objects.filter(replaces=refused).exists()


def test_a_retry_that_succeeds_refunds_the_case(refused, finance, sandbox_gateway):
    # given the card problem is fixed at the provider: the retry goes to a good reference
    new = retry_payout(refused, actor=finance)
    payment = new.payment
    payment.reference = "alipay-fixed-1"
    payment.save()

    run_pass()

    new.refresh_from_db()
    new.case.refresh_from_db()
    assert (new.state, new.case.state) == (PayoutState.SUCCEEDED, State.REFUNDED)
    keys = [r.idempotency_key for r in sandbox_gateway().refunds()]
    assert keys == [refused.idempotency_key, new.idempotency_key]


def test_a_failed_payout_still_counts_against_its_payment_until_it_is_replaced(refused,
                                                                              finance):
    from refunddesk.payouts.planned import left_to_refund

    # given the refused 900.00 of a 900.00 payment: nothing is left to refund on it
    case = refused.case
    assert left_to_refund(case) == {"P1": 0}

    # when finance redirects it, the new payout counts instead of the old one
    redirect_to_balance(refused, actor=finance)
    assert left_to_refund(case) == {"P1": 0}
