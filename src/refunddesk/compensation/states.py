"""A compensation run's states as data: (state, action) → next state. One function applies
it; every change of a run's state goes through it (actions.py).

    draft ─dry_run→ awaiting_approval ─approve→ approved ─start→ running ─finish→ finished
                    (dry_run again)    ─decline→ declined         │  ↑
                                                            pause │  │ resume
                                                                  ↓  │
                                                                 paused
    running ─fail→ failed ─resume→ running
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from refunddesk.cases.errors import CaseError


class RunState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    AWAITING_APPROVAL = "awaiting_approval", _("Waiting for a second admin")
    DECLINED = "declined", _("Declined")
    APPROVED = "approved", _("Approved")
    RUNNING = "running", _("Running")
    PAUSED = "paused", _("Paused")
    FINISHED = "finished", _("Finished")
    FAILED = "failed", _("Failed")


S = RunState
TRANSITIONS: dict[tuple[str, str], str] = {
    (S.DRAFT, "dry_run"): S.AWAITING_APPROVAL,
    (S.AWAITING_APPROVAL, "dry_run"): S.AWAITING_APPROVAL,
    (S.DRAFT, "decline"): S.DECLINED,
    (S.AWAITING_APPROVAL, "decline"): S.DECLINED,
    (S.AWAITING_APPROVAL, "approve"): S.APPROVED,
    (S.APPROVED, "start"): S.RUNNING,
    (S.RUNNING, "pause"): S.PAUSED,
    (S.PAUSED, "resume"): S.RUNNING,
    (S.FAILED, "resume"): S.RUNNING,
    (S.RUNNING, "finish"): S.FINISHED,
    (S.RUNNING, "fail"): S.FAILED,
}

# States in which the run's lines are promised to it: another run's dry run leaves them
# out (they are compensated, or will be, by this one).
HOLDING_STATES = (S.APPROVED, S.RUNNING, S.PAUSED, S.FAILED, S.FINISHED)


class RunError(CaseError):
    """Why a compensation run refuses a request; the message is for the person."""

    code = "compensation_refused"


class InvalidRunTransition(RunError):
    code = "invalid_transition"

    def __init__(self, state: str, action: str):
        self.state, self.action = state, action
        label = RunState(state).label if state in RunState.values else state
        super().__init__(_("This compensation run is now “%(state)s” and cannot do that. "
                           "Reload the page to see what changed.") % {"state": label})


def next_state(state: str, action: str) -> str:
    try:
        return TRANSITIONS[(state, action)]
    except KeyError:
        raise InvalidRunTransition(state, action) from None
