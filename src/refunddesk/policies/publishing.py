"""Publishing a policy version takes two admins (four eyes, like large refunds in
cases/actions/decisions.py): one proposes a draft, another approves it — or declines it with
a reason, or the proposer withdraws it. An approved version is published: it takes effect at
once or at the time the proposal (or the approver) set, on which policies/store.py picks it.

Each step is one function with a keyword-only `actor`: it checks the actor's role, locks
every version of the policy (publishing and saving versions of one policy take turns, and
the checks below are made under that lock, never before it), changes the row and writes its
PolicyChange in one transaction. While proposed, a draft cannot be edited (actions.py): the
approver approves exactly the text they read, and `seen` (the proposal's time, as the page
showed it) refuses an approval of a proposal withdrawn and made again since.

There is no way for one admin to publish alone: `approve_publication` refuses the proposer,
and `propose_and_approve` (for the demo and tests) names both people and goes through the
same two steps.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from refunddesk.cases.actors import POLICY_SCHEDULE, require_system_may
from refunddesk.core import invalidation
from refunddesk.inbox.models import NoticeKind
from refunddesk.inbox.recipients import policy_publishers
from refunddesk.inbox.telling import tell
from refunddesk.policies import permissions
from refunddesk.policies.actions import PolicyStoreError, lock_versions
from refunddesk.policies.history import record
from refunddesk.policies.models import PolicyChange, PolicyChangeKind, PolicyVersion, VersionState
from refunddesk.policy.schema import PolicyError


def _refuse(message: str) -> PolicyStoreError:
    return PolicyStoreError([message])


def _locked(version: PolicyVersion) -> tuple[PolicyVersion, list[PolicyVersion]]:
    """The version's row as stored and every version of its policy, all locked."""
    versions = lock_versions(version.policy_id)
    row = next((v for v in versions if v.pk == version.pk), None)
    if row is None:
        raise _refuse(_("%(ref)s no longer exists.") % {"ref": version.ref})
    return row, versions


def _check_publishable(row: PolicyVersion, versions: list[PolicyVersion]) -> None:
    later = [v for v in versions if v.is_published and v.version > row.version]
    if later:
        raise _refuse(_("%(later)s is published already and is newer than %(ref)s: save a "
                        "new version instead.") % {"later": later[-1].ref, "ref": row.ref})
    try:
        # Checked again: the format may have changed since the draft was written.
        row.policy()
    except PolicyError as error:
        raise PolicyStoreError(error.problems) from None


def _when(at: datetime) -> str:
    return timezone.localtime(at).strftime("%Y-%m-%d %H:%M %Z")


def _check_effective(row: PolicyVersion, versions: list[PolicyVersion],
                     effective_at: datetime) -> None:
    """Versions take effect in the order of their numbers: never before an older one."""
    older = [v for v in versions if v.is_published and v.version < row.version
             and v.effective_at is not None and v.effective_at > effective_at]
    if older:
        latest = older[-1].effective_at
        assert latest is not None  # chosen above for having one
        raise _refuse(_("%(older)s takes effect at %(when)s: %(ref)s cannot take effect "
                        "before it. Choose that time or a later one.")
                      % {"older": older[-1].ref, "when": _when(latest),
                         "ref": row.ref})


def _check_future(effective_at: datetime | None, now: datetime) -> None:
    if effective_at is None:
        return
    if timezone.is_naive(effective_at):
        raise ValueError("effective_at must be an aware datetime")
    if effective_at < now:
        raise _refuse(_("The time to take effect has passed: choose a later one, or none "
                        "to take effect once approved."))


def _check_seen(row: PolicyVersion, seen: str | None) -> None:
    if seen is not None and (row.proposed_at is None or row.proposed_at.isoformat() != seen):
        raise _refuse(_("The proposal to publish %(ref)s has changed since you opened the "
                        "page. Nothing was changed: read it again.") % {"ref": row.ref})


def _notice_data(row: PolicyVersion, actor: User, **extra: Any) -> dict[str, Any]:
    return {"by": actor.get_username(), "ref": row.ref, "policy_id": row.policy_id,
            "version": row.version, **extra}


def propose_publication(version: PolicyVersion, *, actor: object,
                        effective_at: datetime | None = None, note: str = "",
                        now: datetime | None = None) -> PolicyVersion:
    """Ask another admin to publish the draft `version`, to take effect once approved or at
    `effective_at`. The other admins are told in their inbox."""
    actor = permissions.require_publish(actor)
    now = now or timezone.now()
    _check_future(effective_at, now)
    with transaction.atomic():
        row, versions = _locked(version)
        if row.is_published:
            raise _refuse(_("%(ref)s is already published.") % {"ref": row.ref})
        if row.is_proposed:
            raise _refuse(_("%(ref)s is already proposed for publication.") % {"ref": row.ref})
        _check_publishable(row, versions)
        if effective_at is not None:
            _check_effective(row, versions, effective_at)
        row.state, row.proposed_by, row.proposed_at = VersionState.PROPOSED, actor, now
        row.effective_at = effective_at
        row.save(update_fields=["state", "proposed_by", "proposed_at", "effective_at"])
        record(row, PolicyChangeKind.PROPOSED, actor=actor, at=now, effective_at=effective_at,
               note=note.strip())
        tell(policy_publishers(), NoticeKind.PUBLICATION_WANTED, actor=actor, now=now,
             data=_notice_data(row, actor))
    return row


def approve_publication(version: PolicyVersion, *, actor: object, seen: str | None = None,
                        effective_at: datetime | None = None,
                        now: datetime | None = None) -> PolicyVersion:
    """The second admin approves: the version is published, in force at `effective_at`
    (given here), else at the time the proposal asked for, else at once. A time asked for
    that has passed while the proposal waited means at once. Never by the proposer."""
    actor = permissions.require_publish(actor)
    now = now or timezone.now()
    _check_future(effective_at, now)
    with transaction.atomic():
        row, versions = _locked(version)
        if row.is_published:
            raise _refuse(_("%(ref)s is already published.") % {"ref": row.ref})
        if not row.is_proposed:
            raise _refuse(_("%(ref)s is not proposed for publication: propose it first.")
                          % {"ref": row.ref})
        _check_seen(row, seen)
        permissions.require_approve(actor, row)
        _check_publishable(row, versions)
        asked = row.effective_at
        in_force_at = max(effective_at or asked or now, now)
        _check_effective(row, versions, in_force_at)
        row.state, row.published_by, row.published_at = VersionState.PUBLISHED, actor, now
        row.effective_at = in_force_at
        row.save(update_fields=["state", "published_by", "published_at", "effective_at"])
        invalidation.written(invalidation.POLICY_VERSIONS)
        kind = (PolicyChangeKind.SCHEDULED if in_force_at > now
                else PolicyChangeKind.PUBLISHED)
        record(row, kind, actor=actor, at=now, effective_at=in_force_at,
               asked_for=asked if asked != in_force_at else None,
               proposed_by=row.proposed_by.get_username() if row.proposed_by else None)
    return row


def decline_publication(version: PolicyVersion, *, actor: object, reason: str,
                        seen: str | None = None, now: datetime | None = None) -> PolicyVersion:
    """Another admin declines the proposal, saying why: the version is a draft again, and
    the proposer is told."""
    actor = permissions.require_publish(actor)
    now = now or timezone.now()
    with transaction.atomic():
        row, _versions = _locked(version)
        if not row.is_proposed:
            raise _refuse(_("%(ref)s is not proposed for publication.") % {"ref": row.ref})
        _check_seen(row, seen)
        if row.proposed_by_id == actor.pk:
            raise _refuse(_("You proposed %(ref)s yourself: withdraw the proposal instead.")
                          % {"ref": row.ref})
        if not reason.strip():
            raise _refuse(_("Say why you decline publishing %(ref)s.") % {"ref": row.ref})
        proposer = row.proposed_by
        _back_to_draft(row)
        record(row, PolicyChangeKind.DECLINED, actor=actor, at=now, reason=reason.strip())
        if proposer is not None:
            tell([proposer], NoticeKind.PUBLICATION_DECLINED, actor=actor, now=now,
                 data=_notice_data(row, actor, reason=reason.strip()))
    return row


def withdraw_proposal(version: PolicyVersion, *, actor: object,
                      now: datetime | None = None) -> PolicyVersion:
    """The proposer takes the proposal back: the version is a draft again (to be edited, or
    proposed again)."""
    actor = permissions.require_publish(actor)
    now = now or timezone.now()
    with transaction.atomic():
        row, _versions = _locked(version)
        if not row.is_proposed:
            raise _refuse(_("%(ref)s is not proposed for publication.") % {"ref": row.ref})
        if row.proposed_by_id != actor.pk:
            raise _refuse(_("Only the admin who proposed %(ref)s withdraws the proposal; "
                            "decline it instead, saying why.") % {"ref": row.ref})
        _back_to_draft(row)
        record(row, PolicyChangeKind.WITHDRAWN, actor=actor, at=now)
    return row


def _back_to_draft(row: PolicyVersion) -> None:
    row.state, row.proposed_by, row.proposed_at = VersionState.DRAFT, None, None
    row.effective_at = None
    row.save(update_fields=["state", "proposed_by", "proposed_at", "effective_at"])


def propose_and_approve(version: PolicyVersion, *, proposed_by: object, approved_by: object,
                        effective_at: datetime | None = None,
                        now: datetime | None = None) -> PolicyVersion:
    """Both steps at once, each by its own admin: for the demo's history and for tests,
    which need a published version in one call. All or nothing; the approval refuses
    `approved_by` being `proposed_by` as it does everywhere. Not offered by the console or
    the API, where the two steps are two people's."""
    now = now or timezone.now()
    with transaction.atomic():
        proposed = propose_publication(version, actor=proposed_by, effective_at=effective_at,
                                       now=now)
        return approve_publication(proposed, actor=approved_by, now=now)


def record_taking_effect(now: datetime) -> int:
    """The worker's pass: write the audit row of each scheduled version whose time has come
    (once per version, however many workers run it). Which version is in force never waits
    for this (store.py selects by time); only the history does."""
    require_system_may(POLICY_SCHEDULE, "policy.took_effect")
    due = list(PolicyVersion.objects.filter(
        state=VersionState.PUBLISHED, effective_at__lte=now,
        effective_at__gt=F("published_at"))
        .exclude(changes__kind=PolicyChangeKind.TOOK_EFFECT)
        .order_by("effective_at", "version").values_list("pk", flat=True))
    written = 0
    for pk in due:
        try:
            with transaction.atomic():
                row = PolicyVersion.objects.select_for_update().get(pk=pk)
                if PolicyChange.objects.filter(version=row,
                                               kind=PolicyChangeKind.TOOK_EFFECT).exists():
                    continue
                assert row.effective_at is not None
                record(row, PolicyChangeKind.TOOK_EFFECT, actor=POLICY_SCHEDULE,
                       at=row.effective_at, noticed_at=now)
        except IntegrityError:
            continue  # another worker wrote it a moment ago (SQLite locks no rows)
        written += 1
    return written
