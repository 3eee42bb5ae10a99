"""Who may open the console: the one decorator every console view wears.

A visitor is sent to log in; a customer (or any login without a staff role) is refused
with 403, exactly like a staff member whose role does not reach the page. Staff must have
a second factor (TOTP): `second_factor_redirect` sends a staff member without one to set
it up first. What a staff member may *do* is checked again by the actions
(cases/permissions.py); this only decides who sees the pages.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from allauth.mfa.models import Authenticator
from allauth.mfa.utils import is_mfa_enabled
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import User
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect
from django.utils.translation import gettext_lazy as _

from refunddesk.cases import permissions

View = Callable[..., HttpResponseBase]

NOT_STAFF = _("The console is for RefundDesk staff.")
SECOND_FACTOR_NEEDED = _(
    "The console requires two-factor login. Add RefundDesk to an authenticator app on your "
    "phone and enter the code it shows to continue.")


def second_factor_redirect(request: HttpRequest, user: AbstractBaseUser
                           ) -> HttpResponse | None:
    """A redirect to the TOTP set-up for staff (`user`, logged in on `request`) who have no
    second factor yet, else None."""
    # allauth asks for the code at every login once TOTP is active; what remains to
    # decide here is only whether it is set up. REFUNDDESK_STAFF_MFA off skips it (dev).
    if not settings.REFUNDDESK_STAFF_MFA:
        return None
    if is_mfa_enabled(user, [Authenticator.Type.TOTP]):
        return None
    messages.warning(request, SECOND_FACTOR_NEEDED)
    return redirect("mfa_activate_totp")


def console_view(check: Callable[[Any], bool] = permissions.can_view,
                 message: Any = NOT_STAFF) -> Callable[[View], View]:
    """Wrap a console view: logged in, staff, second factor set up, and `check(user)`."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            user = request.user
            if not user.is_authenticated:
                return redirect_to_login(request.get_full_path(), settings.LOGIN_URL)
            if not permissions.is_staff_member(user) or not permissions.can_view(user):
                raise PermissionDenied(NOT_STAFF)
            redirect = second_factor_redirect(request, user)
            if redirect is not None:
                return redirect
            if not check(user):
                raise PermissionDenied(message)
            return view(request, *args, **kwargs)

        return wrapped

    return decorate


staff_required = console_view()


def staff_member(request: HttpRequest) -> User:
    """The staff member logged in on a request that a console view let through."""
    user = request.user
    if not user.is_authenticated:  # only a view without console_view gets here
        raise PermissionDenied(NOT_STAFF)
    return user


class AdminSecondFactorMiddleware:
    """The administration asks for the second factor like the console: allauth asks for the
    code at login only of those who have one set up, so a superuser made on the command line
    (or an admin who never opened the console) would otherwise use /admin/ on a password
    alone."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if request.path_info.startswith("/admin/") and user.is_authenticated and user.is_staff:
            redirect = second_factor_redirect(request, user)
            if redirect is not None:
                return redirect
        return self.get_response(request)
