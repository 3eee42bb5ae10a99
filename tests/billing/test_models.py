"""The database itself refuses billing rows that would misstate money."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import translation

from refunddesk.billing.models import (
    Account,
    BalanceEntry,
    Order,
    OrderLine,
    Payment,
    Product,
    Subscription,
)
from refunddesk.policy.money import Money

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)


@pytest.fixture
def account():
    return Account.objects.create(external_id="acct-1", email="a@example.com", name="王芳",
                                  created_at=T0)


@pytest.fixture
def product():
    return Product.objects.create(code="cvm", category="cloud_server", name_zh="云服务器",
                                  name_en="Cloud server", policy_id="tencent-cloud")


@pytest.fixture
def order(account):
    return Order.objects.create(external_id="O-1", account=account, kind="new",
                                channel="direct", placed_at=T0, currency="CNY")


def refused(create):
    with pytest.raises(IntegrityError), transaction.atomic():
        create()


def line(order, product, **changes):
    fields = dict(order=order, line_id="1", sku="cvm.s5", product=product, billing="prepaid",
                  term_unit="month", term_count=1, service_start=T0,
                  service_end=T0 + timedelta(days=31), list_price_minor=10000,
                  amount_paid_minor=9000)
    return OrderLine.objects.create(**(fields | changes))


def test_a_negative_amount_paid_is_refused(order, product):
    refused(lambda: line(order, product, amount_paid_minor=-1))


def test_a_negative_list_price_is_refused(order, product):
    refused(lambda: line(order, product, list_price_minor=-100))


def test_a_service_that_ends_before_it_starts_is_refused(order, product):
    refused(lambda: line(order, product, service_end=T0 - timedelta(hours=1)))


def test_a_term_needs_both_unit_and_count(order, product):
    refused(lambda: line(order, product, term_count=None))


def test_a_line_id_is_unique_within_its_order(order, product):
    line(order, product)

    refused(lambda: line(order, product))


def test_a_zero_payment_is_refused(order):
    refused(lambda: Payment.objects.create(order=order, payment_id="P1", method="alipay",
                                           funding="cash", amount_minor=0))


def test_a_payment_id_is_unique_within_its_order(order):
    Payment.objects.create(order=order, payment_id="P1", method="alipay", funding="cash",
                           amount_minor=100)

    refused(lambda: Payment.objects.create(order=order, payment_id="P1", method="card",
                                           funding="cash", amount_minor=100))


def test_a_payment_is_in_its_orders_currency_by_construction(order):
    payment = Payment.objects.create(order=order, payment_id="P1", method="alipay",
                                     funding="cash", amount_minor=12345)

    assert payment.amount == Money(12345, "CNY")
    assert not hasattr(payment, "currency")


def test_order_ids_are_unique(order, account):
    refused(lambda: Order.objects.create(external_id="O-1", account=account, kind="new",
                                         channel="direct", placed_at=T0, currency="CNY"))


def test_a_lower_case_currency_is_refused_by_the_database(account):
    refused(lambda: Order.objects.create(external_id="O-2", account=account, kind="new",
                                         channel="direct", placed_at=T0, currency="cny"))


def test_an_unknown_currency_fails_validation(account):
    order = Order(external_id="O-3", account=account, kind="new", channel="direct",
                  placed_at=T0, currency="XXY")

    with translation.override("en"), pytest.raises(
            ValidationError, match="XXY is not an ISO 4217 currency code"):
        order.full_clean()


def test_the_balance_is_the_sum_of_the_ledger_per_currency(account):
    for amount, currency, reference in [(10000, "CNY", "topup:1"), (-2500, "CNY", "pay:1"),
                                        (700, "USD", "topup:2")]:
        BalanceEntry.objects.create(account=account, currency=currency, amount_minor=amount,
                                    kind="adjustment", reference=reference, created_at=T0)

    assert account.balance("CNY") == Money(7500, "CNY")
    assert account.balance("USD") == Money(700, "USD")
    assert account.balance("EUR") == Money(0, "EUR")


def test_the_same_reference_cannot_credit_an_account_twice(account):
    def credit():
        BalanceEntry.objects.create(account=account, currency="CNY", amount_minor=500,
                                    kind="refund", reference="payout:42", created_at=T0)

    credit()

    refused(credit)
    assert account.balance("CNY") == Money(500, "CNY")


def test_a_zero_balance_entry_is_refused(account):
    refused(lambda: BalanceEntry.objects.create(account=account, currency="CNY", amount_minor=0,
                                                kind="adjustment", created_at=T0))


def test_a_cancelled_auto_renewal_cannot_still_be_on(account, product):
    refused(lambda: Subscription.objects.create(
        external_id="S-1", account=account, product=product, sku="cvm.s5", term_unit="month",
        term_count=1, current_period_start=T0, current_period_end=T0 + timedelta(days=31),
        is_auto_renew=True, auto_renew_cancelled_at=T0))


def test_a_subscription_renews_at_the_end_of_its_period_unless_renewal_is_off(account, product):
    subscription = Subscription.objects.create(
        external_id="S-2", account=account, product=product, sku="cvm.s5", term_unit="month",
        term_count=1, current_period_start=T0, current_period_end=T0 + timedelta(days=31))

    assert subscription.renews_at == T0 + timedelta(days=31)
    subscription.is_auto_renew = False
    assert subscription.renews_at is None
