"""API keys: how a merchant's systems authenticate to /api/v1/.

A key is shown once when it is made; only its SHA-256 is stored (a random 256-bit secret
needs no slow hash: nothing can be guessed from it). Its first characters stay visible so
people can tell keys apart. A key carries scopes, can be revoked, and remembers when it
was last used.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Scope(models.TextChoices):
    ORDERS_WRITE = "orders:write", _("Send orders (orders:write)")
    CASES_READ = "cases:read", _("Read cases, quotes, accounts and orders (cases:read)")
    CASES_WRITE = "cases:write", _("Act for customers: open and change cases, cancel "
                                   "renewals (cases:write)")
    DECISIONS_WRITE = "decisions:write", _("Decide cases as staff (decisions:write)")


class ApiKey(models.Model):
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(_("key starts with"), max_length=16, unique=True)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    scopes = models.JSONField(_("scopes"), default=list)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("made by"),
                                   on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+")
    created_at = models.DateTimeField(_("made"))
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)

    class Meta:
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    def allows(self, scope: str) -> bool:
        return self.is_active and scope in self.scopes


class IdempotencyRecord(models.Model):
    """One Idempotency-Key of one API key: its request's fingerprint and, once answered,
    the answer to give again (idempotency.py)."""

    owner = models.CharField(max_length=64)  # SHA-256 of the credentials sent
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)
    is_done = models.BooleanField(default=False)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.TextField(blank=True)
    content_type = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = _("idempotency key")
        verbose_name_plural = _("idempotency keys")
        constraints = [models.UniqueConstraint(fields=["owner", "key"],
                                               name="idempotency_key_once_per_owner")]

    def __str__(self) -> str:
        return self.key
