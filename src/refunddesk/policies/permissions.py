"""Who may look at, write, publish and assign refund policies: the one place that decides.

The admin role holds these permissions (core/staff.py hands them out). The actions call
`require_*` before they change anything; the console uses the `can_*` checks to decide
which pages and buttons a staff member sees. A missing actor, or the system, is no admin
and is refused, as in cases/permissions.py.

Publishing takes two admins (four eyes): one proposes, another approves. Nobody approves
their own proposal, whatever path the approval takes (`require_approve`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeGuard

from django.contrib.auth.models import User
from django.utils.translation import gettext_lazy as _

from refunddesk.cases.errors import NotPermitted
from refunddesk.cases.permissions import is_staff_member
from refunddesk.core.roles import holds

if TYPE_CHECKING:
    from refunddesk.policies.models import PolicyVersion


def _has(user: object, permission: str) -> TypeGuard[User]:
    return isinstance(user, User) and is_staff_member(user) and holds(user, permission)


def can_view(user: object) -> TypeGuard[User]:
    return _has(user, "policies.view_policyversion")


def can_write(user: object) -> TypeGuard[User]:
    return _has(user, "policies.add_policyversion")


def can_publish(user: object) -> TypeGuard[User]:
    return _has(user, "policies.publish_policyversion")


def can_assign(user: object) -> TypeGuard[User]:
    return _has(user, "billing.change_product")


def require_write(actor: object) -> User:
    if not can_write(actor):
        raise NotPermitted(_("Only an admin writes refund policy versions."))
    return actor


def require_publish(actor: object) -> User:
    if not can_publish(actor):
        raise NotPermitted(_("Only an admin publishes refund policy versions."))
    return actor


def may_approve(user: object, version: PolicyVersion) -> bool:
    """Whether `user` may approve (or decline) the publication proposed for `version`."""
    return can_publish(user) and version.proposed_by_id != user.pk


def require_approve(actor: object, version: PolicyVersion) -> User:
    person = require_publish(actor)
    if version.proposed_by_id == person.pk:
        raise NotPermitted(_("You proposed %(ref)s yourself: another admin must approve it.")
                           % {"ref": version.ref})
    return person


def require_assign(actor: object) -> User:
    if not can_assign(actor):
        raise NotPermitted(_("Only an admin chooses the refund policy of a product."))
    return actor
