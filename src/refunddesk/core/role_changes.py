"""Changing a staff member's roles: the one way it is done, from the console, the
administration or the command line.

Separation of duties rests on roles, so a change of them is guarded and watched: only an
admin (or a superuser) changes roles, never their own; the change and its audit row are
written in one transaction, and the watchers are e-mailed in it: the admins as they were
*before* the change (an admin who loses the role is told too), the superusers, and the
member — everyone but the person who made it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TypeGuard

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, User
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from refunddesk.cases.actors import SystemActor, require_actor, require_system_may
from refunddesk.cases.errors import NotPermitted
from refunddesk.core.models import RoleChangeSource, StaffRoleChange
from refunddesk.core.roles import holds, roles_of
from refunddesk.core.staff import ROLES, ensure_role_groups


class RoleChangeError(ValueError):
    """Roles that cannot be given (a name that is no role)."""


def can_change_roles(user: object) -> TypeGuard[User]:
    """Admins by role, and superusers (who are made on the command line only)."""
    if not isinstance(user, User) or not user.is_active or not user.is_staff:
        return False
    return bool(user.is_superuser or holds(user, "auth.change_user"))


def require_change_roles(actor: object, member: User) -> None:
    actor = require_actor(actor)
    if isinstance(actor, SystemActor):
        require_system_may(actor, "staff.change_roles")
        return
    if not can_change_roles(actor):
        raise NotPermitted(_("Only an admin changes the roles of staff."))
    if actor.pk == member.pk:
        raise NotPermitted(_("Nobody changes their own roles: ask another admin."))
    if member.is_superuser and not actor.is_superuser:
        raise NotPermitted(_("Only a superuser changes the roles of a superuser."))


def watchers(member: User, actor: object) -> list[str]:
    """Who is told of a change of `member`'s roles, read before the change."""
    users = (get_user_model().objects
             .filter(Q(groups__name="admin", is_staff=True) | Q(is_superuser=True)
                     | Q(pk=member.pk), is_active=True)
             .exclude(email="").distinct().order_by("pk"))
    if isinstance(actor, User):
        users = users.exclude(pk=actor.pk)
    return list(dict.fromkeys(users.values_list("email", flat=True)))


def change_roles(member: User, roles: Iterable[str], *, actor: object, source: str,
                 now: datetime | None = None) -> StaffRoleChange | None:
    """Give `member` exactly `roles`. Returns the audit row, or None when nothing changed.
    Staff status follows: someone with a role is staff, someone without is not (superusers
    stay staff for the administration)."""
    wanted = list(dict.fromkeys(roles))
    unknown = [role for role in wanted if role not in ROLES]
    if unknown:
        raise RoleChangeError(_("Not a role: %(roles)s.") % {"roles": ", ".join(unknown)})
    wanted = [role for role in ROLES if role in wanted]
    require_change_roles(actor, member)
    from refunddesk.notifications.outbox import notify_of_role_change

    with transaction.atomic():
        # Locked, so two changes at once record what each really found before it.
        member = type(member).objects.select_for_update().get(pk=member.pk)
        before = roles_of(member)
        if before == wanted:
            return None
        told = watchers(member, actor)
        groups = {group.name: group for group in Group.objects.filter(name__in=ROLES)}
        if any(role not in groups for role in wanted):
            groups = ensure_role_groups()  # a role group deleted since the migrations
        member.groups.remove(*[groups[role] for role in before if role not in wanted])
        member.groups.add(*[groups[role] for role in wanted if role not in before])
        is_staff = bool(wanted) or member.is_superuser
        if member.is_staff != is_staff:
            member.is_staff = is_staff
            member.save(update_fields=["is_staff"])
        change = StaffRoleChange.objects.create(
            at=now or timezone.now(), member=member,
            changed_by=actor if isinstance(actor, User) else None,
            source=RoleChangeSource(source), roles_before=before, roles_after=wanted)
        notify_of_role_change(change, told)
    return change
