"""Making, checking and revoking API keys."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from refunddesk.api.models import ApiKey, Scope
from refunddesk.api.permissions import require_manage_keys
from refunddesk.cases.actors import person
from refunddesk.core import invalidation

KEY_PREFIX = "rdk_"
SHOWN_CHARACTERS = 12
# Last use is written at most this often per key, so busy integrations do not turn every
# read into a write.
LAST_USE_RESOLUTION = timedelta(minutes=1)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def make_key(*, name: str, scopes: list[str], actor: Any, acting_as: Any = None,
             now: datetime | None = None) -> tuple[ApiKey, str]:
    """A new key and its secret; the secret is not kept and cannot be shown again.
    `actor` is an admin, or COMMAND_LINE (whoever runs it has the server). The key is made
    by, and decides as (decisions:write), `actor` — or `acting_as`, a staff member the
    command line names."""
    require_manage_keys(actor, "api_key.create")
    unknown = sorted(set(scopes) - set(Scope.values))
    if unknown:
        raise ValueError(f"unknown scopes: {', '.join(unknown)}")
    if not name.strip():
        raise ValueError("a key needs a name")
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey.objects.create(
        name=name.strip()[:100], prefix=secret[:SHOWN_CHARACTERS], key_hash=digest(secret),
        scopes=sorted(set(scopes)), created_by=person(actor) or acting_as,
        created_at=now or timezone.now())
    return key, secret


def key_for(secret: str, *, now: datetime | None = None) -> ApiKey | None:
    """The active key with this secret, its last use recorded; None for anything else.
    Each process keeps the keys it checked until a key changes (core/invalidation.py): a
    key revoked in the console stops working in every process at once."""
    if not secret.startswith(KEY_PREFIX):
        return None
    hashed = digest(secret)
    fields = invalidation.kept(invalidation.API_KEYS, hashed, lambda: _active_key(hashed))
    if fields is None:
        return None
    # A new instance each time: nothing one request caches on it (its creator) reaches
    # the next.
    key = ApiKey(**fields)
    now = now or timezone.now()
    if key.last_used_at is None or now - key.last_used_at >= LAST_USE_RESOLUTION:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now
    return key


def _active_key(hashed: str) -> dict[str, Any] | None:
    key = ApiKey.objects.filter(key_hash=hashed, revoked_at__isnull=True).first()
    if key is None:
        return None
    return {field.attname: getattr(key, field.attname)
            for field in ApiKey._meta.concrete_fields}


def revoke(key: ApiKey, *, actor: Any, now: datetime | None = None) -> None:
    require_manage_keys(actor, "api_key.revoke")
    ApiKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(
        revoked_at=now or timezone.now())
    invalidation.written(invalidation.API_KEYS)
