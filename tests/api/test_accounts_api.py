"""/api/v1/accounts, /api/v1/orders/{id} and /api/v1/subscriptions: reading back what
RefundDesk holds of an account, and cancelling a renewal for the customer."""

from __future__ import annotations

from django.utils import timezone

from refunddesk.billing.models import BalanceEntry, Subscription
from tests.api.conftest import (
    EXAMPLE_ACCOUNT,
    EXAMPLE_ORDER_ID,
    case_for,
    error_of,
    example_order,
    fresh_order,
    post,
)
from tests.portal.builders import subscription_for


def test_an_account_is_read_with_its_balances_by_fund_and_its_subscriptions(db, reader):
    # Given the example account with balance and voucher credit and a subscription
    order = example_order()
    account = order.account
    now = timezone.now()
    for amount, fund, reference in ((5000, "balance", "top-1"), (-1250, "balance", "pay-1"),
                                    (2000, "voucher", "v-1")):
        BalanceEntry.objects.create(account=account, currency="CNY", amount_minor=amount,
                                    kind="adjustment", fund=fund, reference=reference,
                                    created_at=now)
    subscription_for(account)

    # When the console reads the account
    response = reader.get(f"/api/v1/accounts/{EXAMPLE_ACCOUNT}")

    # Then it sees the balances summed per currency and fund, and the subscription
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["id"], body["email"], body["has_login"]) == (
        EXAMPLE_ACCOUNT, account.email, False)
    assert body["balances"] == [
        {"currency": "CNY", "fund": "balance", "amount": "37.50"},
        {"currency": "CNY", "fund": "voucher", "amount": "20.00"}]
    [subscription] = body["subscriptions"]
    assert (subscription["id"], subscription["product"], subscription["auto_renew"]) == (
        "SUB-1", "vpn", True)
    assert subscription["renews_at"] == subscription["current_period_end"]


def test_an_unknown_account_is_a_404_naming_the_account(db, reader):
    response = reader.get("/api/v1/accounts/acct-nobody")

    assert response.status_code == 404
    assert error_of(response)["field"] == "account"


def test_an_order_is_read_as_refunddesk_holds_it_with_the_case_holding_its_line(db, reader):
    # Given the example order with a case open for its line
    case = case_for(example_order())

    # When the console reads the order
    response = reader.get(f"/api/v1/orders/{EXAMPLE_ORDER_ID}")

    # Then it sees the lines, payments and the case holding the line
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["id"], body["account"], body["currency"]) == (
        EXAMPLE_ORDER_ID, EXAMPLE_ACCOUNT, "CNY")
    [line] = body["lines"]
    assert (line["id"], line["amount_paid"], line["open_case"]) == (
        "1", "960.00", case.tracking_number)
    assert [(p["method"], p["amount"]) for p in body["payments"]] == [
        ("alipay", "900.00"), ("voucher", "60.00")]
    assert body["cases"] == [case.tracking_number]


def test_an_unknown_order_is_a_404_naming_the_order(db, reader):
    response = reader.get("/api/v1/orders/NO-SUCH-ORDER")

    assert response.status_code == 404
    assert error_of(response)["field"] == "order"


def test_an_accounts_orders_are_listed_a_page_at_a_time_without_repeats(db, reader):
    # Given an account with five orders
    orders = [fresh_order("acct-pages", "pages@example.com") for _ in range(5)]

    # When the console reads them two at a time, and an order arrives meanwhile
    first = reader.get("/api/v1/accounts/acct-pages/orders?limit=2").json()
    fresh_order("acct-pages", "pages@example.com")
    second = reader.get(f"/api/v1/accounts/acct-pages/orders?limit=2"
                        f"&cursor={first['next_cursor']}").json()
    third = reader.get(f"/api/v1/accounts/acct-pages/orders?limit=2"
                       f"&cursor={second['next_cursor']}").json()

    # Then the pages give the five orders once each, newest first, and end
    seen = [item["id"] for page in (first, second, third) for item in page["items"]]
    assert seen == [order.external_id for order in reversed(orders)]
    assert third["next_cursor"] is None


def test_a_cursor_the_api_never_gave_is_refused(db, reader):
    example_order()

    response = reader.get(f"/api/v1/accounts/{EXAMPLE_ACCOUNT}/orders?cursor=%%%")

    assert response.status_code == 422
    assert error_of(response)["field"] == "cursor"


def test_auto_renewal_is_cancelled_once_and_cancelling_again_changes_nothing(db, writer):
    # Given a subscription that renews
    subscription = subscription_for(example_order().account)

    # When the console cancels its renewal, twice
    first = post(writer, "/api/v1/subscriptions/SUB-1/cancel-auto-renewal", None)
    cancelled_at = Subscription.objects.get(pk=subscription.pk).auto_renew_cancelled_at
    second = post(writer, "/api/v1/subscriptions/SUB-1/cancel-auto-renewal", None)

    # Then it no longer renews, and the second call answers the same without a change
    assert first.status_code == 200, first.content
    body = first.json()
    assert (body["auto_renew"], body["renews_at"]) == (False, None)
    assert body["auto_renew_cancelled_at"] is not None
    assert second.json() == body
    assert Subscription.objects.get(pk=subscription.pk).auto_renew_cancelled_at == cancelled_at


def test_cancelling_an_unknown_subscription_is_a_404(db, writer):
    response = post(writer, "/api/v1/subscriptions/SUB-NONE/cancel-auto-renewal", None)

    assert response.status_code == 404
    assert error_of(response)["field"] == "subscription"
