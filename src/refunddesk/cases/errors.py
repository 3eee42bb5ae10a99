"""Why a case refuses a request. Each error's message is for the person who asked; its
`code` is for programs (the API's error shape)."""

from __future__ import annotations

from typing import Any


class CaseError(Exception):
    code = "case_error"

    def __init__(self, message: Any):
        self.message = message
        super().__init__(str(message))


class LinesAlreadyInCase(CaseError):
    code = "lines_already_in_case"


class NotRefundable(CaseError):
    code = "not_refundable"


class NoRefundPolicy(NotRefundable):
    """Lines under no refund policy: nothing can assess them, so no case is opened."""

    code = "no_policy"


class AppealNotAllowed(CaseError):
    code = "appeal_not_allowed"


class NotPermitted(CaseError):
    """The actor's role does not allow this; the message says what to do instead."""

    code = "not_permitted"


class ApprovalChanged(CaseError):
    """The approval waiting for a second person is not the one the person was shown."""

    code = "approval_changed"
