"""How a demo order is paid: cash by the customer's usual method, plus vouchers, gift credit
and stored balance, always adding up exactly to the order's amount.
"""

from __future__ import annotations

import random
import string
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from refunddesk.billing.demo.drafts import OrderDraft, PaymentDraft
from refunddesk.billing.demo.periods import seconds, zone_for
from refunddesk.billing.models import Funding, PaymentMethod, SalesChannel

CASH_METHODS = {
    "CNY": ((PaymentMethod.ALIPAY.value, 45), (PaymentMethod.WECHAT_PAY.value, 35),
            (PaymentMethod.CARD.value, 20)),
    "USD": ((PaymentMethod.CARD.value, 60), (PaymentMethod.PAYPAL.value, 40)),
}
# Stores collect the money themselves and are the only ones who can give it back.
STORE_CHANNELS = (SalesChannel.APP_STORE.value, SalesChannel.GOOGLE_PLAY.value)
SANDBOX = "sandbox"
# In whole yuan or dollars.
VOUCHER_FACE_VALUES = {"CNY": (10, 20, 50, 100), "USD": (2, 5, 10)}
# Some cards have expired since they paid: their references carry the sandbox gateway's
# test word for it (payouts/gateways/sandbox.py), so a refund to one fails for good, as at a
# real provider, and finance has a failed payout to redirect (the demo's history shows some).
EXPIRED_CARD = "expired_card"
# Which: every third first purchase of a VPN plan or a certificate paid by card (refunds of
# those go back to the card; the other products' to the balance) in the months before the
# money-back windows, so the orders the demo offers to try a refund on pay back normally.
EXPIRED_CARD_PRODUCTS = ("vpn", "ssl")
EXPIRED_CARDS_SINCE, EXPIRED_CARDS_UNTIL, EXPIRED_CARD_EVERY = 150, 31, 3


@dataclass(frozen=True)
class PayingHabits:
    cash_method: dict[str, str]
    uses_balance: bool


def usual_cash_methods(rng: random.Random) -> dict[str, str]:
    return {currency: rng.choices([m for m, _ in pairs], weights=[w for _, w in pairs])[0]
            for currency, pairs in CASH_METHODS.items()}


def settle(rng: random.Random, habits: PayingHabits, order: OrderDraft) -> None:
    """Give `order` its payments."""
    total = order.total_minor
    paid_at = order.placed_at + seconds(rng.randint(2, 90))
    if order.channel in STORE_CHANNELS:
        order.payments = [PaymentDraft(order.channel, Funding.CASH.value, total, paid_at,
                                       order.channel, _store_reference(rng, order.channel))]
    else:
        order.payments = _split(rng, habits, order, total, paid_at)
    for number, payment in enumerate(order.payments, start=1):
        payment.payment_id = f"P{number}"
    if sum(p.amount_minor for p in order.payments) != total:
        raise AssertionError(f"demo payments do not add up for a {order.kind} order")


def _split(rng: random.Random, habits: PayingHabits, order: OrderDraft, total: int,
           paid_at: datetime) -> list[PaymentDraft]:
    unit = 100  # one yuan, one dollar: vouchers and gifts come in whole units
    is_payg = any(line.plan.billing == "payg" for line in order.lines)
    voucher = gift = balance = 0
    # A voucher or gift credit covers a modest part of an order, never most of it.
    if not is_payg and rng.random() < (0.12 if order.kind == "new" else 0.04):
        voucher = rng.choice(VOUCHER_FACE_VALUES[order.currency]) * unit
        voucher = voucher if voucher <= total // 2 else 0
    if rng.random() < 0.06:
        gift = rng.randint(1, 10) * 5 * unit
        gift = gift if gift <= (total - voucher) // 3 else 0
    rest = total - voucher - gift
    if habits.uses_balance and order.currency == "CNY" and rng.random() < (0.9 if is_payg
                                                                            else 0.5):
        balance = rest if rng.random() < 0.7 else rest * rng.randint(30, 90) // 100
    cash = rest - balance
    method = habits.cash_method[order.currency]
    if rng.random() < 0.15:
        method = rng.choice([m for m, _ in CASH_METHODS[order.currency]])
    payments = []
    if cash > 0:
        payments.append(PaymentDraft(method, Funding.CASH.value, cash, paid_at, SANDBOX,
                                     _cash_reference(rng, method, order)))
    if balance > 0:
        payments.append(PaymentDraft(PaymentMethod.BALANCE.value, Funding.BALANCE.value,
                                     balance, paid_at))
    if gift > 0:
        payments.append(PaymentDraft(PaymentMethod.GIFT.value, Funding.GIFT.value, gift))
    if voucher > 0:
        payments.append(PaymentDraft(PaymentMethod.VOUCHER.value, Funding.VOUCHER.value,
                                     voucher))
    return payments


def _digits(rng: random.Random, count: int) -> str:
    return "".join(rng.choice(string.digits) for _ in range(count))


def _cash_reference(rng: random.Random, method: str, order: OrderDraft) -> str:
    day = order.placed_at.astimezone(zone_for(order.currency)).strftime("%Y%m%d")
    if method == PaymentMethod.ALIPAY:
        return f"{day}2200{_digits(rng, 16)}"
    if method == PaymentMethod.WECHAT_PAY:
        return f"42000{_digits(rng, 5)}{day}{_digits(rng, 10)}"
    if method == PaymentMethod.PAYPAL:
        return "".join(rng.choice(string.ascii_uppercase + string.digits) for _ in range(17))
    return "ch_sbx_" + "".join(rng.choice(string.ascii_letters + string.digits)
                               for _ in range(24))


def _store_reference(rng: random.Random, channel: str) -> str:
    if channel == SalesChannel.APP_STORE:
        return f"2000000{_digits(rng, 9)}"
    return f"GPA.33{_digits(rng, 2)}-{_digits(rng, 4)}-{_digits(rng, 4)}-{_digits(rng, 5)}"


def expire_some_cards(orders: Iterable[OrderDraft], now: datetime) -> None:
    """Mark the cards that have expired since (see EXPIRED_CARD), among `orders` in the order
    they were placed. Draws nothing from the random stream: the rest of the data stays as
    it was."""
    since = now - timedelta(days=EXPIRED_CARDS_SINCE)
    until = now - timedelta(days=EXPIRED_CARDS_UNTIL)
    paid_by_card = [payment for order in orders if order.kind == "new"
                    and since < order.placed_at < until and not order.is_invoiced
                    and any(line.plan.product.code in EXPIRED_CARD_PRODUCTS
                            for line in order.lines)
                    for payment in order.payments
                    if payment.method == PaymentMethod.CARD and payment.gateway == SANDBOX]
    for payment in paid_by_card[::EXPIRED_CARD_EVERY]:
        payment.reference = payment.reference.replace("ch_sbx_", f"ch_sbx_{EXPIRED_CARD}_", 1)
