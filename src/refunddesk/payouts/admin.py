"""Payouts are looked at in the administration, never edited: every change goes through
payouts' actions (coming with the gateways)."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from refunddesk.payouts.models import Payout


@admin.register(Payout)
class PayoutAdmin(admin.ModelAdmin):
    list_display = ["id", "case", "destination", "gateway", "amount_minor", "currency",
                    "state", "attempts", "updated_at"]
    list_filter = ["state", "gateway", "destination"]
    search_fields = ["case__tracking_number", "gateway_refund_id"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
