"""Who may do what with payouts: finance watches, retries, redirects, records payouts made
outside RefundDesk and reconciles; the actions check it themselves (DESIGN.md rule 6)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from refunddesk.cases.errors import NotPermitted
from refunddesk.cases.permissions import is_staff_member
from refunddesk.core.roles import holds


def has(user: Any, codename: str) -> bool:
    return is_staff_member(user) and holds(user, f"payouts.{codename}")


def can_view(user: Any) -> bool:
    return has(user, "view_payout")


def can_manage(user: Any) -> bool:
    return has(user, "manage_payouts")


def can_reconcile(user: Any) -> bool:
    return has(user, "reconcile")


def require_manage(user: Any) -> None:
    if not can_manage(user):
        raise NotPermitted(_("Only finance can retry, redirect or record payouts."))


def require_reconcile(user: Any) -> None:
    if not can_reconcile(user):
        raise NotPermitted(_("Only finance can import settlement files."))
