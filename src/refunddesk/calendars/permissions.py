"""Who keeps the business calendars: the admin role (core/staff.py gives it the calendar
permissions). The actions call `require_keep` before they change anything; the console
uses `can_keep` to decide who sees the page. A missing actor is refused; a part of the
system only with the named power "calendar.keep"."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from refunddesk.cases.actors import SystemActor, require_actor, require_system_may
from refunddesk.cases.errors import NotPermitted
from refunddesk.cases.permissions import is_staff_member
from refunddesk.core.roles import holds

KEEP = "calendars.change_calendarday"


def can_keep(user: object) -> bool:
    return is_staff_member(user) and holds(user, KEEP)


def require_keep(actor: object) -> None:
    actor = require_actor(actor)
    if isinstance(actor, SystemActor):
        require_system_may(actor, "calendar.keep")
        return
    if not can_keep(actor):
        raise NotPermitted(_("Only an admin keeps the business calendars."))
