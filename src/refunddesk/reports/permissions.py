"""Who sees which figures: reviewers, finance and admins the whole desk's; agents their own
(the cases they decided or hold, and their own row among the staff)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from refunddesk.cases import permissions as case_permissions
from refunddesk.core.roles import holds
from refunddesk.reports.filters import ReportFilters


def sees_whole_desk(user: Any) -> bool:
    return case_permissions.is_staff_member(user) and holds(user, "reports.view_all_reports")


def can_see_reports(user: Any) -> bool:
    return sees_whole_desk(user) or case_permissions.can_work(user)


def can_export_cases(user: Any) -> bool:
    """The case list with customers' names and e-mails leaves the desk only with those who
    see the whole desk's figures, not with every agent."""
    return sees_whole_desk(user)


def narrowed(filters: ReportFilters, user: Any) -> ReportFilters:
    """The filters as this user may see them: an agent's always name the agent."""
    if sees_whole_desk(user):
        return filters
    return replace(filters, agent_id=user.pk)
