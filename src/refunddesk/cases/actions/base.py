"""What every case action shares: the row lock, the move through the state table and the
one audit event each change writes (the errors are cases/errors.py's).

Public, so that the other app whose functions change cases (payouts/actions.py, DESIGN
rule 2) builds its changes from the same pieces instead of reaching into a private
module."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.core.files.uploadedfile import UploadedFile

from refunddesk.cases.actors import (
    Actor,
    SystemActor,
    kind_of,
    person,
    require_actor,
    require_system_may,
)
from refunddesk.cases.events import CaseEventType
from refunddesk.cases.models import CaseEvent, Document, RefundCase
from refunddesk.cases.states import holds_lines, next_state
from refunddesk.cases.uploads import CheckedUpload, check_upload, storage_name


def actor_kind(actor: Actor) -> str:
    """customer, staff or system."""
    return kind_of(require_actor(actor))


def event(case: RefundCase, action: CaseEventType, *, actor: Actor, before: str, now: datetime,
          data: dict[str, Any] | None = None, visible: bool = True, via: str = ""
          ) -> CaseEvent:
    """The audit event of a change, not yet written (for callers writing many at once).
    `via` names the integration that made the change (an API key), kept in its data.
    Every change passes here, so here a missing actor, or a system actor doing what it
    may not, is refused (and the caller's transaction with it)."""
    actor = require_actor(actor)
    action = CaseEventType(action)  # a misspelt event type fails the change
    data = {**(data or {}), "via": via} if via else (data or {})
    if isinstance(actor, SystemActor):
        require_system_may(actor, action)
        data["system"] = actor.name
    return CaseEvent(
        case=case, at=now, actor=person(actor), actor_kind=kind_of(actor), action=action,
        from_state=before, to_state=case.state, data=data, is_customer_visible=visible)


def record(case: RefundCase, action: CaseEventType, *, actor: Actor, before: str,
           now: datetime,
           data: dict[str, Any] | None = None, visible: bool = True, via: str = ""
           ) -> CaseEvent:
    written = event(case, action, actor=actor, before=before, now=now, data=data,
                    visible=visible, via=via)
    written.save()
    return written


@dataclass
class Moves:
    """The changes of many cases written together (the batch of cases the payout worker
    settles): each case still gets its own event per move, built by `event` (so the
    actor's checks run for each); `write` inserts the events at once and sets the new
    states with one UPDATE per state."""

    now: datetime
    events: list[CaseEvent] = field(default_factory=list)
    states: dict[int, str] = field(default_factory=dict)  # case id → state after its moves

    def add(self, case: RefundCase, action: CaseEventType, *, actor: Actor, before: str,
            data: dict[str, Any] | None = None) -> None:
        self.events.append(event(case, action, actor=actor, before=before, now=self.now,
                                 data=data))
        self.states[case.pk] = case.state

    def write(self) -> None:
        CaseEvent.objects.bulk_create(self.events)
        by_state: dict[str, list[int]] = defaultdict(list)
        for case_id, state in self.states.items():
            by_state[state].append(case_id)
        for state, case_ids in by_state.items():
            RefundCase.objects.filter(pk__in=case_ids).update(state=state, updated_at=self.now)


def locked(case: RefundCase) -> RefundCase:
    """The case row, locked until the transaction ends, as it is now (not as the caller
    last saw it): every check after this sees what a concurrent action committed."""
    return RefundCase.objects.select_for_update().get(pk=case.pk)


def move(case: RefundCase, action: str) -> str:
    """Apply the transition table; return the state before."""
    before = case.state
    case.state = next_state(before, action)
    if not holds_lines(case.state):
        case.lines.update(holds_line=False)
    return before


def store(case: RefundCase, uploads: Sequence[tuple[UploadedFile[bytes], CheckedUpload]], *,
          actor: Actor, now: datetime, kind: str = "") -> list[Document]:
    documents = []
    for uploaded, checked in uploads:
        document = Document(case=case, uploaded_by=person(actor),
                            uploaded_by_kind=actor_kind(actor), kind=kind,
                            name=checked.name, content_type=checked.content_type,
                            size=checked.size, sha256=checked.sha256, uploaded_at=now)
        document.file.save(storage_name(case.tracking_number, checked), uploaded, save=False)
        document.save()
        documents.append(document)
    return documents


def check_uploads(uploads: Sequence[UploadedFile[bytes]]
                  ) -> list[tuple[UploadedFile[bytes], CheckedUpload]]:
    """Every upload checked before anything is written, so a refused one changes nothing."""
    return [(uploaded, check_upload(uploaded)) for uploaded in uploads]
