"""The audit of who holds which staff role: every change, by whom, from where."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class RoleChangeSource(models.TextChoices):
    CONSOLE = "console", _("console")
    ADMIN = "admin", _("administration")
    COMMAND_LINE = "command_line", _("command line")


class StaffRoleChange(models.Model):
    """One change of a staff member's roles. Written in the transaction of the change
    (core/role_changes.py), never edited."""

    at = models.DateTimeField(_("when"))
    member = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("staff member"),
                               on_delete=models.PROTECT, related_name="role_changes")
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("changed by"),
                                   on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="role_changes_made")
    source = models.CharField(_("where"), max_length=16, choices=RoleChangeSource.choices)
    roles_before = models.JSONField(_("roles before"), default=list)
    roles_after = models.JSONField(_("roles after"), default=list)

    class Meta:
        verbose_name = _("staff role change")
        verbose_name_plural = _("staff role changes")
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.member_id}: {self.roles_before} → {self.roles_after}"

    @property
    def added(self) -> list[str]:
        return [role for role in self.roles_after if role not in self.roles_before]

    @property
    def removed(self) -> list[str]:
        return [role for role in self.roles_before if role not in self.roles_after]
