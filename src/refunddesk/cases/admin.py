"""Administration of cases: reason categories are edited here; cases, their events,
documents and messages are only looked at (every change goes through cases/actions.py)."""


from django.contrib import admin

from refunddesk.cases.models import (
    ApprovalLimit,
    CaseEvent,
    CaseLine,
    Document,
    Message,
    ReasonCategory,
    RefundCase,
    RejectionReason,
)
from refunddesk.core.read_only_admin import ReadOnlyAdmin, ReadOnlyInline


@admin.register(ReasonCategory, RejectionReason)
class ManagedReasonAdmin(admin.ModelAdmin[ReasonCategory | RejectionReason]):
    list_display = ["code", "name_zh", "name_en", "position", "is_active"]
    list_editable = ["position", "is_active"]


@admin.register(ApprovalLimit)
class ApprovalLimitAdmin(admin.ModelAdmin[ApprovalLimit]):
    list_display = ["group", "currency", "limit_minor"]
    list_filter = ["group", "currency"]


class CaseLineInline(ReadOnlyInline[CaseLine, RefundCase]):
    model = CaseLine
    fields = ["order_line", "rule", "excluded_reason", "assessed_minor", "approved_minor",
              "holds_line"]


class CaseEventInline(ReadOnlyInline[CaseEvent, RefundCase]):
    model = CaseEvent
    fields = ["at", "actor", "actor_kind", "action", "from_state", "to_state", "data",
              "is_customer_visible"]


class DocumentInline(ReadOnlyInline[Document, RefundCase]):
    model = Document
    fields = ["name", "content_type", "size", "uploaded_by_kind", "uploaded_at"]


class MessageInline(ReadOnlyInline[Message, RefundCase]):
    model = Message
    fields = ["created_at", "author_kind", "is_internal", "body"]


@admin.register(RefundCase)
class RefundCaseAdmin(ReadOnlyAdmin[RefundCase]):
    list_display = ["tracking_number", "account", "order", "state", "channel",
                    "assessed_total_minor", "currency", "submitted_at"]
    list_filter = ["state", "channel", "policy_ref"]
    search_fields = ["tracking_number", "account__email", "account__external_id",
                     "order__external_id"]
    date_hierarchy = "submitted_at"
    list_select_related = ["account", "order"]
    inlines = [CaseLineInline, DocumentInline, MessageInline, CaseEventInline]
