"""Who keeps the canned replies: admins by role (core/staff.py gives the admin role the
permission), never a superuser by that alone. Agents and reviewers use them: whoever works
cases (cases/permissions.py)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from refunddesk.cases.errors import NotPermitted
from refunddesk.cases.permissions import can_work, is_staff_member
from refunddesk.core.roles import holds

KEEP = "replies.change_cannedreply"


def can_keep(user: Any) -> bool:
    return is_staff_member(user) and holds(user, KEEP)


def require_keep(user: Any) -> None:
    if not can_keep(user):
        raise NotPermitted(_("Only an admin changes the canned replies."))


def can_use(user: Any) -> bool:
    return can_work(user)
