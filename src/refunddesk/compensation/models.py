"""A mass compensation run, the order lines it plans to compensate, and its audit.

A run changes only through actions.py (one function per step, the row locked, one
RunEvent in the same transaction) and the task in running.py; the administration only
shows it. Money is integer minor units in each line's order's currency: a run's totals
are per currency, never summed across them.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from refunddesk.billing.models import Account, OrderLine
from refunddesk.cases.models import RefundCase
from refunddesk.compensation import remedies
from refunddesk.compensation.events import RunEventType
from refunddesk.compensation.states import RunState


class Remedy(models.TextChoices):
    REFUND_TIME = remedies.REFUND_TIME, _("Refund of the affected time")
    CREDIT_PERCENT = remedies.CREDIT_PERCENT, _("Credit of a percentage of the price")
    CREDIT_FIXED = remedies.CREDIT_FIXED, _("Credit of a fixed amount per line")
    EXTENSION = remedies.EXTENSION, _("Extension of the service end")


class CreditTo(models.TextChoices):
    BALANCE = "balance", _("Account balance (cash)")
    GIFT = "gift", _("Gift credit")


class Source(models.TextChoices):
    CONSOLE = "console", _("console")
    API = "api", _("API")


class CompensationRun(models.Model):
    # What is selected: lines of these products, SKUs (exact, or a prefix ending in "*")
    # and carrying all of these flags, whose service was active during the outage.
    products = models.JSONField(_("products"), default=list, blank=True)
    skus = models.JSONField(_("SKUs"), default=list, blank=True)
    flags = models.JSONField(_("line flags"), default=list, blank=True)
    outage_start = models.DateTimeField(_("outage start"))
    outage_end = models.DateTimeField(_("outage end"))
    # What each line gets (remedies.py).
    remedy = models.CharField(_("remedy"), max_length=16, choices=Remedy.choices)
    percent_hundredths = models.PositiveIntegerField(_("percentage (hundredths)"), null=True,
                                                     blank=True)
    fixed_amounts = models.JSONField(_("fixed amounts (minor units per currency)"),
                                     default=dict, blank=True)
    credit_to = models.CharField(_("credit to"), max_length=8, choices=CreditTo.choices,
                                 blank=True)
    extension_days = models.PositiveIntegerField(_("extension (days)"), null=True, blank=True)
    message_en = models.TextField(_("message to customers (English)"), blank=True)
    message_zh = models.TextField(_("message to customers (Chinese)"), blank=True)

    state = models.CharField(_("state"), max_length=20, choices=RunState.choices,
                             default=RunState.DRAFT)
    source = models.CharField(_("made in"), max_length=8, choices=Source.choices,
                              default=Source.CONSOLE)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("created by"),
                                   on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("created"))
    # The dry run the approver saw: its figures (per currency) and when it was worked out.
    planned_at = models.DateTimeField(_("dry run worked out"), null=True, blank=True)
    figures = models.JSONField(_("dry run figures"), default=dict, blank=True)
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("approved by"),
                                    on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+")
    approved_at = models.DateTimeField(_("approved"), null=True, blank=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)

    # Progress, written in the transaction that compensates each customer.
    customers_total = models.PositiveIntegerField(_("customers"), default=0)
    customers_done = models.PositiveIntegerField(_("customers done"), default=0)
    cases_opened = models.PositiveIntegerField(_("cases opened"), default=0)
    # Taken by a worker as every outbox row is (core/leasing.py): due once
    # `next_attempt_at` has come (None: no worker is to take it); `attempts` counts the
    # claims, and a worker whose claim is not the latest stops (the fencing token). The
    # worker moves `next_attempt_at` on with each customer, as its lease.
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)

    class Meta:
        verbose_name = _("compensation run")
        verbose_name_plural = _("compensation runs")
        ordering = ["-created_at", "-id"]
        permissions = [("run_compensation",
                        "Can plan, approve (another admin's) and run mass compensations")]
        indexes = [models.Index(fields=["state", "next_attempt_at"], name="compensation_due")]
        constraints = [
            models.CheckConstraint(condition=Q(outage_end__gt=models.F("outage_start")),
                                   name="compensation_outage_ends_after_it_starts"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_remedy_display()} ({self.state})"

    @property
    def window(self) -> remedies.Window:
        return remedies.Window(self.outage_start, self.outage_end)

    @property
    def remedy_spec(self) -> remedies.Remedy:
        return remedies.Remedy(self.remedy, percent_hundredths=self.percent_hundredths or 0,
                               fixed=dict(self.fixed_amounts or {}),
                               credit_to=self.credit_to or "balance",
                               extension_days=self.extension_days)

    @property
    def progress_percent(self) -> int:
        if self.state == RunState.FINISHED:
            return 100
        if not self.customers_total:
            return 0
        return min(99, self.customers_done * 100 // self.customers_total)


class ItemState(models.TextChoices):
    PENDING = "pending", _("To compensate")
    DONE = "done", _("Compensated")
    SKIPPED = "skipped", _("Skipped when run")
    EXCLUDED = "excluded", _("Left out")


class CompensationItem(models.Model):
    """One order line the run's dry run matched: what it gets (pending, then done with its
    case) or why it gets nothing (excluded by the dry run, skipped by the run). Unique per
    run and line, and marked done in the transaction that opens its case: a line is
    compensated once by a run, however often the run is taken up again."""

    run = models.ForeignKey(CompensationRun, on_delete=models.CASCADE, related_name="items")
    order_line = models.ForeignKey(OrderLine, on_delete=models.PROTECT,
                                   related_name="compensation_items")
    # The customer, kept here to take a run's work customer by customer.
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="+")
    currency = models.CharField(_("currency"), max_length=3)
    amount_minor = models.BigIntegerField(_("amount"), default=0)
    affected = models.DurationField(_("affected time"))
    extended_to = models.DateTimeField(_("service extended to"), null=True, blank=True)
    # The amount was cut to what the order's payments have left to refund.
    is_capped = models.BooleanField(_("capped"), default=False)
    state = models.CharField(_("state"), max_length=8, choices=ItemState.choices)
    # Why it gets nothing (remedies.py's codes), and what it refers to (a run, a case).
    reason = models.CharField(_("reason"), max_length=32, blank=True)
    reason_ref = models.CharField(_("refers to"), max_length=200, blank=True)
    case = models.ForeignKey(RefundCase, on_delete=models.PROTECT, null=True, blank=True,
                             related_name="compensation_items")

    class Meta:
        verbose_name = _("compensated line")
        verbose_name_plural = _("compensated lines")
        ordering = ["run_id", "account_id", "order_line_id"]
        constraints = [
            models.UniqueConstraint(fields=["run", "order_line"],
                                    name="compensation_line_once_per_run"),
            models.CheckConstraint(condition=Q(amount_minor__gte=0),
                                   name="compensation_amount_not_negative"),
            models.CheckConstraint(condition=~Q(state="done") | Q(case__isnull=False),
                                   name="compensation_done_has_its_case"),
        ]
        indexes = [
            # The run takes its pending lines customer by customer.
            models.Index(fields=["run", "state", "account"], name="compensation_work"),
            # Other runs look up whether a line was compensated already.
            models.Index(fields=["order_line", "state"], name="compensation_of_line"),
        ]

    def __str__(self) -> str:
        return f"{self.run_id}/{self.order_line_id} {self.state}"


class RunEvent(models.Model):
    """Append-only audit of a run: who did which step, when, from which state to which."""

    run = models.ForeignKey(CompensationRun, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(_("when"))
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("who"),
                              on_delete=models.PROTECT, null=True, blank=True,
                              related_name="+")
    # How the audit names an actor that is no user (a part of the system).
    actor_name = models.CharField(_("actor"), max_length=64, blank=True)
    kind = models.CharField(_("what"), max_length=16, choices=RunEventType.choices)
    from_state = models.CharField(_("state before"), max_length=20, blank=True)
    to_state = models.CharField(_("state after"), max_length=20, blank=True)
    details = models.JSONField(_("details"), default=dict, blank=True)

    class Meta:
        verbose_name = _("compensation run event")
        verbose_name_plural = _("compensation run events")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.run_id} {self.kind}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise ValueError("compensation run events are append-only")
        super().save(*args, **kwargs)
