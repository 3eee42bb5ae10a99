"""Who hears of what: read from the staff roles and the case's own rules, never from a
list kept here. The permission checks themselves stay in cases/permissions.py; this asks
them, so a notice goes exactly to those the action would let act."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db.models import Q, QuerySet

from refunddesk.cases import permissions
from refunddesk.cases.errors import NotPermitted
from refunddesk.cases.events import CaseEventType

if TYPE_CHECKING:
    from refunddesk.cases.models import RefundCase


def holding(app_label: str, codename: str) -> QuerySet[User]:
    """Active staff whose roles give `app_label.codename` (superuser status alone gives
    nothing, as everywhere)."""
    condition = Q(groups__permissions__codename=codename,
                  groups__permissions__content_type__app_label=app_label)
    return (get_user_model().objects.filter(condition, is_active=True, is_staff=True)
            .distinct().order_by("username"))


def may_confirm(case: RefundCase) -> list[User]:
    """Who may confirm the approval waiting on `case`: not its proposer, not the maker of
    an appealed decision, and only within their approval limit."""
    if case.proposal is None:
        raise ValueError(f"case {case.tracking_number} has no approval waiting")
    total = case.proposal["total"]
    found: list[User] = []
    for user in holding("cases", "confirm_approval"):
        try:
            permissions.require_confirm(user, case)
            permissions.require_within_limit(user, case, total)
        except NotPermitted:
            continue
        found.append(user)
    return found


def appeal_reviewers(case: RefundCase) -> list[User]:
    """The reviewer assigned to an appeal, else every reviewer who may decide it (not the
    one whose decision is appealed)."""
    if case.assignee is not None:
        return [case.assignee]
    return [user for user in permissions.reviewers()
            if user.pk != case.appeal_of_decision_by_id]


def working_on(case: RefundCase) -> list[User]:
    """Who works the case: its assignee, else the staff member who last asked the customer
    for information (an answer goes back to whoever asked)."""
    if case.assignee is not None:
        return [case.assignee]
    asked = (case.events.filter(action=CaseEventType.INFORMATION_REQUESTED,
                                actor__isnull=False)
             .select_related("actor").order_by("-at", "-id").first())
    return [asked.actor] if asked is not None and asked.actor is not None else []


def finance() -> QuerySet[User]:
    return holding("payouts", "manage_payouts")


def policy_publishers() -> QuerySet[User]:
    """Admins who may approve a policy version's publication (the proposer is left out by
    tell(), which never tells the actor)."""
    return holding("policies", "publish_policyversion")
