"""Compensation runs in the administration: only looked at, with their audit. Every change
goes through compensation/actions.py (four eyes, audited); shown to the admin role."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from refunddesk.compensation.models import CompensationRun, RunEvent
from refunddesk.core.read_only_admin import ReadOnlyAdmin, ReadOnlyInline
from refunddesk.core.roles import holds

VIEW = "compensation.view_compensationrun"


class RunEventInline(ReadOnlyInline[RunEvent, CompensationRun]):
    model = RunEvent
    fields = ["at", "kind", "actor", "actor_name", "from_state", "to_state", "details"]


@admin.register(CompensationRun)
class CompensationRunAdmin(ReadOnlyAdmin[CompensationRun]):
    list_display = ("pk", "created_at", "created_by", "approved_by", "remedy", "state",
                    "customers_total", "customers_done", "cases_opened")
    list_filter = ("state", "remedy", "source")
    list_select_related = ("created_by", "approved_by")
    exclude = ("next_attempt_at", "attempts")
    inlines = [RunEventInline]
    date_hierarchy = "created_at"

    def has_module_permission(self, request: HttpRequest) -> bool:
        return holds(request.user, VIEW)

    def has_view_permission(self, request: HttpRequest, obj: CompensationRun | None = None
                            ) -> bool:
        return holds(request.user, VIEW)
