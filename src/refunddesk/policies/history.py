"""The audit of a policy version's life: one PolicyChange row per step, written by the step's
action inside its transaction (`record`), and read back for the version's page
(`history_of`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib.auth.models import User

from refunddesk.cases.actors import SystemActor, system_label
from refunddesk.policies.models import PolicyChange, PolicyChangeKind, PolicyVersion


def record(version: PolicyVersion, kind: PolicyChangeKind, *, actor: object, at: datetime,
           **details: Any) -> PolicyChange:
    """Write the audit row of one step of `version`, by `actor` (an admin, or the system)."""
    kind = PolicyChangeKind(kind)  # a misspelt kind fails the caller's transaction
    person = actor if isinstance(actor, User) else None
    if person is None and not isinstance(actor, SystemActor):
        raise TypeError(f"a policy change needs an admin or a system actor, not {actor!r}")
    return PolicyChange.objects.create(
        at=at, version=version, policy_id=version.policy_id, version_number=version.version,
        kind=kind, changed_by=person,
        actor_name=actor.name if isinstance(actor, SystemActor) else "",
        details={key: value.isoformat() if isinstance(value, datetime) else value
                 for key, value in details.items() if value not in (None, "")})


@dataclass(frozen=True)
class HistoryLine:
    change: PolicyChange
    who: str
    # When the version takes (or took) effect, on the policy's own clock.
    effective_at: datetime | None
    note: str
    reason: str

    @property
    def label(self) -> str:
        return str(self.change.get_kind_display())


def history_of(version: PolicyVersion, time_zone: str) -> list[HistoryLine]:
    """The steps of `version`, oldest first, with times to take effect in `time_zone`."""
    zone = ZoneInfo(time_zone)
    lines = []
    for change in version.changes.select_related("changed_by").order_by("at", "id"):
        if change.changed_by is not None:
            who = change.changed_by.get_username()
        else:
            who = str(system_label(change.actor_name))
        details = change.details or {}
        effective = details.get("effective_at")
        lines.append(HistoryLine(
            change, who,
            datetime.fromisoformat(effective).astimezone(zone) if effective else None,
            details.get("note", ""), details.get("reason", "")))
    return lines
