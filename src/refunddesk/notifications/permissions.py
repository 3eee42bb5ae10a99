"""Who manages webhooks: admins (notifications.change_webhookendpoint, handed out by
core/staff.py). The webhook functions check it themselves, so the console is not the only
guard."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from refunddesk.cases.errors import NotPermitted
from refunddesk.cases.permissions import is_staff_member
from refunddesk.core.roles import holds


def can_manage_webhooks(user: Any) -> bool:
    return is_staff_member(user) and holds(user, "notifications.change_webhookendpoint")


def require_manage_webhooks(user: Any) -> None:
    if not can_manage_webhooks(user):
        raise NotPermitted(_("Only an admin manages webhooks."))
