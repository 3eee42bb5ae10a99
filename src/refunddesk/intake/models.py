"""Inbound e-mail: every message kept raw first, then turned into a case, a message on a
case, or an item of the triage queue (processing.py)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from refunddesk.cases.models import RefundCase


class Source(models.TextChoices):
    PIPE = "pipe", _("Mail server pipe")
    IMAP = "imap", _("IMAP mailbox")


class MailState(models.TextChoices):
    RECEIVED = "received", _("Received, not yet read")
    OPENED_CASE = "opened_case", _("Opened a case")
    ADDED_TO_CASE = "added_to_case", _("Added to a case")
    TRIAGE = "triage", _("Waiting in triage")
    IGNORED = "ignored", _("Ignored (automatic mail)")
    SET_ASIDE = "set_aside", _("Set aside (not a request)")
    ANSWERED = "answered", _("Answered by e-mail")


class TriageReason(models.TextChoices):
    UNKNOWN_SENDER = "unknown_sender", _("The sender matches no account")
    NO_ORDER = "no_order", _("No order of the account is named")
    SEVERAL_ORDERS = "several_orders", _("Several orders are named")
    NOT_AUTHENTIC = "not_authentic", _("The sender's domain failed SPF, DKIM or DMARC")
    NOT_REFUNDABLE = "not_refundable", _("The order cannot be applied for as written")
    NOTHING_READABLE = "nothing_readable", _("The message has nothing readable")
    BROKEN = "broken", _("The message could not be processed")
    TOO_LARGE = "too_large", _("The message is larger than the limit")


def keep_given_path(mail: InboundMail, path: str) -> str:
    # storing.py names the file by the message's digest; no sender-chosen name is a path.
    return path


class InboundMail(models.Model):
    """One received message. `message_key` (its Message-ID, or a digest of the bytes when
    it has none) is unique: a message piped twice, polled again or re-read after a crash is
    one row, so it is turned into a case at most once."""

    message_key = models.CharField(_("message id"), max_length=255, unique=True)
    sha256 = models.CharField(max_length=64)
    raw = models.FileField(_("raw message"), upload_to=keep_given_path, max_length=200)
    size = models.PositiveBigIntegerField(_("size"))
    source = models.CharField(_("received by"), max_length=8, choices=Source.choices)
    received_at = models.DateTimeField(_("received"))
    from_address = models.CharField(_("from"), max_length=254, blank=True)
    subject = models.CharField(_("subject"), max_length=300, blank=True)
    state = models.CharField(_("state"), max_length=16, choices=MailState.choices,
                             default=MailState.RECEIVED)
    triage_reason = models.CharField(_("why in triage"), max_length=20, blank=True,
                                     choices=TriageReason.choices)
    case = models.ForeignKey(RefundCase, verbose_name=_("case"), on_delete=models.SET_NULL,
                             null=True, blank=True, related_name="inbound_mail")
    refused_attachments = models.JSONField(_("refused attachments"), default=list, blank=True)
    processed_at = models.DateTimeField(_("processed"), null=True, blank=True)
    # The worker's attempts at processing it, counted when it takes it (a worker that dies
    # on it counts too); after MAX_ATTEMPTS a person gets the message (triage).
    attempts = models.PositiveSmallIntegerField(default=0)
    # When the worker's sweep should next process it; None once processed. Claiming it
    # moves this forward by a lease (core/leasing.py).
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # Who took it in triage to deal with it (others see it is taken).
    claimed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("taken by"),
                                   on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    # Who dealt with it in triage (added it to a case, or set it aside), and when.
    handled_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("handled by"),
                                   on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    handled_at = models.DateTimeField(_("handled"), null=True, blank=True)

    class Meta:
        verbose_name = _("inbound e-mail")
        verbose_name_plural = _("inbound e-mail")
        indexes = [models.Index(fields=["state", "received_at"], name="inbound_mail_by_state"),
                   # The worker's sweep: only messages still to be processed are in it.
                   models.Index(fields=["next_attempt_at"],
                                condition=models.Q(next_attempt_at__isnull=False),
                                name="inbound_mail_due")]

    def __str__(self) -> str:
        return self.message_key


class MailAnswer(models.Model):
    """What an agent wrote back to the sender of an e-mail in triage (sent through the
    outbox: notifications.EmailDelivery of kind mail_answered)."""

    mail = models.ForeignKey(InboundMail, verbose_name=_("e-mail"), on_delete=models.CASCADE,
                             related_name="answers")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("written by"),
                               on_delete=models.PROTECT, related_name="+")
    body = models.TextField(_("answer"))
    created_at = models.DateTimeField(_("written"))

    class Meta:
        verbose_name = _("answer to an e-mail")
        verbose_name_plural = _("answers to e-mail")

    def __str__(self) -> str:
        return f"{self.mail_id}: {self.body[:40]}"
