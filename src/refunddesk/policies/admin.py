"""Policy versions in the administration: looked at only. They are written and published in
the console (policies/actions.py), which checks the text and hands out version numbers."""

from django.contrib import admin

from refunddesk.core.read_only_admin import ReadOnlyAdmin
from refunddesk.policies.models import PolicyChange, PolicyVersion


@admin.register(PolicyVersion)
class PolicyVersionAdmin(ReadOnlyAdmin[PolicyVersion]):
    list_display = ["policy_id", "version", "state", "created_by", "created_at",
                    "proposed_by", "published_by", "published_at", "effective_at"]
    list_filter = ["state", "policy_id"]
    search_fields = ["policy_id", "note"]


@admin.register(PolicyChange)
class PolicyChangeAdmin(ReadOnlyAdmin[PolicyChange]):
    """The audit of policy versions: who wrote, proposed, approved, declined or withdrew
    what, and when scheduled versions took effect."""

    list_display = ["at", "policy_id", "version_number", "kind", "changed_by", "actor_name"]
    list_filter = ["kind", "policy_id"]
    search_fields = ["policy_id"]
