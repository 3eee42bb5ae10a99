"""Counting requests per key in fixed windows, in the shared cache (the database by default,
so every web process on every machine counts together)."""

from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    """The client's address: REMOTE_ADDR, or the header REFUNDDESK_CLIENT_IP_HEADER names
    (X-Real-IP), which only a reverse proxy that overwrites it may be trusted to set
    (docs/deploy.md). A header a client can forge is trusted only when configured."""
    header = settings.REFUNDDESK_CLIENT_IP_HEADER
    if header:
        # X-Forwarded-For grows at each hop: the last address is the one our proxy saw.
        forwarded = request.headers.get(header, "").split(",")[-1].strip()
        if forwarded:
            return forwarded
    return request.META.get("REMOTE_ADDR") or "unknown"


def is_limited(key: str, *, limit: int, window_seconds: int) -> bool:
    """Count one hit for `key`; True when it is over `limit` in the current window."""
    window = int(time.time() // window_seconds)
    bucket = f"ratelimit:{key}:{window}"
    cache.add(bucket, 0, timeout=window_seconds + 5)
    try:
        hits = cache.incr(bucket)
    except ValueError:  # expired between add and incr
        cache.set(bucket, 1, timeout=window_seconds + 5)
        hits = 1
    return hits > limit
