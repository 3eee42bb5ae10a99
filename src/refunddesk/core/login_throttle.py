"""Failed logins are counted per client address, and per user *at that address*.

allauth counts failed passwords per login name, and wrong second-factor codes per user,
over every address together. Anyone who knows a staff member's user name could then lock
them out: a few wrong codes from anywhere, and the right password and code are refused for
minutes. So (settings.ACCOUNT_RATE_LIMITS):

- allauth's own "login_failed" limit counts per address only ("…/ip"): one address may
  fail so often a minute, whatever the users it tries, and its failures cost nothing at
  another address;
- USER_AT_ADDRESS, counted here, slows guessing one user's password or code from one
  address much more: a few tries in some minutes, then refused — there, only;
- CODES_OF_USER caps one user's wrong second-factor codes over all addresses (some tens an
  hour). Only someone who has just given the right password reaches the code, so this cap
  cannot be used by a stranger who only knows the user name; it stops a thief of the
  password from trying the million codes from a million addresses.

Guessing from many addresses at once is left to the second factor (staff) and to the
reverse proxy's own limits (docs/deploy.md, "Security"). Only allauth's public pieces are
used: its rate-limit store (`allauth.core.ratelimit`), its request context, and its forms,
whose own checks run unchanged inside ours.
"""

from __future__ import annotations

import ipaddress

from allauth.account.adapter import get_adapter as get_account_adapter
from allauth.core import context, ratelimit
from allauth.mfa.base import forms as mfa_forms
from django.http import HttpRequest

from refunddesk.core.ratelimit import client_ip

# The rate of ACCOUNT_RATE_LIMITS that counts one user's failures at one address.
USER_AT_ADDRESS = "login_failed_user_at_address"
# The rate that counts one user's wrong codes wherever they come from.
CODES_OF_USER = "login_failed_codes_of_user"

# One subscriber gets a whole /64 of IPv6 addresses: counting each address alone would give
# them billions of tries.
IPV6_PREFIX = 64


def client_address(request: HttpRequest) -> str:
    """The address failures are counted against: the client's, an IPv6 one as its /64."""
    address = client_ip(request)
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.IPv6Network(f"{parsed}/{IPV6_PREFIX}", strict=False))
    return str(parsed)


def _key(request: HttpRequest, who: str) -> str:
    return f"{who}@{client_address(request)}"


def take_attempt(request: HttpRequest, who: str) -> None:
    """Count one attempt for `who` (a login name, or a user for codes) from this address;
    refuse it with allauth's "too many attempts" error when there were too many."""
    if not ratelimit.consume(request, action=USER_AT_ADDRESS, key=_key(request, who)):
        raise get_account_adapter().validation_error("too_many_login_attempts")


def forget_attempts(request: HttpRequest, who: str) -> None:
    """The right password or code from this address: its count starts again."""
    ratelimit.clear(request, action=USER_AT_ADDRESS, key=_key(request, who))


class PerAddressCodeCheck(mfa_forms.BaseAuthenticateForm):
    """Wrong second-factor codes counted per user and address, around allauth's check."""

    def clean_code(self) -> str:
        request, who = context.request, f"mfa-user-{self.user.pk}"
        if not ratelimit.consume(request, action=CODES_OF_USER, key=who):
            raise get_account_adapter().validation_error("too_many_login_attempts")
        take_attempt(request, who)
        code = super().clean_code()
        forget_attempts(request, who)
        ratelimit.clear(request, action=CODES_OF_USER, key=who)
        return code


class AuthenticateForm(PerAddressCodeCheck, mfa_forms.AuthenticateForm):
    """The code asked for at login (MFA_FORMS["authenticate"])."""


class ReauthenticateForm(PerAddressCodeCheck, mfa_forms.ReauthenticateForm):
    """The code asked for again before a sensitive change (MFA_FORMS["reauthenticate"])."""
