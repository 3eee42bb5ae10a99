"""Payouts: the money movement that follows a refund decision, one row per route.

A decision (cases) is separate from moving money (here): an approval plans its payouts in
its own transaction (planning.py says how the amount splits), the worker submits them to a
gateway with the payout's id as the idempotency key, and syncs their outcome. "Already
refunded" is derived from these rows, never a counter edited in place.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from refunddesk.billing.models import Payment
from refunddesk.cases.models import RefundCase
from refunddesk.policy.money import Money


class PayoutState(models.TextChoices):
    PENDING = "pending", _("Waiting to be sent")
    SUBMITTED = "submitted", _("Sent to the payment provider")
    SUCCEEDED = "succeeded", _("Paid")
    FAILED = "failed", _("Failed")
    REQUIRES_ACTION = "requires_action", _("Needs action")
    UNKNOWN = "unknown", _("Outcome unknown")


class Destination(models.TextChoices):
    ORIGINAL = "original", _("Back by the original payment route")
    BALANCE = "balance", _("To the account balance")
    VOUCHER = "voucher", _("As voucher credit")
    GIFT = "gift", _("As gift credit")


# States whose money has left, or may have left: they count against what a payment has
# left to refund. A failed payout does not (its money never moved).
COMMITTED_STATES = (PayoutState.PENDING, PayoutState.SUBMITTED, PayoutState.SUCCEEDED,
                    PayoutState.REQUIRES_ACTION, PayoutState.UNKNOWN)


class Payout(models.Model):
    case = models.ForeignKey(RefundCase, verbose_name=_("case"), on_delete=models.PROTECT,
                             related_name="payouts")
    payment = models.ForeignKey(Payment, verbose_name=_("paid by"), on_delete=models.PROTECT,
                                related_name="payouts")
    destination = models.CharField(_("destination"), max_length=10,
                                   choices=Destination.choices)
    gateway = models.CharField(_("gateway"), max_length=32)
    amount_minor = models.BigIntegerField(_("amount"))
    currency = models.CharField(_("currency"), max_length=3)
    state = models.CharField(_("state"), max_length=16, choices=PayoutState.choices,
                             default=PayoutState.PENDING)
    gateway_refund_id = models.CharField(_("provider's refund id"), max_length=128,
                                         blank=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error_code = models.CharField(_("last error code"), max_length=64, blank=True)
    last_error_message = models.TextField(_("last error"), blank=True)
    expected_at = models.DateTimeField(_("expected to arrive"), null=True, blank=True)
    settled_at = models.DateTimeField(_("settled"), null=True, blank=True)
    created_at = models.DateTimeField(_("planned"))
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("payout")
        verbose_name_plural = _("payouts")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["state", "updated_at"])]
        permissions = [
            ("manage_payouts", "Can retry, redirect and record payouts by hand"),
            ("reconcile", "Can import settlement files and reconcile payouts"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount_minor__gt=0),
                                   name="payout_amount_positive"),
            # A provider's refund id belongs to one payout: a second row with it would be
            # the same money counted twice.
            models.UniqueConstraint(fields=["gateway", "gateway_refund_id"],
                                    condition=~Q(gateway_refund_id=""),
                                    name="one_payout_per_provider_refund"),
        ]

    def __str__(self) -> str:
        return f"{self.idempotency_key} {self.amount} {self.state}"

    @property
    def amount(self) -> Money:
        return Money(self.amount_minor, self.currency)

    @property
    def idempotency_key(self) -> str:
        """What the gateway sees as the idempotency key: our own id, so a repeated submit
        of the same payout is recognised by the provider as the same refund."""
        return f"refunddesk-payout-{self.pk}"
