"""Counting requests per key in fixed windows, in the shared cache (the database by default,
so every web process on every machine counts together)."""

from __future__ import annotations

import time

from django.core.cache import cache
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    # Behind a reverse proxy, configure it to set REMOTE_ADDR (docs/deploy.md); a header a
    # client can forge is not trusted here.
    return request.META.get("REMOTE_ADDR", "unknown")


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
