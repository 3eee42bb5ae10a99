"""Second-factor (TOTP) secrets and codes for the demo and for tests, through public means
only: allauth's Authenticator model and its `encrypt`/`decrypt` for storage (as allauth
stores what its own set-up page makes), pyotp for the codes (RFC 6238), with allauth's
period and number of digits."""

from __future__ import annotations

import pyotp
from allauth.mfa import app_settings
from allauth.mfa.models import Authenticator
from allauth.mfa.utils import decrypt, encrypt
from django.contrib.auth.models import User


def new_secret() -> str:
    """A random base32 secret of 160 bits, the length RFC 4226 recommends."""
    return pyotp.random_base32(length=32)


def activate(user: User, secret: str) -> Authenticator:
    """Give `user` an authenticator app with `secret`, as if they had set it up."""
    # allauth's manager is untyped: what it creates is an Authenticator all the same.
    authenticator: Authenticator = Authenticator.objects.create(
        user=user, type=Authenticator.Type.TOTP, data={"secret": encrypt(secret)})
    return authenticator


def secret_of(user: User) -> str | None:
    authenticator = Authenticator.objects.filter(
        user=user, type=Authenticator.Type.TOTP).first()
    return decrypt(authenticator.data["secret"]) if authenticator else None


def _totp(secret: str) -> pyotp.TOTP:
    return pyotp.TOTP(secret, digits=app_settings.TOTP_DIGITS,
                      interval=app_settings.TOTP_PERIOD)


def code_at(secret: str, at: float) -> str:
    """The code an authenticator app shows at `at` (seconds since the epoch)."""
    return _totp(secret).at(int(at))


def code_of_step(secret: str, step: int) -> str:
    """The code of the `step`-th period since the epoch."""
    return _totp(secret).at(step * app_settings.TOTP_PERIOD)
