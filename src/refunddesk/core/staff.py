"""Staff roles. Each role is a Django group; what each may do is decided in later apps'
permissions, never in templates. The demo's users (one per role, and a portal login for
each demo customer) are made in demo_staff.py."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group
from django_stubs_ext import StrOrPromise

ROLES = ("agent", "reviewer", "finance", "admin")


def role_label(role: str) -> StrOrPromise:
    from django.utils.translation import gettext_lazy as _

    return {"agent": _("agent"), "reviewer": _("reviewer"), "finance": _("finance"),
            "admin": _("admin")}.get(role, role)

# What each role may do, as Django permissions ("app_label.codename"). The checks live in
# each app's permissions (cases/permissions.py, …); this table only hands them out.
# A permission of an app that is not installed yet is skipped, so the table can name what
# later apps add.
ROLE_PERMISSIONS: dict[str, tuple[str, ...]] = {
    "agent": (
        "cases.view_refundcase", "cases.work_case", "cases.decide_case",
        "cases.open_case_for_customer",
    ),
    "reviewer": (
        "cases.view_refundcase", "cases.work_case", "cases.decide_case",
        "cases.approve_any_amount", "cases.override_assessment", "cases.confirm_approval",
        "cases.hear_appeal", "cases.open_case_for_customer", "reports.view_all_reports",
    ),
    "finance": (
        "cases.view_refundcase",
        "payouts.view_payout", "payouts.manage_payouts", "payouts.reconcile",
        "reports.view_all_reports",
    ),
    "admin": (
        "cases.view_refundcase", "cases.work_case",
        "cases.view_reasoncategory", "cases.add_reasoncategory",
        "cases.change_reasoncategory",
        "cases.view_rejectionreason", "cases.add_rejectionreason",
        "cases.change_rejectionreason",
        "cases.view_approvallimit", "cases.add_approvallimit", "cases.change_approvallimit",
        "cases.delete_approvallimit", "notifications.view_emaildelivery",
        "policies.view_policyversion", "policies.add_policyversion",
        "policies.publish_policyversion", "policies.view_policychange",
        "billing.view_product", "billing.change_product",
        "auth.view_user", "auth.add_user", "auth.change_user", "auth.view_group",
        "api.view_apikey", "api.add_apikey", "api.change_apikey",
        "notifications.view_webhookendpoint", "notifications.add_webhookendpoint",
        "notifications.change_webhookendpoint", "notifications.view_webhookdelivery",
        "notifications.change_webhookdelivery",
        "calendars.view_calendarday", "calendars.add_calendarday",
        "calendars.change_calendarday", "calendars.delete_calendarday",
        "recourse.view_recoursetext", "recourse.change_recoursetext",
        "replies.view_cannedreply", "replies.add_cannedreply", "replies.change_cannedreply",
        "reports.view_all_reports", "reports.view_export",
        "compensation.view_compensationrun", "compensation.run_compensation",
    ),
}

def sync_role_permissions(apps: Any = None) -> None:
    """Create the role groups and give each its permissions. Idempotent; migrations call it
    with their historical `apps`, the demo with the real ones."""
    from django.apps import apps as global_apps
    from django.contrib.auth.management import create_permissions

    apps = apps or global_apps
    for app_config in apps.get_app_configs():
        # Permissions are normally created after `migrate`; create them now so the grant
        # below finds them in the same run.
        # Migration state's app stubs have no models module, which create_permissions takes
        # for "no models"; pretend for the call.
        saved = getattr(app_config, "models_module", None)
        app_config.models_module = saved or True
        try:
            create_permissions(app_config, apps=apps, verbosity=0)
        finally:
            app_config.models_module = saved
    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    for role, names in ROLE_PERMISSIONS.items():
        group, _ = group_model.objects.get_or_create(name=role)
        wanted = [name.split(".", 1) for name in names]
        found = permission_model.objects.none()
        for app_label, codename in wanted:
            found = found | permission_model.objects.filter(
                content_type__app_label=app_label, codename=codename)
        group.permissions.add(*found)


def ensure_role_groups() -> dict[str, Group]:
    sync_role_permissions()
    return {role: Group.objects.get_or_create(name=role)[0] for role in ROLES}
