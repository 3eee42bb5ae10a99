"""The request for information a case waits on, as the portal page and the e-mail both
read it: the question the agent wrote with the request (none when they only picked
documents), never an older message of the thread."""

from __future__ import annotations

from refunddesk.cases.events import CaseEventType
from refunddesk.cases.models import RefundCase


def asked_question(case: RefundCase) -> str:
    asked = (case.events.filter(action=CaseEventType.INFORMATION_REQUESTED)
             .order_by("-at", "-id").first())
    if asked is None:
        return ""
    # request_info writes its message at the moment of its event.
    message = (case.messages.filter(is_internal=False, created_at=asked.at)
               .exclude(author_kind="customer").order_by("-id").first())
    return message.body if message is not None else ""
