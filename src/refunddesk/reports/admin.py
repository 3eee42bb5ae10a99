"""The audit of exports in the administration: who took which figures out, when, with
which filters. Read-only, like every audit; shown to the admin role (core/staff.py)."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from refunddesk.core.read_only_admin import ReadOnlyAdmin
from refunddesk.core.roles import holds
from refunddesk.reports.models import Export


@admin.register(Export)
class ExportAdmin(ReadOnlyAdmin[Export]):
    list_display = ("requested_at", "requested_by", "source", "subject", "format", "state",
                    "rows_total")
    list_filter = ("source", "format", "state", "subject")
    list_select_related = ("requested_by",)
    readonly_fields = ("subject", "params", "format", "requested_by", "source", "state",
                       "rows_total", "rows_done", "error", "requested_at", "finished_at")
    exclude = ("file",)  # the figures themselves stay with the person who asked for them
    date_hierarchy = "requested_at"

    def has_module_permission(self, request: HttpRequest) -> bool:
        return holds(request.user, "reports.view_export")

    def has_view_permission(self, request: HttpRequest, obj: Export | None = None) -> bool:
        return holds(request.user, "reports.view_export")
