"""Who keeps the texts shown after a final decision: admins by role (core/staff.py gives the
admin role the permission), never a superuser by that alone, never the system."""

from __future__ import annotations

from typing import TypeGuard

from django.contrib.auth.models import User
from django.utils.translation import gettext_lazy as _

from refunddesk.cases.errors import NotPermitted
from refunddesk.cases.permissions import is_staff_member
from refunddesk.core.roles import holds

EDIT = "recourse.change_recoursetext"


def can_edit(user: object) -> TypeGuard[User]:
    return isinstance(user, User) and is_staff_member(user) and holds(user, EDIT)


def require_edit(user: object) -> User:
    """`user`, who may edit the texts; NotPermitted for anyone (or anything) else."""
    if not can_edit(user):
        raise NotPermitted(_("Only an admin changes the texts shown after a final decision."))
    return user
