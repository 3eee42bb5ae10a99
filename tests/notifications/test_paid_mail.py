"""The "paid" e-mail lists each payout of the case — how much and where it went — so the
customer knows where to look for the money, in their own language; sent through a real SMTP
server by the worker once the payouts have arrived."""

from __future__ import annotations

import pytest

from refunddesk.notifications.compose import compose
from refunddesk.notifications.models import EmailDelivery
from refunddesk.payouts.actions import redirect_to_balance
from tests.notifications.conftest import run_worker
from tests.payouts.paid_cases import pay, server_case, vpn_case
from tests.staff import staff_member

# The worker closes connections between tasks, as a long-running process must: its tests
# cannot run inside a test's transaction.
pytestmark = pytest.mark.django_db(transaction=True)


def paid_mail(mailbox, case):
    """The one paid mail the worker sent about `case`."""
    run_worker()
    delivery = EmailDelivery.objects.get(case=case, kind="paid")
    subject, _text, _html = compose(delivery)
    found = [received for received in mailbox.messages if received.subject == subject]
    assert len(found) == 1, [received.subject for received in mailbox.messages]
    return found[0]


def test_the_paid_mail_lists_each_payout_with_its_amount_and_where_it_went(mailbox):
    # given a VPN refund paid 250.00 by Alipay and 50.00 by a voucher, both paid back
    case = pay(vpn_case(reference="2026030122001234", voucher="50.00"))
    assert case.state == "refunded"

    # when the worker sends the mail
    received = paid_mail(mailbox, case)

    # then both bodies list each amount and where it went, the reference only by its end
    text, page = received.body("text/plain"), received.body("text/html")
    assert "Where the money went:" in text
    assert "CN¥250.00 → Alipay ****1234" in text
    assert "CN¥50.00 → Voucher credit" in text
    assert "2026030122001234" not in text
    assert "CN¥250.00 → Alipay ****1234" in page and "CN¥50.00 → Voucher credit" in page


def test_the_paid_mail_names_the_account_balance_in_chinese(mailbox):
    # given a Chinese-speaking customer's refund, paid to the account balance
    case = pay(server_case(language="zh-hans"))
    assert case.state == "refunded"

    # when the worker sends the mail
    received = paid_mail(mailbox, case)

    # then it says, in Chinese, that the money is on the account balance
    assert "¥900.00 → 账户余额" in received.body("text/plain")
    assert "CN¥" not in received.body("text/plain")


def test_the_paid_mail_lists_the_payout_that_arrived_not_the_one_that_was_refused(mailbox):
    # given a refund the provider refused (an expired card), redirected by finance to the
    # account balance, where it arrived
    case = pay(vpn_case(reference="4000-expired_card-0001"))
    redirect_to_balance(case.payouts.get(), actor=staff_member("finance-1", "finance"))
    case = pay(case)
    assert case.state == "refunded"

    # when the worker sends the mail
    text = paid_mail(mailbox, case).body("text/plain")

    # then it lists the money on the balance, says why, and not the refused attempt
    assert "CN¥300.00 → Account balance" in text
    assert ("It does not go back to Alipay because the payment provider refused the "
            "refund.") in text
    assert "****0001" not in text
