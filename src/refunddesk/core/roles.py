"""What a staff member may do comes from their roles, and from nothing else.

Django's `user.has_perm` answers yes to everything for a superuser, and counts permissions
given to the user directly. RefundDesk separates duties (the admin configures, finance
pays, agents and reviewers decide), so business powers are read from the role groups
only (core/staff.py hands the permissions out): a superuser without the finance role pays
nothing, and a permission ticked on someone in /admin/ makes nobody a reviewer.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission

from refunddesk.core.staff import ROLES

_backend = ModelBackend()


def role_permissions(user: Any) -> set[str]:
    """"app_label.codename" of every permission the user's roles give."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return set()
    if user.is_superuser:
        # The backend would answer "all of them"; ask the role groups themselves.
        # Superusers are few, so this uncached query is rare.
        return {f"{app_label}.{codename}" for app_label, codename in
                Permission.objects.filter(group__user=user, group__name__in=ROLES)
                .values_list("content_type__app_label", "codename")}
    # The backend's public call, which it caches on the user for the request.
    return set(_backend.get_group_permissions(user))


def holds(user: Any, permission: str) -> bool:
    """Whether the user's roles give `permission` ("app_label.codename")."""
    return permission in role_permissions(user)


def roles_of(user: Any) -> list[str]:
    """The user's roles, in the order of ROLES."""
    names = set(user.groups.values_list("name", flat=True))
    return [role for role in ROLES if role in names]
