"""Two versions of a policy side by side, for the console's compare page and for the
proposal and approval pages: the rules in words (policy/describe.py) and the TOML as a line
diff. Either version may be a preset, a draft (proposed or not) or a published version."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from refunddesk.policies.overview import VersionEntry
from refunddesk.policy.describe import PartChange, compare
from refunddesk.policy.schema import Policy, PolicyError, policy_from_toml


@dataclass(frozen=True)
class DiffLine:
    kind: str  # "added", "removed", "hunk", "file" or "context"
    text: str


@dataclass
class Comparison:
    before: VersionEntry  # the older of the two
    after: VersionEntry
    changes: list[PartChange] = field(default_factory=list)
    # The version (ref) whose file is no valid policy any more; only the text is compared.
    unreadable: list[str] = field(default_factory=list)
    toml: list[DiffLine] = field(default_factory=list)

    @property
    def changed(self) -> list[PartChange]:
        return [change for change in self.changes if change.status != "unchanged"]

    @property
    def unchanged(self) -> list[PartChange]:
        return [change for change in self.changes if change.status == "unchanged"]

    @property
    def is_same_text(self) -> bool:
        return not self.toml


def _parsed(entry: VersionEntry) -> Policy | None:
    try:
        return policy_from_toml(entry.source())
    except PolicyError:
        return None


def toml_diff(before: VersionEntry, after: VersionEntry) -> list[DiffLine]:
    lines = difflib.unified_diff(before.source().splitlines(), after.source().splitlines(),
                                 fromfile=before.ref, tofile=after.ref, lineterm="", n=3)
    diff = []
    for line in lines:
        if line.startswith(("---", "+++")):
            kind = "file"
        elif line.startswith("@@"):
            kind = "hunk"
        elif line.startswith("+"):
            kind = "added"
        elif line.startswith("-"):
            kind = "removed"
        else:
            kind = "context"
        diff.append(DiffLine(kind, line))
    return diff


def compare_versions(one: VersionEntry, other: VersionEntry, locale: str) -> Comparison:
    """`one` and `other` compared, the older as "before" whichever was given first."""
    before, after = sorted((one, other), key=lambda entry: entry.version)
    comparison = Comparison(before, after, toml=toml_diff(before, after))
    policies = {entry.ref: _parsed(entry) for entry in (before, after)}
    comparison.unreadable = [ref for ref, policy in policies.items() if policy is None]
    new = policies[after.ref]
    if new is not None and not comparison.unreadable:
        comparison.changes = compare(policies[before.ref], new, locale)
    return comparison
