"""Policy versions in the administration: looked at only. They are written and published in
the console (policies/actions.py), which checks the text and hands out version numbers."""

from django.contrib import admin

from refunddesk.core.read_only_admin import ReadOnlyAdmin
from refunddesk.policies.models import PolicyVersion


@admin.register(PolicyVersion)
class PolicyVersionAdmin(ReadOnlyAdmin):
    list_display = ["policy_id", "version", "state", "created_by", "created_at",
                    "published_by", "published_at"]
    list_filter = ["state", "policy_id"]
    search_fields = ["policy_id", "note"]
