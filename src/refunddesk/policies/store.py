"""Which policy applies: the version of a policy in force at a moment, and the exact
version a case was assessed with. Cases and quotes ask here, never the presets directly, so
stored versions published in the console take over from the shipped presets.

A published version is in force from its `effective_at`, which an admin may set in the
future: the query picks the newest version in force at the moment asked about, so a
scheduled version takes over at its time with no worker step (the worker's pass only
records in the audit that it did, policies/publishing.py). Before any stored version is in
force, the preset is.

Published versions never change, so each is parsed once per process. The cache key holds
the row's id and the time of publishing besides `id@version` (all fixed once published): a
rolled-back transaction (every test) or a restored database can give the same `id@version`
to a different text, and these tell them apart without reading the text on every call.
"""

from __future__ import annotations

from datetime import datetime
from threading import Lock

from django.db.models import QuerySet

from refunddesk.core import invalidation
from refunddesk.policies.models import PolicyVersion, VersionState
from refunddesk.policy.presets import load_preset, preset_ids
from refunddesk.policy.schema import Policy, PolicyError, policy_from_toml

_parsed: dict[tuple[int, str, int, datetime | None], Policy] = {}
_lock = Lock()


def _parse(pk: int, policy_id: str, version: int, published_at: datetime | None) -> Policy:
    key = (pk, policy_id, version, published_at)
    policy = _parsed.get(key)
    if policy is None:
        source = PolicyVersion.objects.values_list("source", flat=True).get(pk=pk)
        try:
            policy = policy_from_toml(source)
        except PolicyError as error:
            # Valid when published; only a later change of the format can get here.
            raise PolicyError([f"{policy_id}@{version}: {problem}"
                               for problem in error.problems]) from None
        with _lock:
            _parsed[key] = policy
    return policy


def preset_version(policy_id: str) -> int | None:
    """The version of the shipped preset `policy_id`, or None when there is no such preset."""
    if policy_id not in preset_ids():
        return None
    return load_preset(policy_id).version


def in_force(at: datetime) -> QuerySet[PolicyVersion]:
    """Published versions in force by `at` (of every policy; the newest of a policy wins)."""
    return PolicyVersion.objects.filter(state=VersionState.PUBLISHED, effective_at__lte=at)


Published = list[tuple[int, int, datetime | None, datetime | None]]  # published_at is nullable


def _published(policy_id: str) -> Published:
    """The published versions of `policy_id`, newest first, with when each takes effect:
    kept by each process until a version changes (core/invalidation.py), since every
    assessment asks and publishing is rare."""
    return invalidation.kept(
        invalidation.POLICY_VERSIONS, policy_id,
        lambda: list(PolicyVersion.objects
                     .filter(policy_id=policy_id, state=VersionState.PUBLISHED)
                     .order_by("-version")
                     .values_list("pk", "version", "published_at", "effective_at")))


def current_policy(policy_id: str, *, at: datetime) -> Policy:
    """The version of `policy_id` that an assessment at `at` uses: the newest published
    stored version in force by then, else the shipped preset. `at` is required: a quote for
    a moment (a request, a dry run for a date) must not get the version of another."""
    for pk, version, published_at, effective_at in _published(policy_id):
        if effective_at is not None and effective_at <= at:
            return _parse(pk, policy_id, version, published_at)
    if preset_version(policy_id) is None:
        raise PolicyError([f"{policy_id}: no such policy in force (no preset, no published "
                           "version in force yet)"])
    return load_preset(policy_id)


def policy_by_ref(ref: str) -> Policy:
    """The version named by a case's `policy_ref` ("tencent-cloud@1"): the published stored
    version, else the preset when it has that version. Drafts are never named by a case."""
    policy_id, _, version_text = ref.partition("@")
    if not version_text.isdigit():
        raise PolicyError([f"{ref}: not a policy reference like tencent-cloud@1"])
    version = int(version_text)
    # The versions kept by the process (_published): a case's policy is looked up by every
    # deadline, every page that shows the case and every payout planned for it.
    for pk, number, published_at, _effective_at in _published(policy_id):
        if number == version:
            return _parse(pk, policy_id, version, published_at)
    if preset_version(policy_id) == version:
        return load_preset(policy_id)
    raise PolicyError([f"{ref}: no such policy version"])


def known_policy_ids(*, at: datetime) -> list[str]:
    """Policies a product can use at `at`: the presets and every policy with a published
    version in force (one only scheduled cannot assess anything yet)."""
    published = in_force(at).values_list("policy_id", flat=True).distinct()
    return sorted(set(preset_ids()) | set(published))


def next_version(policy_id: str) -> int:
    """The number the next version of `policy_id` gets: one more than every stored version
    and the preset's."""
    numbers = list(PolicyVersion.objects.filter(policy_id=policy_id)
                   .values_list("version", flat=True))
    preset = preset_version(policy_id)
    if preset is not None:
        numbers.append(preset)
    return max(numbers, default=0) + 1
