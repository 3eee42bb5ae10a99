"""Every change to refund policies but publishing: write a draft version, choose the policy
of a product. Each is one function with a keyword-only `actor`, checks the actor's role
first, validates everything before it writes, and runs in one transaction with its audit
row (PolicyChange), so bad input changes nothing. The console, commands and tests all come
through here; publishing, which takes two admins, is policies/publishing.py.
"""

from __future__ import annotations

import re
from datetime import datetime

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from refunddesk.billing.models import Product
from refunddesk.policies import permissions
from refunddesk.policies.history import record
from refunddesk.policies.models import PolicyChangeKind, PolicyVersion, VersionState
from refunddesk.policies.store import known_policy_ids, next_version
from refunddesk.policy.schema import PolicyError, policy_from_toml

# The policy file's own rule for ids (schema.Policy.id).
POLICY_ID = re.compile(r"[a-z0-9][a-z0-9-]*")


class PolicyStoreError(PolicyError):
    """A version or an assignment refused; `problems` are "key: message" strings (or a
    message alone when no key is at fault), in the actor's language where RefundDesk
    wrote them, in English where the policy format did."""

    code = "policy_store_error"


def _refuse(*problems: str) -> PolicyStoreError:
    return PolicyStoreError(list(problems))


def lock_versions(policy_id: str) -> list[PolicyVersion]:
    """Every stored version of the policy, locked: saving and publishing versions of one
    policy take turns (numbers are handed out and compared under this lock)."""
    return list(PolicyVersion.objects.select_for_update().filter(policy_id=policy_id)
                .order_by("version"))


def save_draft(policy_id: str, toml_text: str, *, actor: object, note: str = "",
               draft: PolicyVersion | None = None,
               now: datetime | None = None) -> PolicyVersion:
    """Store a policy file as a draft: the next version of `policy_id` (a new id starts a
    new policy at version 1), or, with `draft`, a revision of that unpublished draft."""
    actor = permissions.require_write(actor)
    now = now or timezone.now()
    # Browsers send text areas with CRLF line ends; store what a file on disk would hold.
    text = toml_text.replace("\r\n", "\n").replace("\r", "\n")
    if not POLICY_ID.fullmatch(policy_id):
        raise _refuse("id: " + _("use lower-case letters, digits and -, like my-policy"))
    try:
        policy = policy_from_toml(text)
    except PolicyError as error:
        raise PolicyStoreError(error.problems) from None
    if policy.id != policy_id:
        raise _refuse("id: " + _('must be "%(expected)s", the policy this version belongs '
                                 'to, not "%(given)s"')
                      % {"expected": policy_id, "given": policy.id})
    try:
        with transaction.atomic():
            lock_versions(policy_id)
            if draft is not None:
                return _revise(draft, policy_id, policy.version, text, actor=actor,
                               note=note, now=now)
            expected = next_version(policy_id)
            if policy.version != expected:
                raise _refuse("version: " + _("must be %(expected)s, the next version of "
                                              "%(policy)s, not %(given)s")
                              % {"expected": expected, "policy": policy_id,
                                 "given": policy.version})
            row = PolicyVersion.objects.create(
                policy_id=policy_id, version=policy.version, source=text,
                state=VersionState.DRAFT, created_by=actor, created_at=now, note=note)
            record(row, PolicyChangeKind.DRAFT_SAVED, actor=actor, at=now, note=note)
            return row
    except IntegrityError:
        # Two admins saved the same number at once (SQLite does not lock rows).
        raise _refuse("version: " + _("version %(version)s of %(policy)s was saved a moment "
                                      "ago by someone else; start from it")
                      % {"version": policy.version, "policy": policy_id}) from None


def _revise(draft: PolicyVersion, policy_id: str, version: int, text: str, *, actor: User,
            note: str, now: datetime) -> PolicyVersion:
    row = PolicyVersion.objects.get(pk=draft.pk)
    if row.policy_id != policy_id:
        raise _refuse("id: " + _('must be "%(expected)s", the policy of this draft')
                      % {"expected": row.policy_id})
    if row.is_published:
        raise _refuse(_("%(ref)s is published and cannot change: save a new version.")
                      % {"ref": row.ref})
    if row.is_proposed:
        # The approver must approve the text they read: no change under a proposal.
        raise _refuse(_("%(ref)s is proposed for publication and cannot change: withdraw "
                        "the proposal first.") % {"ref": row.ref})
    if version != row.version:
        raise _refuse("version: " + _("must stay %(expected)s, the version of this draft, "
                                      "not %(given)s")
                      % {"expected": row.version, "given": version})
    row.source, row.note, row.created_by, row.created_at = text, note, actor, now
    row.save(update_fields=["source", "note", "created_by", "created_at"])
    record(row, PolicyChangeKind.DRAFT_REVISED, actor=actor, at=now, note=note)
    return row


def assign_policy(product: Product, policy_id: str, *, actor: object,
                  now: datetime | None = None) -> Product:
    """Choose the refund policy a product's new assessments use."""
    actor = permissions.require_assign(actor)
    known = known_policy_ids(at=now or timezone.now())
    if policy_id not in known:
        if PolicyVersion.objects.filter(policy_id=policy_id).exists():
            raise _refuse(_("%(policy)s has no published version in force yet: publish one "
                            "(or wait for its time) before a product uses it.")
                          % {"policy": policy_id})
        raise _refuse(_("There is no refund policy %(policy)s (there are: %(known)s).")
                      % {"policy": policy_id or '""', "known": ", ".join(known)})
    with transaction.atomic():
        row = Product.objects.select_for_update().get(pk=product.pk)
        row.policy_id = policy_id
        row.save(update_fields=["policy_id"])
    product.policy_id = policy_id
    return row
