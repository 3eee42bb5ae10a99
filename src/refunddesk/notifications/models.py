from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Kind(models.TextChoices):
    SUBMITTED = "submitted", _("Request received")
    INFO_REQUESTED = "info_requested", _("Information requested")
    DECIDED = "decided", _("Decision")
    APPEAL_RECEIVED = "appeal_received", _("Appeal received")
    APPEAL_DECIDED = "appeal_decided", _("Appeal decided")
    PAID = "paid", _("Refund paid")
    CLOSED = "closed", _("Closed: information not received")
    MESSAGE = "message", _("Message from staff")


class Status(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class EmailDelivery(models.Model):
    """One e-mail to a customer: written in the transaction of the change it reports, sent
    by the worker, and kept as the log of that delivery (attempts, last error, when sent)."""

    case = models.ForeignKey("cases.RefundCase", on_delete=models.CASCADE,
                             related_name="email_deliveries")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    to_address = models.EmailField(_("to"))
    language = models.CharField(_("language"), max_length=8)
    status = models.CharField(_("status"), max_length=8, choices=Status.choices,
                              default=Status.QUEUED)
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("queued"))
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    class Meta:
        verbose_name = _("e-mail delivery")
        verbose_name_plural = _("e-mail deliveries")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self) -> str:
        return f"{self.kind} → {self.to_address}"
