"""Idle staff sessions end: a staff member who walks away from the console is logged out.

A staff session can approve refunds, so one left open on an unattended desk is a risk a
customer's session is not; customers keep Django's ordinary session lifetime.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.utils.translation import ngettext

# When the staff member last made a request, in whole seconds since the epoch.
LAST_ACTIVITY_KEY = "refunddesk.staff_last_activity"
# The session is written at most this often: saving it on every request would cost a
# database write per click, and a minute is well below any sensible idle limit.
WRITE_EVERY_SECONDS = 60
# A request with this header comes from the page itself (the queue refreshing every few
# seconds with htmx), not from the person: it does not count as activity, or a console left
# open would never expire. Such requests are still logged out once the session has expired.
BACKGROUND_HEADER = "X-RefundDesk-Poll"


def is_staff_user(user: object) -> bool:
    return bool(getattr(user, "is_authenticated", False) and getattr(user, "is_staff", False))


class StaffIdleTimeoutMiddleware:
    """Logs out a staff user whose last request was more than REFUNDDESK_STAFF_IDLE_MINUTES
    ago, and sends them to the login page (then back to where they were going)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if is_staff_user(request.user):
            now = int(time.time())
            last = request.session.get(LAST_ACTIVITY_KEY)
            idle_limit = settings.REFUNDDESK_STAFF_IDLE_MINUTES * 60
            if isinstance(last, int) and now - last > idle_limit:
                return self._log_out(request)
            is_background = request.headers.get(BACKGROUND_HEADER) == "1"
            if not isinstance(last, int) or (
                    not is_background and now - last >= WRITE_EVERY_SECONDS):
                request.session[LAST_ACTIVITY_KEY] = now
        return self.get_response(request)

    def _log_out(self, request: HttpRequest) -> HttpResponse:
        logout(request)
        minutes = settings.REFUNDDESK_STAFF_IDLE_MINUTES
        messages.warning(request, ngettext(
            "You were logged out after %(minutes)s minute without activity. "
            "Please log in again.",
            "You were logged out after %(minutes)s minutes without activity. "
            "Please log in again.", minutes) % {"minutes": minutes})
        response = redirect_to_login(request.get_full_path(), settings.LOGIN_URL)
        if request.headers.get("HX-Request"):
            # An htmx request would swap the login page into a fragment: have htmx load it
            # as a whole page instead.
            redirect = HttpResponse(status=204)
            redirect["HX-Redirect"] = response["Location"]
            return redirect
        return response
