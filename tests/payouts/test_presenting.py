"""A payout as its customer reads it: where the money goes (the payment method and the end of
its reference, or the kind of credit), what became of it, when it should arrive, and why it
does not go back the way it was paid."""

from __future__ import annotations

import pytest
from django.utils import timezone, translation

from refunddesk.billing.models import Payment
from refunddesk.payouts.actions import redirect_to_balance
from refunddesk.payouts.models import Payout
from refunddesk.payouts.presenting import (
    customer_payouts,
    destination_label,
    expected_arrival,
    fallback_sentence,
    for_customer,
    masked_reference,
    status_text,
)
from tests.payouts.paid_cases import pay, server_case, switch_off_alipay, vpn_case
from tests.staff import staff_member

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def in_english():
    with translation.override("en"):
        yield


def only_payout(case) -> Payout:
    payouts = list(case.payouts.select_related("payment"))
    assert len(payouts) == 1
    return payouts[0]


# -- where the money goes -------------------------------------------------------------------

@pytest.mark.parametrize(("language", "expected"), [("en", "Alipay ****1234"),
                                                    ("zh-hans", "支付宝 ****1234")])
def test_money_going_back_to_alipay_reads_as_the_method_and_the_references_last_four(
        language, expected):
    # given a case approved back to Alipay, paid with reference …1234
    payout = only_payout(vpn_case(reference="2026030122001234"))

    # when its destination is read in the viewer's language
    with translation.override(language):
        label = destination_label(payout)

    # then it names the method and only the end of the reference
    assert label == expected
    assert "20260301" not in label


@pytest.mark.parametrize(("language", "expected"), [("en", "Account balance"),
                                                    ("zh-hans", "账户余额")])
def test_money_going_to_the_balance_reads_as_the_account_balance(language, expected):
    # given a Tencent Cloud case, whose cash refunds go to the account balance
    payout = only_payout(server_case())

    # when its destination is read
    with translation.override(language):
        label = destination_label(payout)

    # then it says the account balance
    assert payout.destination == "balance"
    assert label == expected


@pytest.mark.parametrize(("destination", "expected"), [("voucher", "Voucher credit"),
                                                       ("gift", "Gift credit")])
def test_credits_in_kind_read_as_their_kind(destination, expected):
    # given a payout of the case, as it would be to a credit in kind
    payout = only_payout(server_case())
    payout.destination = destination

    # when its destination is read, then it names the credit
    assert destination_label(payout) == expected


def test_a_payment_without_a_reference_reads_as_the_method_alone():
    # given a case back to Alipay whose payment has no reference (or one too short to cut)
    payout = only_payout(vpn_case())
    for reference in ("", "1234"):
        Payment.objects.filter(pk=payout.payment_id).update(reference=reference)
        payout.refresh_from_db()

        # when its destination is read, then it is the method's name alone
        assert destination_label(payout) == "Alipay"


def test_only_the_last_four_characters_of_a_reference_are_shown():
    # given references as the billing system sends them, when masked, then only the last
    # four characters are left, and none of a reference that has only four
    assert masked_reference("2026030122001234") == "****1234"
    assert masked_reference("  ABCDE  ") == "****BCDE"
    assert masked_reference("1234") == ""


# -- what became of it ----------------------------------------------------------------------

def test_a_payout_not_yet_sent_is_on_its_way_with_its_expected_arrival():
    # given a case just approved: its payout planned, not yet sent
    payout = only_payout(vpn_case())

    # when it is read
    shown = for_customer(payout)

    # then it is on its way, expected by the policy's date
    assert payout.state == "pending"
    assert shown.status == "on_its_way"
    assert shown.status_text == "On its way"
    assert shown.expected_at == payout.expected_at is not None
    assert shown.settled_at is None


def test_a_payout_the_provider_is_still_working_on_is_on_its_way():
    # given a payout the provider holds back (the merchant's balance there is low)
    case = pay(vpn_case(reference="2026-balance_low-0001"))
    payout = only_payout(case)

    # when it is read, then it is still on its way, with its expected date
    assert payout.state == "submitted"
    assert status_text(payout) == "On its way"
    assert expected_arrival(payout) == payout.expected_at


def test_a_paid_payout_says_paid_with_the_day_it_arrived_and_no_longer_an_expected_date():
    # given a case whose payout the worker sent and the provider settled
    case = pay(vpn_case())
    payout = only_payout(case)

    # when it is read
    shown = for_customer(payout)

    # then it says when it was paid, in the viewer's time zone
    assert case.state == "refunded"
    day = timezone.localtime(payout.settled_at).strftime("%Y-%m-%d")
    assert shown.status_text == f"Paid on {day}"
    assert shown.is_paid and shown.settled_at == payout.settled_at
    assert shown.expected_at is None


def test_a_refused_payout_says_it_could_not_be_paid_and_that_we_handle_it():
    # given a payout the provider refused for good (the card expired)
    case = pay(vpn_case(reference="4000-expired_card-0001"))
    payout = only_payout(case)

    # when it is read
    shown = for_customer(payout)

    # then the customer reads that we are on it, with no date that no longer holds
    assert case.state == "payout_failed"
    assert shown.status == "failed"
    assert shown.status_text == "Could not be paid — we are handling it"
    assert shown.expected_at is None


def test_a_payout_waiting_for_us_says_it_needs_action_from_us():
    # given a payout the provider holds until the merchant acts (the sandbox never asks,
    # so the state is set on the row as a gateway would report it)
    payout = only_payout(vpn_case())
    payout.state = "requires_action"

    # when it is read, then the customer reads that it is up to us
    assert status_text(payout) == "Needs action from us"
    assert expected_arrival(payout) == payout.expected_at


# -- why not the original route -------------------------------------------------------------

def test_money_the_provider_cannot_take_back_says_why_it_goes_to_the_balance(settings):
    # given Alipay cannot take refunds at the moment, and a policy with the balance as
    # its fallback
    switch_off_alipay(settings)

    # when a case is approved and read
    payout = only_payout(server_case("ALI-PAY-1", policy="alibaba-cloud"))

    # then it goes to the balance, and one sentence says why
    assert (payout.destination, payout.fallback_reason) == ("balance", "method_unavailable")
    assert destination_label(payout) == "Account balance"
    assert fallback_sentence(payout) == (
        "It does not go back to Alipay because the original payment method cannot take "
        "refunds at the moment.")


def test_money_finance_redirected_says_the_provider_refused_it_and_replaces_the_failure():
    # given a refused payout that finance redirected to the account balance
    case = pay(vpn_case(reference="4000-expired_card-0002"))
    failed = only_payout(case)
    redirect_to_balance(failed, actor=staff_member("finance-1", "finance"))

    # when the case's payouts are read
    shown = customer_payouts(case)

    # then only the replacement shows, with why it went to the balance
    assert len(shown) == 1
    assert shown[0].destination == "Account balance"
    assert shown[0].fallback == ("It does not go back to Alipay because the payment provider "
                                 "refused the refund.")


def test_money_going_back_the_way_it_was_paid_needs_no_explanation():
    # given a case back to Alipay
    payout = only_payout(vpn_case())

    # when it is read, then there is nothing to explain
    assert payout.destination == "original"
    assert fallback_sentence(payout) == ""
