"""The customer's case page and the tracking page show each payout that counts: where the
money goes, how much, what became of it, when it should arrive or when it did, and why it
does not go back the way it was paid — to the case's own customer only."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from refunddesk.cases import actions
from refunddesk.payouts.actions import redirect_to_balance
from tests.payouts.paid_cases import pay, server_case, switch_off_alipay, vpn_case
from tests.portal.builders import customer_for, vpn_order
from tests.staff import staff_member

pytestmark = pytest.mark.django_db
EN = {"Accept-Language": "en"}
ZH = {"Accept-Language": "zh-hans"}


@pytest.fixture(autouse=True)
def fresh_limits():
    cache.clear()
    yield
    cache.clear()


def page(client, case, headers=EN):
    client.force_login(case.account.user)
    response = client.get(reverse("portal:case", args=[case.tracking_number]),
                          headers=headers)
    assert response.status_code == 200
    return response.content.decode()


def day(moment):
    return timezone.localtime(moment).strftime("%Y-%m-%d")


def test_a_case_not_yet_decided_shows_no_payouts(client):
    # given a VPN order bought 45 days ago: past the guarantee, so its case is reviewed
    order = vpn_order("VPN-LATE-9", "acct-late-9", "late9@example.com", placed_days_ago=45)
    customer = customer_for(order.account)
    case = actions.submit(account=order.account, order=order, line_ids=["1"],
                          actor=customer, channel="portal")

    # when its customer opens it
    shown = page(client, case)

    # then nothing is said about where money goes: nothing is decided
    assert case.state == "in_review" and not case.payouts.exists()
    assert "Where the money goes" not in shown
    assert "On its way" not in shown


def test_an_approved_case_shows_its_payout_on_its_way_with_the_expected_date(client):
    # given a case approved back to Alipay, not yet sent
    case = vpn_case(with_login=True)
    payout = case.payouts.get()

    # when its customer opens it
    shown = page(client, case)

    # then the page says where, how much, that it is on its way and by when
    assert "Where the money goes" in shown
    assert "300.00 CNY" in shown
    assert "Alipay ****1234" in shown
    assert "2026030122001234" not in shown
    assert "On its way" in shown
    assert f"expected to arrive by {day(payout.expected_at)}" in shown


def test_a_paid_case_shows_the_day_each_payout_arrived(client):
    # given a case whose payout the worker sent and the provider settled
    case = pay(vpn_case(with_login=True))
    payout = case.payouts.get()

    # when its customer opens it
    shown = page(client, case)

    # then it says paid, on which day, and the timeline says so in the customer's words
    assert case.state == "refunded"
    assert f"Paid on {day(payout.settled_at)}" in shown
    assert "expected to arrive by" not in shown
    assert "Refund on its way" in shown and "Refund paid" in shown


@pytest.mark.parametrize(("headers", "expected"), [(EN, "Alipay ****1234"),
                                                   (ZH, "支付宝 ****1234")])
def test_the_destination_is_shown_in_the_viewers_language(client, headers, expected):
    # given a case approved back to Alipay
    case = vpn_case(with_login=True)

    # when its customer opens it in their language
    shown = page(client, case, headers)

    # then the method is named in that language
    assert expected in shown


def test_a_balance_refund_says_the_account_balance_in_both_languages(client):
    # given a Tencent Cloud case, whose cash goes to the account balance
    case = server_case(with_login=True)

    # when its customer opens it in English and in Chinese
    english, chinese = page(client, case, EN), page(client, case, ZH)

    # then the destination is the account balance, in each language
    assert "900.00 CNY" in english and "Account balance" in english
    assert "账户余额" in chinese


def test_a_refused_payout_replaced_by_finance_shows_only_the_replacement_and_why(client):
    # given a payout the provider refused (an expired card), redirected by finance to the
    # account balance
    case = pay(vpn_case(reference="4000-expired_card-0001", with_login=True))
    failed = case.payouts.get()
    redirect_to_balance(failed, actor=staff_member("finance-1", "finance"))
    case = pay(case)

    # when its customer opens the case
    shown = page(client, case)

    # then they see the money on the balance and why, not the refused attempt
    section = shown.split('id="payout-heading"')[1].split("</section>")[0]
    assert "Account balance" in section
    assert "It does not go back to Alipay because the payment provider refused the refund." \
        in section
    assert "Alipay ****0001" not in section
    assert "Could not be paid" not in section
    # and the timeline tells the story in the customer's words
    assert "A payment could not be made — we are handling it" in shown
    assert "Refund sent to your account balance instead" in shown


def test_a_refused_payout_not_yet_handled_says_we_are_handling_it(client):
    # given a payout the provider refused, not yet handled by finance
    case = pay(vpn_case(reference="4000-expired_card-0002", with_login=True))

    # when its customer opens the case
    shown = page(client, case)

    # then they read that we are on it
    assert case.state == "payout_failed"
    assert "Could not be paid — we are handling it" in shown


def test_a_refund_the_provider_cannot_take_back_says_why_on_the_case_page(client, settings):
    # given Alipay cannot take refunds now, under a policy that falls back to the balance
    switch_off_alipay(settings)
    case = server_case("ALI-PAY-2", policy="alibaba-cloud", with_login=True)

    # when its customer opens the case
    shown = page(client, case)

    # then the money goes to the balance, and the page says why
    assert "Account balance" in shown
    assert ("It does not go back to Alipay because the original payment method cannot take "
            "refunds at the moment.") in shown


def test_another_customer_cannot_see_the_payouts_of_a_case(client):
    # given Alice's paid case, and Bob, another customer
    case = pay(vpn_case("VPN-ALICE-9", with_login=True))
    bob = customer_for(vpn_order("VPN-BOB-9", "acct-bob-9", "bob9@example.com").account)

    # when Bob asks for Alice's case page
    client.force_login(bob)
    response = client.get(reverse("portal:case", args=[case.tracking_number]), headers=EN)

    # then it does not exist for him, and nothing of the payout is in the answer
    assert response.status_code == 404
    body = response.content.decode()
    assert "****1234" not in body and "300.00" not in body


# -- the tracking page, without logging in ---------------------------------------------------

def look_up(client, case, email):
    return client.post(reverse("portal:track"), {"number": case.tracking_number,
                                                 "email": email},
                       headers=EN, REMOTE_ADDR="10.0.0.9").content.decode()


def test_the_tracking_page_shows_each_payout_masked_with_its_state_and_date(client):
    # given a case on its way back to Alipay (the provider holds it back)
    case = pay(vpn_case(reference="2026-balance_low-4321"))
    payout = case.payouts.get()

    # when someone looks it up with the number and the e-mail address, not logged in
    shown = look_up(client, case, case.account.email)

    # then they see the masked destination, the amount, the state and the expected date
    assert "Alipay ****4321" in shown
    assert "2026-balance_low-4321" not in shown
    assert "CN¥300.00" in shown
    assert "On its way" in shown
    assert f"expected to arrive by {day(payout.expected_at)}" in shown


def test_the_tracking_page_keeps_the_reasons_to_the_logged_in_customer(client, settings):
    # given a case whose money goes to the balance because Alipay cannot take it
    switch_off_alipay(settings)
    case = server_case("ALI-PAY-3", policy="alibaba-cloud")

    # when it is looked up without logging in
    shown = look_up(client, case, case.account.email)

    # then the destination shows, the reason does not
    assert "Account balance" in shown
    assert "It does not go back" not in shown


def test_the_tracking_page_shows_no_payout_to_a_wrong_email_address(client):
    # given a case with a payout
    case = vpn_case()

    # when it is looked up with another e-mail address
    shown = look_up(client, case, "someone@example.com")

    # then nothing of the payout is shown
    assert "No refund request matches" in shown
    assert "****1234" not in shown and "On its way" not in shown
