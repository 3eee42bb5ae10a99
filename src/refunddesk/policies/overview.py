"""What the console's policies pages show: every policy (presets and stored ones), its
versions, which one is current (in force at the moment asked about) and which are scheduled,
and the products that use it; and the text an editor starts from."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from refunddesk.billing.models import Product
from refunddesk.policies.models import PolicyVersion, VersionState
from refunddesk.policies.store import current_policy, next_version, preset_version
from refunddesk.policy.presets import PRESETS_DIR, preset_ids
from refunddesk.policy.schema import Policy, PolicyError

PRESET = "preset"


@dataclass
class VersionEntry:
    policy_id: str
    version: int
    state: str  # "preset", "draft" or "published"
    row: PolicyVersion | None = None  # None for the shipped preset
    is_current: bool = False
    is_scheduled: bool = False  # published, to take effect after the moment asked about

    @property
    def ref(self) -> str:
        return f"{self.policy_id}@{self.version}"

    @property
    def is_draft(self) -> bool:
        return self.state == VersionState.DRAFT

    @property
    def is_proposed(self) -> bool:
        return self.state == VersionState.PROPOSED

    @property
    def is_published(self) -> bool:
        return self.state == VersionState.PUBLISHED

    @property
    def is_preset(self) -> bool:
        return self.state == PRESET

    @property
    def is_unpublished(self) -> bool:
        """A draft, proposed or not: used by nothing."""
        return self.is_draft or self.is_proposed

    @property
    def written_at(self) -> datetime | None:
        return self.row.created_at if self.row else None

    def source(self) -> str:
        if self.row is not None:
            return self.row.source
        return (PRESETS_DIR / f"{self.policy_id}.toml").read_text(encoding="utf-8")


@dataclass
class PolicyEntry:
    policy_id: str
    name: str
    versions: list[VersionEntry]  # newest first
    products: list[Product] = field(default_factory=list)

    @property
    def current(self) -> VersionEntry | None:
        return next((entry for entry in self.versions if entry.is_current), None)

    @property
    def drafts(self) -> list[VersionEntry]:
        return [entry for entry in self.versions if entry.is_draft]

    def version(self, number: int) -> VersionEntry | None:
        return next((entry for entry in self.versions if entry.version == number), None)


def name_of(policy: Policy, language: str) -> str:
    return policy.name.zh_Hans if language.lower().startswith("zh") else policy.name.en


def _versions(policy_id: str, rows: list[PolicyVersion], at: datetime) -> list[VersionEntry]:
    entries = [VersionEntry(policy_id, row.version, row.state, row,
                            is_scheduled=row.is_scheduled(at)) for row in rows]
    preset = preset_version(policy_id)
    if preset is not None and all(entry.version != preset for entry in entries):
        entries.append(VersionEntry(policy_id, preset, PRESET))
    entries.sort(key=lambda entry: entry.version, reverse=True)
    # The same choice as store.current_policy: the newest published in force, else the
    # preset.
    current = (next((e for e in entries if e.row is not None and e.row.is_in_effect(at)),
                    None)
               or next((e for e in entries if e.is_preset), None))
    if current is not None:
        current.is_current = True
    return entries


def _name(entry: PolicyEntry, language: str, at: datetime) -> str:
    try:
        if entry.current is not None:
            return name_of(current_policy(entry.policy_id, at=at), language)
        if entry.versions:
            return name_of(PolicyVersion(source=entry.versions[0].source()).policy(), language)
    except PolicyError:
        pass
    return entry.policy_id


def overview(language: str, *, at: datetime) -> list[PolicyEntry]:
    rows = list(PolicyVersion.objects.select_related("created_by", "published_by")
                .order_by("policy_id", "-version"))
    by_policy: dict[str, list[PolicyVersion]] = {}
    for row in rows:
        by_policy.setdefault(row.policy_id, []).append(row)
    products: dict[str, list[Product]] = {}
    for product in Product.objects.order_by("code"):
        products.setdefault(product.policy_id, []).append(product)
    entries = []
    for policy_id in sorted(set(preset_ids()) | set(by_policy)):
        entry = PolicyEntry(policy_id, policy_id,
                            _versions(policy_id, by_policy.get(policy_id, []), at),
                            products.get(policy_id, []))
        entry.name = _name(entry, language, at)
        entries.append(entry)
    return entries


def policy_entry(policy_id: str, language: str, *, at: datetime) -> PolicyEntry | None:
    """One policy as `overview` shows it; None when there is no such policy."""
    rows = list(PolicyVersion.objects.filter(policy_id=policy_id)
                .select_related("created_by", "published_by", "proposed_by")
                .order_by("-version"))
    if not rows and preset_version(policy_id) is None:
        return None
    entry = PolicyEntry(policy_id, policy_id, _versions(policy_id, rows, at),
                        list(Product.objects.filter(policy_id=policy_id).order_by("code")))
    entry.name = _name(entry, language, at)
    return entry


def find_version(policy_id: str, version: int, *, at: datetime) -> VersionEntry | None:
    """One version, with whether it is current or scheduled at `at`."""
    rows = list(PolicyVersion.objects.filter(policy_id=policy_id)
                .select_related("created_by", "published_by", "proposed_by"))
    if not any(row.version == version for row in rows) and preset_version(policy_id) != version:
        return None
    return next(entry for entry in _versions(policy_id, rows, at) if entry.version == version)


def _set_top_level(text: str, key: str, value: str) -> str:
    """Replace `key = …` before the first table header, where the policy's own keys are."""
    header = re.search(r"^\s*\[", text, flags=re.MULTILINE)
    head, tail = (text[:header.start()], text[header.start():]) if header else (text, "")
    pattern = re.compile(rf"^({key}\s*=\s*).*$", flags=re.MULTILINE)
    if pattern.search(head):
        head = pattern.sub(lambda match: match.group(1) + value, head, count=1)
    else:
        head = f"{key} = {value}\n" + head
    return head + tail


def starting_text(base: VersionEntry, policy_id: str | None = None) -> str:
    """The text of `base` as the next version of `policy_id` (default: its own policy): the
    editor starts from what is there, with the number the new version must have."""
    policy_id = policy_id or base.policy_id
    text = base.source()
    if policy_id != base.policy_id:
        text = _set_top_level(text, "id", f'"{policy_id}"')
    return _set_top_level(text, "version", str(next_version(policy_id)))
