"""A request for information as the customer answers it: the agent's question, each document
asked for with what the case already has of it, and the deadline."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from refunddesk.cases.document_kinds import label as document_label
from refunddesk.cases.information import asked_question
from refunddesk.cases.models import Document, RefundCase


@dataclass
class AskedDocument:
    kind: str
    label: str
    # What the case already has of this kind (from an earlier answer): the customer may
    # add to it, and need not explain its absence.
    uploaded: list[Document] = field(default_factory=list)

    @property
    def is_missing(self) -> bool:
        return not self.uploaded


@dataclass
class InformationRequest:
    question: str
    due: datetime | None
    documents: list[AskedDocument]

    @property
    def missing(self) -> list[AskedDocument]:
        return [document for document in self.documents if document.is_missing]

    @property
    def uploaded_kinds(self) -> list[str]:
        return [document.kind for document in self.documents if not document.is_missing]


def information_request(case: RefundCase) -> InformationRequest:
    """What the agent asked in the request the case is waiting on. The question is the
    message request_info wrote at the moment of its event (empty when the agent only
    picked documents)."""
    question = asked_question(case)
    kinds = list(case.requested_documents or [])
    held: dict[str, list[Document]] = {kind: [] for kind in kinds}
    for document in case.documents.filter(kind__in=kinds):
        held[document.kind].append(document)
    return InformationRequest(
        question=question, due=case.info_due,
        documents=[AskedDocument(kind, document_label(kind), held[kind]) for kind in kinds])
