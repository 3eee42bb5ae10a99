"""django-allauth, fitted to customers the merchant's billing system brings along, and to
staff, who log in on the same page and work in the console."""

from __future__ import annotations

import logging
import smtplib
from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from django.contrib import messages
from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _

from refunddesk.cases import permissions
from refunddesk.core.ratelimit import client_ip

log = logging.getLogger(__name__)


class PortalAccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        # A customer login is created with the billing account it belongs to
        # (core/demo_staff.py for the demo; the billing import later), never by a visitor.
        return False

    def get_login_redirect_url(self, request: HttpRequest) -> str:
        # Only when the login page had no ?next=: allauth prefers that.
        if permissions.can_view(request.user):
            return reverse("console:queue")
        return super().get_login_redirect_url(request)

    def get_client_ip(self, request: HttpRequest) -> str:
        # One notion of the client's address for every limit (core/ratelimit.py).
        return client_ip(request)

    def send_mail(self, template_prefix: str, email: str, context: dict[str, Any]) -> None:
        # allauth sends its mail (login codes, password resets) during the request. A mail
        # server that is down must not turn the login page into a server error: say so,
        # and let the customer log in with the password instead.
        try:
            super().send_mail(template_prefix, email, context)
        except (smtplib.SMTPException, OSError):
            log.exception("could not send %s mail", template_prefix)
            request = self.request
            if request is not None:
                messages.error(request, _(
                    "We could not send the e-mail just now. Please try again in a few "
                    "minutes, or log in with your password."))
