"""Stored refund policy versions: the TOML an admin wrote in the console, as a draft, a
draft proposed for publication, or published; and the audit of every step (PolicyChange).

A published version is what cases are assessed with and what `RefundCase.policy_ref` names,
so it never changes: saving or deleting one is refused here, not only in the console.
Drafts may be revised until they are proposed (policies/publishing.py: a second admin
approves a publication). A published version takes effect at its `effective_at`, which may
lie in the future: until then the version before it stays in force (policies/store.py).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from refunddesk.policy.schema import Policy, policy_from_toml


class PublishedVersionIsImmutable(ValueError):
    """Someone tried to change or delete a published policy version."""


class VersionState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PROPOSED = "proposed", _("Proposed for publication")
    PUBLISHED = "published", _("Published")


class PolicyVersionQuerySet(models.QuerySet["PolicyVersion"]):
    def delete(self) -> tuple[int, dict[str, int]]:
        # The administration deletes through querysets, past the model's delete().
        published = self.filter(state=VersionState.PUBLISHED).first()
        if published is not None:
            raise PublishedVersionIsImmutable(
                f"{published.ref} is published and cannot be deleted: cases may name it")
        return super().delete()


class PolicyVersion(models.Model):
    policy_id = models.SlugField(_("policy id"), max_length=64)
    version = models.PositiveIntegerField(_("version"))
    source = models.TextField(_("policy file (TOML)"))
    state = models.CharField(_("state"), max_length=16, choices=VersionState.choices,
                             default=VersionState.DRAFT)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("written by"),
                                   on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    created_at = models.DateTimeField(_("written"))
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("published by"),
                                     on_delete=models.SET_NULL, null=True, blank=True,
                                     related_name="+")
    published_at = models.DateTimeField(_("published"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=500, blank=True)
    # Four eyes: who asked for the publication; `published_by` is the other admin who
    # approved it. Kept after publishing, cleared when the proposal is declined or withdrawn.
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("proposed by"),
                                    on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="+")
    proposed_at = models.DateTimeField(_("proposed"), null=True, blank=True)
    # When the version is in force: asked for by the proposal (empty: once approved), fixed
    # when published. New assessments at a moment use the newest version in force then.
    effective_at = models.DateTimeField(_("takes effect"), null=True, blank=True)

    objects = PolicyVersionQuerySet.as_manager()

    class Meta:
        verbose_name = _("policy version")
        verbose_name_plural = _("policy versions")
        ordering = ["policy_id", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["policy_id", "version"],
                                    name="policy_version_unique"),
            models.CheckConstraint(
                condition=(Q(state="draft", published_at__isnull=True,
                             proposed_at__isnull=True)
                           | Q(state="proposed", published_at__isnull=True,
                               proposed_at__isnull=False)
                           | Q(state="published", published_at__isnull=False,
                               effective_at__isnull=False)),
                name="policy_version_state_has_times"),
        ]
        # policies/permissions.py checks it; core/staff.py gives it to the admin role.
        permissions = [("publish_policyversion", "Can publish policy versions")]

    def __str__(self) -> str:
        return self.ref

    def save(self, *args: Any, **kwargs: Any) -> None:
        # Checked against the row as stored, so the one save that publishes a draft passes
        # and every later one is refused, whatever the instance in memory says.
        if self._stored_state() == VersionState.PUBLISHED:
            raise PublishedVersionIsImmutable(
                f"{self.ref} is published and cannot be changed; save a new version")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        if self._stored_state() == VersionState.PUBLISHED:
            raise PublishedVersionIsImmutable(
                f"{self.ref} is published and cannot be deleted: cases may name it")
        return super().delete(*args, **kwargs)

    @property
    def ref(self) -> str:
        return f"{self.policy_id}@{self.version}"

    @property
    def is_published(self) -> bool:
        return self.state == VersionState.PUBLISHED

    @property
    def is_proposed(self) -> bool:
        return self.state == VersionState.PROPOSED

    def is_in_effect(self, at: datetime) -> bool:
        """Published and in force by `at` (it may have been superseded since)."""
        return (self.is_published and self.effective_at is not None
                and self.effective_at <= at)

    def is_scheduled(self, at: datetime) -> bool:
        """Published, to take effect after `at`."""
        return (self.is_published and self.effective_at is not None
                and self.effective_at > at)

    def policy(self) -> Policy:
        """The parsed policy (PolicyError when the text is not a valid policy)."""
        return policy_from_toml(self.source)

    def _stored_state(self) -> str | None:
        if self.pk is None:
            return None
        return (PolicyVersion.objects.filter(pk=self.pk)
                .values_list("state", flat=True).first())


class SimulationState(models.TextChoices):
    QUEUED = "queued", _("Waiting to run")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class PolicySimulation(models.Model):
    """A simulation asked for in the console: a policy text (a stored version's, or the
    editor's unsaved one) assessed over the cases of a period by the worker
    (policies/lab.py), with its progress and, once done, its figures. The text is kept as
    it was, so the figures can always be read beside what was simulated."""

    policy_id = models.CharField(_("policy"), max_length=64)
    ref = models.CharField(_("version simulated"), max_length=80)
    source = models.TextField(_("policy text"))
    start = models.DateField(_("from"))
    end = models.DateField(_("to"))
    time_zone = models.CharField(_("time zone"), max_length=64)
    product = models.CharField(_("product"), max_length=64, blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                     related_name="policy_simulations")
    requested_at = models.DateTimeField(_("asked for"))
    state = models.CharField(_("state"), max_length=8, choices=SimulationState.choices,
                             default=SimulationState.QUEUED)
    cases_total = models.PositiveIntegerField(null=True, blank=True)
    cases_done = models.PositiveIntegerField(default=0)
    result = models.JSONField(_("figures"), null=True, blank=True)
    error = models.TextField(blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("policy simulation")
        verbose_name_plural = _("policy simulations")
        ordering = ["-requested_at", "-id"]

    def __str__(self) -> str:
        return f"simulation of {self.ref} over {self.start}–{self.end}"

    @property
    def is_running(self) -> bool:
        return self.state in (SimulationState.QUEUED, SimulationState.RUNNING)

    @property
    def progress_percent(self) -> int:
        if self.state == SimulationState.DONE:
            return 100
        if not self.cases_total:
            return 0
        return min(99, self.cases_done * 100 // self.cases_total)
class PolicyChangeKind(models.TextChoices):
    """Every step of a policy version's life the audit records, with its label: one closed
    list, so a misspelt kind fails the change that writes it."""

    DRAFT_SAVED = "draft_saved", _("Draft saved")
    DRAFT_REVISED = "draft_revised", _("Draft revised")
    PROPOSED = "proposed", _("Publication proposed")
    WITHDRAWN = "withdrawn", _("Proposal withdrawn")
    DECLINED = "declined", _("Publication declined")
    PUBLISHED = "published", _("Approved and published, in force at once")
    SCHEDULED = "scheduled", _("Approved and published, to take effect later")
    TOOK_EFFECT = "took_effect", _("Took effect")


class PolicyChange(models.Model):
    """One step of a policy version: who, when, what. Written in the transaction of the
    step (policies/actions.py, policies/publishing.py), never edited.

    `changed_by` is the admin who acted; a step of the desk itself (a scheduled version
    taking effect) has none and names its system actor in `actor_name`. The version's id
    and number are copied, so the record outlives a deleted draft."""

    at = models.DateTimeField(_("when"))
    version = models.ForeignKey(PolicyVersion, verbose_name=_("policy version"),
                                on_delete=models.SET_NULL, null=True, blank=True,
                                related_name="changes")
    policy_id = models.SlugField(_("policy id"), max_length=64)
    version_number = models.PositiveIntegerField(_("version"))
    kind = models.CharField(_("what"), max_length=16, choices=PolicyChangeKind.choices)
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("changed by"),
                                   on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="policy_changes")
    actor_name = models.CharField(_("actor"), max_length=64, blank=True)
    # proposed / published / scheduled: {"effective_at"}; declined: {"reason"};
    # draft_saved / draft_revised / proposed: {"note"}; took_effect: {"noticed_at"}.
    details = models.JSONField(_("details"), default=dict, blank=True)

    class Meta:
        verbose_name = _("policy change")
        verbose_name_plural = _("policy changes")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["policy_id", "-at"], name="policy_change_by_policy")]
        constraints = [
            # The worker's pass records a version taking effect once, however many workers
            # run it at the same moment.
            models.UniqueConstraint(fields=["version"],
                                    condition=Q(kind="took_effect"),
                                    name="policy_took_effect_once"),
        ]

    def __str__(self) -> str:
        return f"{self.policy_id}@{self.version_number} {self.kind} {self.at.isoformat()}"

    @property
    def ref(self) -> str:
        return f"{self.policy_id}@{self.version_number}"
