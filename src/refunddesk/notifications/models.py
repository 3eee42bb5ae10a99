from __future__ import annotations

from django.conf import settings
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
    DECISION_FINAL = "decision_final", _("Decision final: not appealed in time")
    MESSAGE = "message", _("Message from staff")
    # A mass compensation opened the customer's cases (one e-mail naming all of a run's).
    COMPENSATED = "compensated", _("Compensation for a service disruption")
    # To staff, not customers: the other admins hear of every change of a staff member's
    # roles (separation of duties is watched, not only enforced).
    ROLES_CHANGED = "roles_changed", _("Staff roles changed")
    # To staff: one notice of their inbox (they chose e-mail at once), or their hourly digest.
    STAFF_NOTICE = "staff_notice", _("Staff notice")
    STAFF_DIGEST = "staff_digest", _("Staff digest")
    # To whoever wrote to the refund address, when their e-mail waits for a person: an
    # automatic reply (RFC 3834), about no case yet.
    MAIL_RECEIVED = "mail_received", _("E-mail received (automatic reply)")
    # To the same: an agent's answer to their e-mail, written in triage.
    MAIL_ANSWERED = "mail_answered", _("Answer to an e-mail")


# The kinds that go to staff; every other kind but SENDER_KINDS is a customer's, about a
# case.
STAFF_KINDS = frozenset({Kind.ROLES_CHANGED, Kind.STAFF_NOTICE, Kind.STAFF_DIGEST})
# The kinds that answer an e-mail's sender, about no case.
SENDER_KINDS = frozenset({Kind.MAIL_RECEIVED, Kind.MAIL_ANSWERED})


class Status(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class EmailDelivery(models.Model):
    """One e-mail to a customer (about a case), to staff (a change of roles, a notice of
    their inbox or their digest) or to the sender of an e-mail that waits for a person:
    written in the transaction of the change it reports, sent by the worker, and kept as
    the log of that delivery (attempts, last error, when sent)."""

    case = models.ForeignKey("cases.RefundCase", on_delete=models.CASCADE, null=True,
                             blank=True, related_name="email_deliveries")
    role_change = models.ForeignKey("core.StaffRoleChange", on_delete=models.CASCADE,
                                    null=True, blank=True, related_name="email_deliveries")
    notice = models.ForeignKey("inbox.Notice", on_delete=models.CASCADE, null=True,
                               blank=True, related_name="email_deliveries")
    digest = models.ForeignKey("inbox.Digest", on_delete=models.CASCADE, null=True,
                               blank=True, related_name="email_deliveries")
    inbound_mail = models.ForeignKey("intake.InboundMail", on_delete=models.CASCADE,
                                     null=True, blank=True, related_name="auto_replies")
    mail_answer = models.ForeignKey("intake.MailAnswer", on_delete=models.CASCADE,
                                    null=True, blank=True, related_name="email_deliveries")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    to_address = models.EmailField(_("to"))
    language = models.CharField(_("language"), max_length=8)
    status = models.CharField(_("status"), max_length=8, choices=Status.choices,
                              default=Status.QUEUED)
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    # When the worker should next try to send it; None once sent or failed. Claiming it
    # moves this forward by a lease (core/leasing.py), so a delivery whose worker died is
    # taken again once the lease runs out.
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("queued"))
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    class Meta:
        verbose_name = _("e-mail delivery")
        verbose_name_plural = _("e-mail deliveries")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "created_at"]),
            # The worker's sweep: only deliveries still to be sent are in it.
            models.Index(fields=["next_attempt_at"],
                         condition=models.Q(next_attempt_at__isnull=False),
                         name="email_delivery_due"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} → {self.to_address}"


# -- webhooks ---------------------------------------------------------------------------------

class WebhookEvent(models.TextChoices):
    """What a merchant's system can subscribe to (webhook_events.py emits them)."""

    CASE_SUBMITTED = "case.submitted", _("A case was opened")
    CASE_DECIDED = "case.decided", _("A case was approved or rejected")
    CASE_APPEALED = "case.appealed", _("A customer appealed a rejection")
    CASE_WITHDRAWN = "case.withdrawn", _("A customer withdrew a case")
    CASE_REFUNDED = "case.refunded", _("Every payout of a case arrived")
    PAYOUT_SUCCEEDED = "payout.succeeded", _("A payout arrived")
    PAYOUT_FAILED = "payout.failed", _("A payout was refused")
    SUBSCRIPTION_ENDED = "subscription.ended", _("A refund ended a line's service")
    SUBSCRIPTION_EXTENDED = "subscription.extended", _("A compensation extended a line's "
                                                       "service")


class DeliveryState(models.TextChoices):
    PENDING = "pending", _("Being delivered")
    SUCCEEDED = "succeeded", _("Delivered")
    FAILED = "failed", _("Gave up")


class WebhookEndpoint(models.Model):
    """An address of the merchant's system that receives the events it subscribes to,
    signed with the endpoint's own secret. Endpoints are disabled, never deleted: their
    deliveries are the log of what was sent."""

    url = models.URLField(_("URL"), max_length=2000)
    description = models.CharField(_("description"), max_length=200, blank=True)
    events = models.JSONField(_("events"), default=list)
    # Kept in clear: the HMAC needs it at every delivery, and admins see it to configure
    # the receiving side.
    secret = models.CharField(_("signing secret"), max_length=100)
    is_active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("added by"),
                                   on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+")
    created_at = models.DateTimeField(_("added"))

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.url


class WebhookDelivery(models.Model):
    """One event for one endpoint: written in the transaction of the change it reports,
    sent by the worker (webhook_sending.py) until it succeeds or 24 hours have passed."""

    endpoint = models.ForeignKey(WebhookEndpoint, verbose_name=_("endpoint"),
                                 on_delete=models.PROTECT, related_name="deliveries")
    event_id = models.CharField(_("event id"), max_length=40)
    event_type = models.CharField(_("event"), max_length=32, choices=WebhookEvent.choices)
    # The exact body sent, as text: a JSON column may reorder keys (PostgreSQL's jsonb
    # does), and every attempt must send the same bytes.
    payload = models.TextField(_("payload"))
    state = models.CharField(_("state"), max_length=10, choices=DeliveryState.choices,
                             default=DeliveryState.PENDING)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    # When the worker should next try it; None once delivered or given up. Claiming it
    # moves this forward by a lease (core/leasing.py).
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    first_attempt_at = models.DateTimeField(_("first attempt"), null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(_("last HTTP status"), null=True,
                                                        blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created"))
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["endpoint", "event_id"],
                                               name="one_delivery_per_event_and_endpoint")]
        indexes = [models.Index(fields=["endpoint", "state", "-created_at"],
                                name="webhook_delivery_by_state"),
                   # The worker's sweep: only deliveries still being tried are in it.
                   models.Index(fields=["next_attempt_at"],
                                condition=models.Q(next_attempt_at__isnull=False),
                                name="webhook_delivery_due")]

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_id} → {self.endpoint_id}"


class WebhookAttempt(models.Model):
    """One POST of a delivery, as it went: the log the console shows."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE,
                                 related_name="attempt_log")
    at = models.DateTimeField(_("at"))
    status_code = models.PositiveSmallIntegerField(_("HTTP status"), null=True, blank=True)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), default=0)
    error = models.TextField(_("error"), blank=True)
    response_body = models.TextField(_("response (start)"), blank=True)
    is_manual = models.BooleanField(_("sent by hand"), default=False)
    sent_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("sent by"),
                                on_delete=models.PROTECT, null=True, blank=True,
                                related_name="+")

    class Meta:
        verbose_name = _("webhook attempt")
        verbose_name_plural = _("webhook attempts")
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.delivery_id} {self.at:%Y-%m-%d %H:%M:%S} {self.status_code}"

    @property
    def is_success(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    @property
    def detail(self) -> str:
        """The error, unless it only repeats the status ("HTTP 500")."""
        return "" if self.error == f"HTTP {self.status_code}" else self.error
