"""Payouts are looked at in the administration, never edited: every change goes through
payouts' actions (coming with the gateways)."""

from django.contrib import admin

from refunddesk.core.read_only_admin import ReadOnlyAdmin
from refunddesk.payouts.models import Payout


@admin.register(Payout)
class PayoutAdmin(ReadOnlyAdmin[Payout]):
    list_display = ["id", "case", "destination", "gateway", "amount_minor", "currency",
                    "state", "attempts", "updated_at"]
    list_filter = ["state", "gateway", "destination"]
    search_fields = ["case__tracking_number", "gateway_refund_id"]
