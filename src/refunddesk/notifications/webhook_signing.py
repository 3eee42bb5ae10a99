"""Signing webhook bodies, and checking a signature the way a receiver does.

The header reads `RefundDesk-Signature: t=<unix seconds>,v1=<hex>`, where `<hex>` is the
HMAC-SHA256, keyed with the endpoint's secret (the whole `whsec_…` text), of
`"<t>.<raw body>"`. The timestamp is inside the signed text, so a receiver that refuses
old timestamps cannot be fed a captured delivery again later (docs/webhooks.md).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

SIGNATURE_HEADER = "RefundDesk-Signature"
SECRET_PREFIX = "whsec_"
TOLERANCE_SECONDS = 300


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def signature(secret: str, body: bytes, timestamp: int) -> str:
    """The hex HMAC-SHA256 of `"<timestamp>.<body>"` under `secret`."""
    signed = str(int(timestamp)).encode("ascii") + b"." + body
    return hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).hexdigest()


def signature_header(secret: str, body: bytes, timestamp: int) -> str:
    return f"t={int(timestamp)},v1={signature(secret, body, timestamp)}"


def verify(secret: str, body: bytes, header: str, *, now: float,
           tolerance: int = TOLERANCE_SECONDS) -> bool:
    """Whether `header` signs `body` with `secret`, made less than `tolerance` seconds
    from `now` (either way: clocks differ). Any malformed header is simply not valid."""
    parts: dict[str, list[str]] = {}
    for item in header.split(","):
        key, _, value = item.strip().partition("=")
        parts.setdefault(key, []).append(value)
    try:
        timestamp = int(parts["t"][0])
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > tolerance:
        return False
    expected = signature(secret, body, timestamp)
    return any(hmac.compare_digest(expected, given) for given in parts.get("v1", []))
