"""A notice tells one staff member that something needs them (telling.py writes them).

The kinds and their labels live here together, so a label cannot drift from its value; the
sentence each notice reads as is in presenting.py.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import User
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class NoticeKind(models.TextChoices):
    ASSIGNED = "assigned", _("Assigned to you")
    CONFIRMATION_WANTED = "confirmation_wanted", _("Your confirmation is wanted")
    APPEAL_WAITING = "appeal_waiting", _("An appeal waits for a reviewer")
    CUSTOMER_ANSWERED = "customer_answered", _("The customer answered")
    SLA_DUE_SOON = "sla_due_soon", _("Due soon")
    SLA_OVERDUE = "sla_overdue", _("Overdue")
    PAYOUT_FAILED = "payout_failed", _("Payout failed")
    PUBLICATION_WANTED = "publication_wanted", _("A policy version waits for your approval")
    PUBLICATION_DECLINED = "publication_declined", _("Your policy version was declined")


class EmailMode(models.TextChoices):
    AT_ONCE = "at_once", _("At once, one e-mail per notice")
    DIGEST = "digest", _("An hourly digest")
    OFF = "off", _("No e-mail")


def default_language() -> str:
    return settings.LANGUAGE_CODE


class Notice(models.Model):
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("for"),
                                  on_delete=models.CASCADE, related_name="notices")
    kind = models.CharField(_("kind"), max_length=24, choices=NoticeKind.choices)
    case = models.ForeignKey("cases.RefundCase", verbose_name=_("case"),
                             on_delete=models.CASCADE, null=True, blank=True,
                             related_name="+")
    payout = models.ForeignKey("payouts.Payout", verbose_name=_("payout"),
                               on_delete=models.CASCADE, null=True, blank=True,
                               related_name="+")
    # What the sentence names beside the case: who did it, an amount (minor units and
    # currency, shown in the reader's language), an error; written with the notice, so
    # reading the inbox joins nothing more.
    data = models.JSONField(_("details"), default=dict, blank=True)
    # The deadline an SLA notice is about: with the case and kind it makes the notice
    # unique, so a sweep every minute tells once per case and clock.
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"))
    read_at = models.DateTimeField(_("read"), null=True, blank=True)
    # Decided when written from the recipient's preference: waits for their next digest.
    is_for_digest = models.BooleanField(_("for the digest"), default=False)
    digest = models.ForeignKey("inbox.Digest", verbose_name=_("sent in digest"),
                               on_delete=models.SET_NULL, null=True, blank=True,
                               related_name="notices")

    class Meta:
        verbose_name = _("notice")
        verbose_name_plural = _("notices")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["recipient", "-created_at", "-id"], name="notice_inbox"),
            # The header's unread count reads only this small index.
            models.Index(fields=["recipient"], condition=Q(read_at__isnull=True),
                         name="notice_unread"),
            models.Index(fields=["recipient"], name="notice_for_digest",
                         condition=Q(is_for_digest=True, digest__isnull=True,
                                     read_at__isnull=True)),
        ]
        constraints = [
            models.UniqueConstraint(fields=["recipient", "case", "kind", "due_at"],
                                    condition=Q(due_at__isnull=False),
                                    name="one_notice_per_case_clock"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} → {self.recipient_id}"

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


class Digest(models.Model):
    """One hourly e-mail to one staff member: the notices it carried point at it. A
    recipient has at most one per hour (`period`), which the database enforces, so two
    workers (or a worker restarted after a crash) never send the hour's digest twice."""

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("for"),
                                  on_delete=models.CASCADE, related_name="+")
    period = models.DateTimeField(_("hour"))
    created_at = models.DateTimeField(_("created"))

    class Meta:
        verbose_name = _("digest")
        verbose_name_plural = _("digests")
        constraints = [models.UniqueConstraint(fields=["recipient", "period"],
                                               name="one_digest_per_hour")]

    def __str__(self) -> str:
        return f"{self.recipient_id} {self.period:%Y-%m-%d %H:%M}"


class Preference(models.Model):
    """How a staff member hears of their notices by e-mail, and in which language. Without
    a row: the hourly digest, in the desk's language."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                related_name="inbox_preference")
    email = models.CharField(_("e-mail"), max_length=8, choices=EmailMode.choices,
                             default=EmailMode.DIGEST)
    language = models.CharField(_("language of the e-mails"), max_length=8,
                                choices=settings.LANGUAGES, default=default_language)

    class Meta:
        verbose_name = _("inbox preference")
        verbose_name_plural = _("inbox preferences")

    def __str__(self) -> str:
        return f"{self.user_id}: {self.email}, {self.language}"


def preference_of(user: User) -> Preference:
    """The user's preference, or the default (unsaved) when they never chose."""
    found = Preference.objects.filter(user=user).first()
    return found or Preference(user=user)
