"""Who manages API keys: admins (api.add_apikey), checked by keys.py itself."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from refunddesk.cases.actors import SystemActor, require_system_may
from refunddesk.cases.errors import NotPermitted
from refunddesk.cases.permissions import is_staff_member
from refunddesk.core.roles import holds


def can_manage_keys(user: Any) -> bool:
    return is_staff_member(user) and holds(user, "api.add_apikey")


def require_manage_keys(user: Any, power: str) -> None:
    """An admin; or a system actor (the command line) allowed `power`."""
    if isinstance(user, SystemActor):
        require_system_may(user, power)
        return
    if not can_manage_keys(user):
        raise NotPermitted(_("Only an admin makes and revokes API keys."))
