"""Who manages API keys: admins (api.add_apikey), checked by keys.py itself."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from refunddesk.cases.errors import NotPermitted
from refunddesk.cases.permissions import is_staff_member


def can_manage_keys(user: Any) -> bool:
    return is_staff_member(user) and user.has_perm("api.add_apikey")


def require_manage_keys(user: Any) -> None:
    if not can_manage_keys(user):
        raise NotPermitted(_("Only an admin makes and revokes API keys."))
