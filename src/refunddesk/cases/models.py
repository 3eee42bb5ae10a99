"""Refund cases and their append-only history.

A case's state only changes through cases/actions.py; every change writes one CaseEvent in
the same transaction. Money is integer minor units in the case's currency (the order's).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from refunddesk.billing.models import Account, Order, OrderLine
from refunddesk.cases.document_kinds import DocumentKind
from refunddesk.cases.events import CaseEventType
from refunddesk.cases.states import State
from refunddesk.policy.money import Money


class Channel(models.TextChoices):
    PORTAL = "portal", _("Customer portal")
    AGENT = "agent", _("Agent on the customer's behalf")
    EMAIL = "email", _("E-mail")
    API = "api", _("API")
    # Opened by a mass compensation run (compensation/), approved by the run itself.
    BULK = "bulk", _("Mass compensation")


class ManagedReason(models.Model):
    """An entry of a list the admins keep in both languages (why customers ask, why staff
    refuse), so requests and decisions can be counted by reason."""

    code = models.SlugField(_("code"), max_length=48, unique=True)
    name_zh = models.CharField(_("name (Chinese)"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=100)
    position = models.PositiveIntegerField(_("position"), default=0)

    class Meta:
        abstract = True
        ordering = ["position", "code"]

    def __str__(self) -> str:
        return self.name_en

    def name_for(self, language: str) -> str:
        return self.name_zh if language.startswith("zh") else self.name_en


class ReasonCategory(ManagedReason):
    """Why customers ask for refunds; staff edit the list in the administration."""

    is_active = models.BooleanField(_("offered to customers"), default=True)

    class Meta(ManagedReason.Meta):
        verbose_name = _("refund reason")
        verbose_name_plural = _("refund reasons")


class RejectionReason(ManagedReason):
    """Why a refund is refused: a list the admins keep, so rejections can be counted."""

    is_active = models.BooleanField(_("offered to staff"), default=True)

    class Meta(ManagedReason.Meta):
        verbose_name = _("rejection reason")
        verbose_name_plural = _("rejection reasons")


class ApprovalLimit(models.Model):
    """The largest refund a role may approve alone, per currency. A staff member's limit is
    the highest of their roles'; a role with permission to approve any amount has none."""

    group = models.ForeignKey(Group, verbose_name=_("role"), on_delete=models.CASCADE,
                              related_name="approval_limits")
    currency = models.CharField(_("currency"), max_length=3)
    limit_minor = models.BigIntegerField(_("limit (minor units)"))

    class Meta:
        verbose_name = _("approval limit")
        verbose_name_plural = _("approval limits")
        constraints = [
            models.UniqueConstraint(fields=["group", "currency"], name="one_limit_per_currency"),
            models.CheckConstraint(condition=Q(limit_minor__gte=0),
                                   name="approval_limit_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.group} {self.currency} {self.limit_minor}"


class RefundCase(models.Model):
    tracking_number = models.CharField(_("tracking number"), max_length=13, unique=True)
    account = models.ForeignKey(Account, verbose_name=_("account"), on_delete=models.PROTECT,
                                related_name="refund_cases")
    order = models.ForeignKey(Order, verbose_name=_("order"), on_delete=models.PROTECT,
                              related_name="refund_cases")
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    reason_category = models.ForeignKey(
        ReasonCategory, verbose_name=_("reason"), on_delete=models.PROTECT, null=True,
        blank=True, related_name="cases")
    reason_text = models.TextField(_("reason in the customer's words"), blank=True)
    language = models.CharField(_("customer's language"), max_length=8, default="zh-hans")
    state = models.CharField(_("state"), max_length=20, choices=State.choices,
                             default=State.SUBMITTED)
    # The assessment as the policy engine gave it when the case was submitted: the policy
    # version, figures and explanation steps. Never recomputed: a case keeps the version
    # it was assessed with.
    policy_ref = models.CharField(_("policy"), max_length=80)
    assessment = models.JSONField(_("assessment"))
    currency = models.CharField(_("currency"), max_length=3)
    assessed_total_minor = models.BigIntegerField(_("assessed refund"))
    approved_total_minor = models.BigIntegerField(_("approved refund"), null=True, blank=True)
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("assignee"),
                                 on_delete=models.SET_NULL, null=True, blank=True,
                                 related_name="assigned_cases")
    first_response_due = models.DateTimeField(_("first response due"), null=True, blank=True)
    review_due = models.DateTimeField(_("review due"), null=True, blank=True)
    info_due = models.DateTimeField(_("information due"), null=True, blank=True)
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("decided by"),
                                   on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="decided_cases")
    decision_note = models.TextField(_("decision note"), blank=True)
    rejection_reason = models.ForeignKey(
        RejectionReason, verbose_name=_("rejection reason"), on_delete=models.PROTECT,
        null=True, blank=True, related_name="cases")
    # Set when rejected: when the rejection becomes final unless appealed (the policy's
    # window); indexed for the sweep that closes them.
    appeal_closes_at = models.DateTimeField(_("appeal possible until"), null=True,
                                            blank=True, db_index=True)
    appealed_at = models.DateTimeField(_("appealed"), null=True, blank=True)
    appeal_text = models.TextField(_("appeal"), blank=True)
    # The staff member whose decision an appeal contests: the appeal goes to someone else.
    appeal_of_decision_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("appealed decision made by"),
        on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    # Four eyes: an approval above the policy's threshold waits here for a second person.
    proposal = models.JSONField(_("approval waiting for confirmation"), null=True, blank=True)
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("proposed by"),
                                    on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="+")
    escalated_at = models.DateTimeField(_("escalated"), null=True, blank=True)
    requested_documents = models.JSONField(_("documents asked for"), default=list,
                                           blank=True)
    # SLA: the next moment the desk owes the customer something (first response, then the
    # decision); empty while the clock is paused or once decided. Kept by the actions so
    # the queue can filter and sort on one indexed column.
    first_responded_at = models.DateTimeField(_("first response"), null=True, blank=True)
    sla_due_at = models.DateTimeField(_("due"), null=True, blank=True)
    sla_paused_at = models.DateTimeField(_("clock paused"), null=True, blank=True)
    # A deadline of the case counted in business days ran over days for which the business
    # calendar has no data (cases/sla.py): it is the weekday rule's estimate, and the
    # console says so on the case and in the queue.
    deadlines_estimated = models.BooleanField(_("deadline counted without calendar data"),
                                              default=False)
    # Agent-assisted applications: who opened the case and how the caller was identified.
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("opened by"),
                                  on_delete=models.SET_NULL, null=True, blank=True,
                                  related_name="+")
    identity_check = models.JSONField(_("identity check"), default=dict, blank=True)
    # One submission whose lines fall under different refund policies opens one case per
    # policy; they share this key, so the confirmation page and the one "received" e-mail
    # can name them all. Empty for a case opened on its own.
    submission = models.UUIDField(_("submitted together as"), null=True, blank=True,
                                  editable=False, db_index=True)
    submitted_at = models.DateTimeField(_("submitted"))
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("refund case")
        verbose_name_plural = _("refund cases")
        ordering = ["-submitted_at"]
        indexes = [
            models.Index(fields=["account", "submitted_at"]),
            models.Index(fields=["sla_due_at", "id"]),
            models.Index(fields=["assignee", "state"]),
            # The queue reads one state at a time in its sort order, resuming after the
            # last row seen (keyset pagination); the id makes the order total.
            models.Index(fields=["state", "submitted_at", "id"],
                         name="case_queue_state_submitted"),
            models.Index(fields=["state", "sla_due_at", "id"], name="case_queue_state_due"),
            # The SLA order ends with the cases without a due time, oldest first.
            models.Index(fields=["state", "submitted_at", "id"],
                         condition=Q(sla_due_at__isnull=True),
                         name="case_queue_state_unclocked"),
            models.Index(fields=["state", "assessed_total_minor", "id"],
                         name="case_queue_state_amount"),
            # Reports count cases by the day they were submitted, decided, appealed.
            models.Index(fields=["submitted_at"], name="case_submitted"),
            models.Index(fields=["decided_at"], name="case_decided"),
            models.Index(fields=["appealed_at"], name="case_appealed"),
        ]
        # What each staff role may do; core/staff.py gives them to the role groups and
        # cases/permissions.py checks them.
        permissions = [
            ("work_case", "Can work refund cases: claim, notes, questions, escalation"),
            ("decide_case", "Can approve and reject refund cases up to an approval limit"),
            ("approve_any_amount", "Can approve refunds above every approval limit"),
            ("override_assessment", "Can approve more than the assessed refund"),
            ("confirm_approval", "Can confirm another staff member's approval"),
            ("hear_appeal", "Can decide appeals"),
            ("open_case_for_customer", "Can open refund cases on a customer's behalf"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(assessed_total_minor__gte=0),
                                   name="case_assessed_total_not_negative"),
            models.CheckConstraint(
                condition=Q(approved_total_minor__isnull=True)
                | Q(approved_total_minor__gte=0),
                name="case_approved_total_not_negative"),
        ]

    def __str__(self) -> str:
        return self.tracking_number

    @property
    def assessed_total(self) -> Money:
        return Money(self.assessed_total_minor, self.currency)

    @property
    def approved_total(self) -> Money | None:
        if self.approved_total_minor is None:
            return None
        return Money(self.approved_total_minor, self.currency)

    @property
    def state_label(self) -> str:
        return str(State(self.state).label)

    def submitted_together(self) -> list[RefundCase]:
        """This case and the others its submission opened (lines under other refund
        policies), in the order they were opened; just this case when it was alone."""
        if self.submission is None:
            return [self]
        return list(RefundCase.objects.filter(submission=self.submission,
                                              account_id=self.account_id)
                    .select_related("order").prefetch_related("lines__order_line__product")
                    .order_by("pk"))


class CaseLine(models.Model):
    """One order line a case asks a refund for, with what the assessment gave it.

    `holds_line` is true while the case keeps the line (every state but withdrawn and
    closed); the partial unique index on it is what makes two simultaneous applications
    for the same line end in one case and one refusal, on SQLite and PostgreSQL alike.
    """

    case = models.ForeignKey(RefundCase, on_delete=models.CASCADE, related_name="lines")
    order_line = models.ForeignKey(OrderLine, on_delete=models.PROTECT,
                                   related_name="case_lines")
    rule = models.CharField(_("rule"), max_length=64, blank=True)
    excluded_reason = models.CharField(_("not refundable because"), max_length=64, blank=True)
    assessed_minor = models.BigIntegerField(_("assessed refund"))
    approved_minor = models.BigIntegerField(_("approved refund"), null=True, blank=True)
    # When the approved refund stops the line's service (policy/service_end.py); empty
    # while undecided, and for lines whose refund leaves a service running.
    service_ends_at = models.DateTimeField(_("service ends"), null=True, blank=True)
    # When a mass compensation moved the line's service end later (no money): the new end,
    # announced to the billing system by a `subscription.extended` webhook.
    service_extended_to = models.DateTimeField(_("service extended to"), null=True,
                                               blank=True)
    holds_line = models.BooleanField(default=True)

    class Meta:
        verbose_name = _("case line")
        verbose_name_plural = _("case lines")
        constraints = [
            models.UniqueConstraint(fields=["order_line"], condition=Q(holds_line=True),
                                    name="one_open_case_per_order_line"),
            models.UniqueConstraint(fields=["case", "order_line"], name="case_line_once"),
            models.CheckConstraint(condition=Q(assessed_minor__gte=0),
                                   name="case_line_assessed_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id}/{self.order_line_id}"


class CaseEvent(models.Model):
    """Append-only audit: who did what to a case, when, and what changed."""

    case = models.ForeignKey(RefundCase, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(_("when"))
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("who"),
                              on_delete=models.SET_NULL, null=True, blank=True,
                              related_name="case_events")
    actor_kind = models.CharField(_("acting as"), max_length=12)  # customer | staff | system
    action = models.CharField(_("what"), max_length=40, choices=CaseEventType.choices)
    from_state = models.CharField(_("state before"), max_length=20, blank=True)
    to_state = models.CharField(_("state after"), max_length=20, blank=True)
    data = models.JSONField(_("details"), default=dict, blank=True)
    is_customer_visible = models.BooleanField(_("shown to the customer"), default=True)

    class Meta:
        verbose_name = _("case event")
        verbose_name_plural = _("case events")
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["case", "at"]),
                   # Reports walk the state changes since a day (the backlog) and the
                   # worker reads the events since its mark (reports/timings.py).
                   models.Index(fields=["at"], name="case_event_at"),
                   # The backlog's walk reads only the state changes, from the index alone
                   # (PostgreSQL; the condition is written as the query writes it).
                   models.Index(fields=["at"], name="case_event_move",
                                include=["from_state", "to_state"],
                                condition=~Q(to_state="") & ~Q(to_state=F("from_state"))),
                   # The staff report's decisions: about one event in six.
                   models.Index(fields=["at"], name="case_event_decision",
                                condition=Q(action__in=[CaseEventType.APPROVED,
                                                        CaseEventType.REJECTED])),
                   # The staff report's four-eyes confirmations: a few in a thousand events.
                   models.Index(fields=["at"], name="case_event_confirmation",
                                condition=Q(action=CaseEventType.APPROVED,
                                            data__has_key="proposed_by"))]

    def __str__(self) -> str:
        return f"{self.case_id} {self.action}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise ValueError("case events are append-only")
        super().save(*args, **kwargs)


def keep_given_path(document: Document, path: str) -> str:
    # actions.py passes the full storage path (cases/<case>/<uuid>-<sanitised name>); the
    # upload's own name never becomes a path.
    return path


class Document(models.Model):
    case = models.ForeignKey(RefundCase, on_delete=models.CASCADE, related_name="documents")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                    null=True, blank=True, related_name="+")
    uploaded_by_kind = models.CharField(max_length=12)  # customer | staff
    file = models.FileField(upload_to=keep_given_path, max_length=300)
    # The kind of material an agent asked for that this file answers (its upload slot on
    # the portal); empty for material sent without being asked for a kind.
    kind = models.CharField(_("kind of document"), max_length=32, choices=DocumentKind.choices,
                            blank=True, default="")
    name = models.CharField(_("file name"), max_length=150)
    content_type = models.CharField(_("type"), max_length=40)
    size = models.PositiveBigIntegerField(_("size"))
    sha256 = models.CharField(max_length=64)
    uploaded_at = models.DateTimeField(_("uploaded"))

    class Meta:
        verbose_name = _("document")
        verbose_name_plural = _("documents")
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return self.name


class Message(models.Model):
    case = models.ForeignKey(RefundCase, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                               null=True, blank=True, related_name="+")
    author_kind = models.CharField(max_length=12)  # customer | staff | system
    body = models.TextField(_("message"))
    is_internal = models.BooleanField(_("internal note (staff only)"), default=False)
    created_at = models.DateTimeField(_("written"))

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.case_id} {self.author_kind}"
