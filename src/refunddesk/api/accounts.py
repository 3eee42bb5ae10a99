"""/api/v1/accounts, /api/v1/orders/{id} and /api/v1/subscriptions: what RefundDesk knows of
an account — its orders as it received them, its balances, its subscriptions — so a
merchant's console can check the mirror, and cancel a renewal the customer no longer wants.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Prefetch, Sum
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from refunddesk.api.auth import require
from refunddesk.api.errors import ERRORS, ApiError
from refunddesk.api.idempotent import IDEMPOTENT
from refunddesk.api.paging import cursor_for, cursor_id
from refunddesk.api.schemas import Text
from refunddesk.billing.actions import cancel_auto_renewal
from refunddesk.billing.models import Account, Order, Subscription
from refunddesk.cases.actors import customer_of
from refunddesk.cases.models import CaseLine
from refunddesk.policy.money import format_amount

router = Router(tags=["accounts and orders"])

MAX_PAGE = 100


class BalanceOut(Schema):
    currency: str
    fund: str = Field(description="balance (spendable) | gift | voucher: gift and voucher "
                                  "credit are never paid out as cash.")
    amount: str


class SubscriptionOut(Schema):
    id: str = Field(description="The subscription's id in your billing system.")
    sku: str
    product: str = Field(description="The product's code.")
    current_period_start: datetime
    current_period_end: datetime
    auto_renew: bool
    auto_renew_cancelled_at: datetime | None = None
    renews_at: datetime | None = Field(None, description="When the next period would be "
                                                         "charged; null when it will not.")
    ended_at: datetime | None = None


class AccountOut(Schema):
    id: str = Field(description="The account's id in your billing system.")
    name: str
    email: str
    phone: str
    created_at: datetime
    has_login: bool = Field(description="Whether the customer has signed in to the "
                                        "RefundDesk portal.")
    balances: list[BalanceOut]
    subscriptions: list[SubscriptionOut]


class OrderLineOut(Schema):
    id: str
    sku: str
    product: str = Field(description="The product's code.")
    billing: str = Field(description="prepaid | payg | one_time")
    term_unit: str = Field(description="day | month | year, or empty")
    term_count: int | None = None
    service_start: datetime | None = None
    service_end: datetime | None = None
    list_price: str
    amount_paid: str
    flags: list[str]
    subscription: str | None = Field(None, description="The subscription it renews.")
    open_case: str | None = Field(None, description="Tracking number of the case that "
                                                    "holds this line, if one does.")


class PaymentOut(Schema):
    id: str
    method: str
    funding: str = Field(description="cash | balance | gift | voucher")
    amount: str
    paid_at: datetime | None = None
    gateway: str


class OrderDetailOut(Schema):
    id: str = Field(description="The order's id in your billing system.")
    account: str
    kind: str
    channel: str
    placed_at: datetime
    currency: str
    is_invoiced: bool
    lines: list[OrderLineOut]
    payments: list[PaymentOut]
    cases: list[str] = Field(description="Tracking numbers of every case about this "
                                         "order, newest first.")


class OrderPage(Schema):
    items: list[OrderDetailOut]
    next_cursor: str | None = Field(
        None, description="Pass as `cursor` for the next page; null on the last page.")


def _account(account_id: str) -> Account:
    account = Account.objects.filter(external_id=account_id).first()
    if account is None:
        raise ApiError(404, "not_found", _("There is no account %(account)s.")
                       % {"account": account_id}, "account")
    return account


def subscription_out(subscription: Subscription) -> dict[str, Any]:
    return {
        "id": subscription.external_id, "sku": subscription.sku,
        "product": subscription.product.code,
        "current_period_start": subscription.current_period_start,
        "current_period_end": subscription.current_period_end,
        "auto_renew": subscription.is_auto_renew,
        "auto_renew_cancelled_at": subscription.auto_renew_cancelled_at,
        "renews_at": subscription.renews_at, "ended_at": subscription.ended_at}


@router.get("/accounts/{account}", response={200: AccountOut, **ERRORS},
            summary="Read an account: its balances and subscriptions")
def read_account(request: HttpRequest, account: str) -> Any:
    require(request, "cases:read")
    found = _account(account)
    sums = (found.balance_entries.values("currency", "fund")
            .annotate(total=Sum("amount_minor")).order_by("currency", "fund"))
    subscriptions = found.subscriptions.select_related("product").order_by(
        "current_period_end", "pk")
    return {
        "id": found.external_id, "name": found.name, "email": found.email,
        "phone": found.phone, "created_at": found.created_at,
        "has_login": found.user_id is not None,
        "balances": [{"currency": row["currency"], "fund": row["fund"],
                      "amount": format_amount(row["total"], row["currency"])}
                     for row in sums],
        "subscriptions": [subscription_out(s) for s in subscriptions]}


def _orders() -> Any:
    holding = CaseLine.objects.filter(holds_line=True).select_related("case")
    return (Order.objects.select_related("account")
            .prefetch_related(Prefetch("lines__case_lines", queryset=holding),
                              "lines__product", "lines__subscription", "payments",
                              "refund_cases"))


def order_out(order: Order) -> dict[str, Any]:
    currency = order.currency

    def money(minor: int) -> str:
        return format_amount(minor, currency)

    return {
        "id": order.external_id, "account": order.account.external_id, "kind": order.kind,
        "channel": order.channel, "placed_at": order.placed_at, "currency": currency,
        "is_invoiced": order.is_invoiced,
        "lines": [{
            "id": line.line_id, "sku": line.sku, "product": line.product.code,
            "billing": line.billing, "term_unit": line.term_unit,
            "term_count": line.term_count, "service_start": line.service_start,
            "service_end": line.service_end, "list_price": money(line.list_price_minor),
            "amount_paid": money(line.amount_paid_minor), "flags": list(line.flags),
            "subscription": line.subscription.external_id if line.subscription else None,
            "open_case": next((held.case.tracking_number for held in line.case_lines.all()
                               if held.holds_line), None),  # _orders reads only these
        } for line in order.lines.all()],
        "payments": [{"id": payment.payment_id, "method": payment.method,
                      "funding": payment.funding, "amount": money(payment.amount_minor),
                      "paid_at": payment.paid_at, "gateway": payment.gateway}
                     for payment in order.payments.all()],
        "cases": [case.tracking_number
                  for case in sorted(order.refund_cases.all(), key=lambda c: -c.pk)],
    }


@router.get("/orders/{order}", response={200: OrderDetailOut, **ERRORS},
            summary="Read an order as RefundDesk holds it")
def read_order(request: HttpRequest, order: str) -> Any:
    require(request, "cases:read")
    found = _orders().filter(external_id=order).first()
    if found is None:
        raise ApiError(404, "not_found", _("There is no order %(order)s.") % {"order": order},
                       "order")
    return order_out(found)


class OrderFilters(Schema):
    limit: int = Field(50, ge=1, le=MAX_PAGE, description="Orders per page.")
    cursor: Text | None = Field(None, max_length=64,
                                description="`next_cursor` of the previous page.")


@router.get("/accounts/{account}/orders", response={200: OrderPage, **ERRORS},
            summary="List an account's orders, the latest received first")
def list_orders(request: HttpRequest, account: str, filters: Query[OrderFilters]) -> Any:
    require(request, "cases:read")
    found = _orders().filter(account=_account(account)).order_by("-id")
    if filters.cursor:
        found = found.filter(id__lt=cursor_id(filters.cursor))
    page = list(found[:filters.limit + 1])
    more = len(page) > filters.limit
    page = page[:filters.limit]
    return {"items": [order_out(order) for order in page],
            "next_cursor": cursor_for(page[-1].pk) if more else None}


@router.post("/subscriptions/{subscription}/cancel-auto-renewal",
             response={200: SubscriptionOut, **ERRORS}, openapi_extra=IDEMPOTENT,
             summary="Stop a subscription from renewing at the end of its period")
def cancel_renewal(request: HttpRequest, subscription: str) -> Any:
    """Cancelling a renewal that is already off changes nothing and answers the same."""
    require(request, "cases:write")
    found = (Subscription.objects.select_related("account", "account__user", "product")
             .filter(external_id=subscription).first())
    if found is None:
        raise ApiError(404, "not_found", _("There is no subscription %(subscription)s.")
                       % {"subscription": subscription}, "subscription")
    changed = cancel_auto_renewal(found, actor=customer_of(found.account))
    changed.product = found.product
    return subscription_out(changed)
