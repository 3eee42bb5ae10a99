"""What a staff member may do to a case: the one place that decides it.

Roles are Django groups holding the permissions of RefundCase.Meta (core/staff.py hands
them out). The actions call `require_*` before they change anything, so the console, the
API and the command line are held to the same rules; templates only hide buttons.
The system itself acts as a named `SystemActor` (cases/actors.py) with its own short list
of what it may do; it is no staff member, so every staff check below refuses it, and so it
does a missing actor.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Max, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from refunddesk.cases.actors import SystemActor, require_system_may
from refunddesk.cases.errors import NotPermitted
from refunddesk.cases.models import ApprovalLimit, RefundCase
from refunddesk.cases.states import State
from refunddesk.core.money import format_money
from refunddesk.core.roles import holds


def is_staff_member(user: Any) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active
                and user.is_staff)


def require_system(actor: Any, power: str) -> None:
    """What only the desk itself does (a deadline passing): a system actor allowed `power`."""
    if not isinstance(actor, SystemActor):
        raise NotPermitted(_("Only the system does this, when its time comes."))
    require_system_may(actor, power)


def has(user: Any, codename: str) -> bool:
    return is_staff_member(user) and holds(user, f"cases.{codename}")


def can_view(user: Any) -> bool:
    return has(user, "view_refundcase") or has(user, "work_case")


def can_work(user: Any) -> bool:
    return has(user, "work_case")


def require_work(user: Any) -> None:
    if not can_work(user):
        raise NotPermitted(_("Your role does not handle refund cases."))


def approval_limit(user: Any, currency: str) -> int | None:
    """The most `user` may approve alone in `currency`, in minor units; None: no limit.
    Without a limit set for the currency, the limit is zero: escalate to a reviewer."""
    if has(user, "approve_any_amount"):
        return None
    found = (ApprovalLimit.objects.filter(group__user=user, currency=currency)
             .aggregate(limit=Max("limit_minor"))["limit"])
    return found or 0


def require_decide(user: Any, case: RefundCase) -> None:
    """Deciding a case: an agent or reviewer; an appeal only by a reviewer who did not make
    the decision under appeal."""
    if not has(user, "decide_case"):
        raise NotPermitted(_("Your role does not decide refund cases."))
    if case.channel == "agent" and case.opened_by_id == user.pk:
        # The same person both vouching for the caller's identity and paying out would
        # need no caller at all.
        raise NotPermitted(_("You opened this case for the caller; a colleague decides "
                             "it."))
    if case.state == State.APPEALED:
        if not has(user, "hear_appeal"):
            raise NotPermitted(_("Appeals are decided by a reviewer."))
        if case.appeal_of_decision_by_id == user.pk:
            raise NotPermitted(_("You made the decision under appeal; another reviewer "
                                 "decides the appeal."))


def require_within_limit(user: Any, case: RefundCase, total: int) -> None:
    limit = approval_limit(user, case.currency)
    if limit is not None and total > limit:
        raise NotPermitted(
            _("This approval (%(total)s) is above your approval limit of %(limit)s: "
              "escalate the case to a reviewer.")
            % {"total": format_money(total, case.currency),
               "limit": format_money(limit, case.currency)})


def require_override(user: Any) -> None:
    if not has(user, "override_assessment"):
        raise NotPermitted(_("Only a reviewer may approve more than the assessed refund."))


def require_confirm(user: Any, case: RefundCase) -> None:
    if not has(user, "confirm_approval"):
        raise NotPermitted(_("Your role does not confirm approvals."))
    if case.proposed_by_id == user.pk:
        raise NotPermitted(_("You proposed this approval: a second person must confirm it."))
    if case.state == State.APPEALED and case.appeal_of_decision_by_id == user.pk:
        raise NotPermitted(_("You made the decision under appeal; another reviewer "
                             "confirms the appeal's outcome."))


def require_open_for_customer(user: Any) -> None:
    if not has(user, "open_case_for_customer"):
        raise NotPermitted(_("Your role does not open cases for customers."))


def staff_with(codename: str) -> QuerySet[Any]:
    """Active staff whose roles hold a case permission (never superuser status alone)."""
    condition = Q(groups__permissions__codename=codename,
                  groups__permissions__content_type__app_label="cases")
    return (get_user_model().objects.filter(condition, is_active=True, is_staff=True)
            .distinct().order_by("username"))


def assignable_staff() -> QuerySet[Any]:
    return staff_with("work_case")


def reviewers() -> QuerySet[Any]:
    return staff_with("hear_appeal")
