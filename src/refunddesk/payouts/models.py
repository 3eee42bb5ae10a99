"""Payouts: the money movement that follows a refund decision, one row per route.

A decision (cases) is separate from moving money (here): an approval plans its payouts in
its own transaction (planning.py says how the amount splits), the worker submits them to a
gateway with the payout's id as the idempotency key, and syncs their outcome. "Already
refunded" is derived from these rows, never a counter edited in place.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from refunddesk.billing.models import Payment
from refunddesk.cases.models import RefundCase
from refunddesk.policy.money import Money


class PayoutState(models.TextChoices):
    PENDING = "pending", _("Waiting to be sent")
    SUBMITTED = "submitted", _("Sent to the payment provider")
    SUCCEEDED = "succeeded", pgettext_lazy("payout", "Paid")
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


# States in which the gateway still has something to tell us.
IN_MOTION_STATES = (PayoutState.PENDING, PayoutState.SUBMITTED, PayoutState.REQUIRES_ACTION,
                    PayoutState.UNKNOWN)
FINAL_STATES = (PayoutState.SUCCEEDED, PayoutState.FAILED)


def needs_attention(now: datetime) -> Q:
    """Payouts finance should look at: refused and not yet replaced, waiting for an action
    or an outcome, or still on their way after they should have arrived."""
    return (Q(state=PayoutState.FAILED, replaced_by__isnull=True)
            | Q(state__in=[PayoutState.REQUIRES_ACTION, PayoutState.UNKNOWN])
            | Q(state__in=[PayoutState.PENDING, PayoutState.SUBMITTED], expected_at__lt=now))


def still_owed() -> Q:
    """Payouts that moved or may move money: committed, or failed and not yet replaced by
    finance (its money is still owed: finance's retry or redirect will pay it). What a
    payment has left to refund is its amount less these (payouts/planned.py says it in
    SQL)."""
    return Q(state__in=COMMITTED_STATES) | Q(state=PayoutState.FAILED, replaced_by__isnull=True)


# The `gateway` of a payout finance made outside RefundDesk (payouts/actions.py records it).
OUTSIDE_GATEWAY = "outside"


class FallbackReason(models.TextChoices):
    METHOD_UNAVAILABLE = "method_unavailable", _(
        "the original payment method cannot take refunds at the moment")
    TOO_OLD = "too_old", _("the payment is older than the payment provider accepts refunds for")
    REDIRECTED = "redirected", _("the payment provider refused the refund")
    TOO_MANY_REFUNDS = "too_many_refunds", _(
        "the payment has been refunded as many times as the payment provider allows")


class PayoutQuerySet(models.QuerySet["Payout"]):
    def current_for(self, case_ids: Iterable[int]) -> dict[int, list[Payout]]:
        """Each case's payouts that count: those not replaced by finance, in order."""
        by_case: dict[int, list[Payout]] = defaultdict(list)
        for payout in self.filter(case_id__in=list(case_ids),
                                  replaced_by__isnull=True).order_by("id"):
            by_case[payout.case_id].append(payout)
        return by_case


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
    submitted_at = models.DateTimeField(_("sent"), null=True, blank=True)
    settled_at = models.DateTimeField(_("settled"), null=True, blank=True)
    # When the worker should next talk to the gateway about this payout; None once it has
    # ended. A worker that takes a payout moves this forward by a lease, so a payout whose
    # worker died is taken up again once the lease runs out (runner.py).
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    # Why the money does not go back by the original route, when it does not.
    fallback_reason = models.CharField(_("why not the original route"), max_length=32,
                                       blank=True)
    # A payout made by finance in place of a failed one (retry, redirect, paid outside).
    replaces = models.OneToOneField("self", verbose_name=_("replaces"), null=True,
                                    blank=True, on_delete=models.PROTECT,
                                    related_name="replaced_by")
    created_at = models.DateTimeField(_("planned"))
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = PayoutQuerySet.as_manager()

    class Meta:
        verbose_name = _("payout")
        verbose_name_plural = _("payouts")
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["state", "updated_at"]),
            # The worker's queue: only payouts still in motion are in it.
            models.Index(fields=["next_attempt_at"], condition=Q(next_attempt_at__isnull=False),
                         name="payout_due"),
            # Reports sum the money that arrived in a range of days.
            models.Index(fields=["settled_at"], name="payout_settled"),
        ]
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


class SettlementOutcome(models.TextChoices):
    MATCHED = "matched", _("Matches")
    DIFFERS = "differs", _("Differs")
    MISSING = "missing", _("Missing from the file")
    UNKNOWN = "unknown", _("Not ours")


class Settlement(models.Model):
    """One settlement file from a gateway, imported by finance and compared with our
    payouts (reconcile.py). Kept with its lines, so the comparison can be shown later."""

    gateway = models.CharField(_("gateway"), max_length=32)
    file_name = models.CharField(_("file"), max_length=200)
    sha256 = models.CharField(max_length=64)
    imported_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("imported by"),
                                    on_delete=models.PROTECT, related_name="+")
    imported_at = models.DateTimeField(_("imported"))
    period_start = models.DateTimeField(_("from"), null=True, blank=True)
    period_end = models.DateTimeField(_("until"), null=True, blank=True)
    counts = models.JSONField(_("counts"), default=dict)

    class Meta:
        verbose_name = _("settlement file")
        verbose_name_plural = _("settlement files")
        ordering = ["-imported_at", "-id"]
        constraints = [
            # The same file twice would list every refund twice; reconcile.py says so
            # clearly, this holds when two people import it at the same moment.
            models.UniqueConstraint(fields=["gateway", "sha256"], name="settlement_file_once"),
        ]

    def __str__(self) -> str:
        return f"{self.gateway} {self.file_name}"


class SettlementLine(models.Model):
    settlement = models.ForeignKey(Settlement, on_delete=models.CASCADE, related_name="lines")
    line_number = models.PositiveIntegerField(_("line"), null=True, blank=True)
    refund_id = models.CharField(_("provider's refund id"), max_length=128, blank=True)
    amount_minor = models.BigIntegerField(_("amount"), null=True, blank=True)
    currency = models.CharField(_("currency"), max_length=3, blank=True)
    settled_at = models.DateTimeField(_("settled"), null=True, blank=True)
    status = models.CharField(_("status in the file"), max_length=32, blank=True)
    payout = models.ForeignKey(Payout, verbose_name=_("payout"), null=True, blank=True,
                               on_delete=models.PROTECT, related_name="settlement_lines")
    outcome = models.CharField(_("outcome"), max_length=8, choices=SettlementOutcome.choices)
    differences = models.JSONField(_("differences"), default=list, blank=True)

    class Meta:
        verbose_name = _("settlement line")
        verbose_name_plural = _("settlement lines")
        ordering = ["settlement_id", "outcome", "line_number", "id"]
        indexes = [models.Index(fields=["settlement", "outcome"])]

    def __str__(self) -> str:
        return f"{self.refund_id} {self.outcome}"


class NotificationOutcome(models.TextChoices):
    APPLIED = "applied", _("Applied")
    UNCHANGED = "unchanged", _("Already known")
    LATE = "late", _("Came after the payout ended")
    UNKNOWN_PAYOUT = "unknown_payout", _("No payout of ours")


class GatewayNotification(models.Model):
    """A provider's verified notification about a refund, kept once per notification id:
    the same notification delivered again (providers retry until answered) is recognised
    and changes nothing. Forged or stale ones are refused before this and only logged."""

    gateway = models.CharField(_("gateway"), max_length=32)
    notification_id = models.CharField(_("provider's notification id"), max_length=128)
    event = models.CharField(_("event"), max_length=64)
    payout = models.ForeignKey(Payout, verbose_name=_("payout"), null=True, blank=True,
                               on_delete=models.PROTECT, related_name="notifications")
    received_at = models.DateTimeField(_("received"))
    outcome = models.CharField(_("outcome"), max_length=16, choices=NotificationOutcome.choices)
    state = models.CharField(_("state it reported"), max_length=16, blank=True)

    class Meta:
        verbose_name = _("gateway notification")
        verbose_name_plural = _("gateway notifications")
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["gateway", "notification_id"],
                                    name="gateway_notification_once"),
        ]

    def __str__(self) -> str:
        return f"{self.gateway} {self.event} {self.notification_id}"
