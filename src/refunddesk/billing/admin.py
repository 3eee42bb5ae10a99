"""The billing mirror in the administration: looked at, not edited. Orders, payments,
usage, subscriptions and the balance ledger come from the merchant's billing system
(import, API) and decide how much is refunded, so nobody — superusers included — edits
them here. Products keep their names editable; their refund policy is chosen on the
console's Policies page, which checks that a published version exists."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from refunddesk.billing.models import (
    Account,
    BalanceEntry,
    Order,
    OrderLine,
    Payment,
    Product,
    Subscription,
    Usage,
)
from refunddesk.core.read_only_admin import ReadOnlyAdmin, ReadOnlyInline


class OrderLineInline(ReadOnlyInline[OrderLine, Order]):
    model = OrderLine
    fields = ["line_id", "sku", "product", "billing", "service_start", "service_end",
              "list_price_minor", "amount_paid_minor", "flags"]
    raw_id_fields = ["product", "subscription"]
    show_change_link = True


class PaymentInline(ReadOnlyInline[Payment, Order]):
    model = Payment
    fields = ["payment_id", "method", "funding", "amount_minor", "paid_at", "gateway", "reference"]


@admin.register(Account)
class AccountAdmin(ReadOnlyAdmin[Account]):
    list_display = ["external_id", "name", "email", "created_at"]
    search_fields = ["external_id", "name", "email", "phone"]
    raw_id_fields = ["user"]
    date_hierarchy = "created_at"


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin[Product]):
    list_display = ["code", "name_zh", "name_en", "category", "policy_id"]
    list_filter = ["category", "policy_id"]
    search_fields = ["code", "name_zh", "name_en"]
    readonly_fields = ["policy_id"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # products come with the orders that name them

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Order)
class OrderAdmin(ReadOnlyAdmin[Order]):
    list_display = ["external_id", "account", "kind", "channel", "placed_at", "currency",
                    "is_invoiced"]
    list_filter = ["kind", "channel", "currency", "is_invoiced"]
    search_fields = ["external_id", "account__external_id", "account__email"]
    raw_id_fields = ["account"]
    date_hierarchy = "placed_at"
    inlines = [OrderLineInline, PaymentInline]
    list_select_related = ["account"]


@admin.register(Usage)
class UsageAdmin(ReadOnlyAdmin[Usage]):
    list_display = ["line", "metric", "quantity", "unit", "period_start", "period_end"]
    raw_id_fields = ["line"]


@admin.register(Subscription)
class SubscriptionAdmin(ReadOnlyAdmin[Subscription]):
    list_display = ["external_id", "account", "product", "current_period_end", "is_auto_renew"]
    list_filter = ["is_auto_renew", "product"]
    search_fields = ["external_id", "account__external_id", "account__email"]
    raw_id_fields = ["account"]
    list_select_related = ["account", "product"]


@admin.register(BalanceEntry)
class BalanceEntryAdmin(ReadOnlyAdmin[BalanceEntry]):
    """The ledger is append-only; its entries come from payouts, never from here."""

    list_display = ["account", "created_at", "kind", "currency", "amount_minor", "reference"]
    list_filter = ["kind", "currency"]
    search_fields = ["account__external_id", "reference"]
    list_select_related = ["account"]


admin.site.site_header = _("RefundDesk administration")
admin.site.site_title = _("RefundDesk")
