"""Policy versions in the administration: looked at only. They are written and published in
the console (policies/actions.py), which checks the text and hands out version numbers."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from refunddesk.policies.models import PolicyVersion


@admin.register(PolicyVersion)
class PolicyVersionAdmin(admin.ModelAdmin):
    list_display = ["policy_id", "version", "state", "created_by", "created_at",
                    "published_by", "published_at"]
    list_filter = ["state", "policy_id"]
    search_fields = ["policy_id", "note"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
