"""Who runs mass compensations: the admin role (core/staff.py gives it the permission), and
never alone — the admin who created a run cannot approve it. The actions call `require_*`
before they change anything; the console and the API use `can_compensate` to decide who
sees the pages. A missing actor is refused; the system (the run's worker) only with its
named powers."""

from __future__ import annotations

from typing import TypeGuard

from django.contrib.auth.models import User
from django.utils.translation import gettext_lazy as _

from refunddesk.cases.actors import SystemActor, require_actor, require_system_may
from refunddesk.cases.errors import NotPermitted
from refunddesk.cases.permissions import is_staff_member
from refunddesk.core.roles import holds

RUN = "compensation.run_compensation"


def can_compensate(user: object) -> TypeGuard[User]:
    return isinstance(user, User) and is_staff_member(user) and holds(user, RUN)


def require_compensate(actor: object) -> User:
    actor = require_actor(actor)
    if isinstance(actor, SystemActor):
        raise NotPermitted(_("Only an admin plans, approves and steers a mass compensation."))
    if not can_compensate(actor):
        raise NotPermitted(_("Only an admin plans, approves and steers a mass compensation."))
    return actor


def require_system(actor: object, power: str) -> SystemActor:
    """What only the run's worker does (finish, fail): a system actor allowed `power`."""
    actor = require_actor(actor)
    if not isinstance(actor, SystemActor):
        raise NotPermitted(_("Only the run itself records that it finished or failed."))
    require_system_may(actor, power)
    return actor


def require_second_admin(actor: User, created_by_id: int) -> None:
    """Four eyes: the approver is an admin other than the run's creator."""
    if actor.pk == created_by_id:
        raise NotPermitted(_("You created this compensation run, so another admin must "
                             "approve it (four eyes)."))
