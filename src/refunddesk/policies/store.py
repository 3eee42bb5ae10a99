"""Which policy applies: the policy a product uses now, and the exact version a case was
assessed with. Cases and quotes ask here, never the presets directly, so stored versions
published in the console take over from the shipped presets."""

from __future__ import annotations

from refunddesk.policy.presets import load_preset
from refunddesk.policy.schema import Policy, PolicyError


def current_policy(policy_id: str) -> Policy:
    """The version of `policy_id` that new assessments use."""
    return load_preset(policy_id)


def policy_by_ref(ref: str) -> Policy:
    """The version named by a case's `policy_ref` ("tencent-cloud@1")."""
    policy_id, _, version = ref.partition("@")
    policy = load_preset(policy_id)
    if str(policy.version) != version:
        raise PolicyError([f"{ref}: no such policy version"])
    return policy
