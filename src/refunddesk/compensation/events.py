"""Every step of a compensation run the audit records: one closed list, each value with its
label beside it, and the run's state table (states.py) tied to the event each move writes,
so a label cannot drift from its value and a misspelt step fails the change that writes it.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class RunEventType(models.TextChoices):
    CREATED = "created", _("Created")
    DRY_RUN = "dry_run", _("Dry run worked out")
    APPROVED = "approved", _("Approved by a second admin")
    DECLINED = "declined", _("Declined")
    STARTED = "started", _("Started")
    PAUSED = "paused", _("Paused")
    RESUMED = "resumed", _("Resumed")
    FINISHED = "finished", _("Finished")
    FAILED = "failed", _("Failed")


E = RunEventType

# The event each move of the state table writes (creating a run is no move: it has no
# state before).
EVENT_FOR_TRANSITION: dict[str, RunEventType] = {
    "dry_run": E.DRY_RUN,
    "approve": E.APPROVED,
    "decline": E.DECLINED,
    "start": E.STARTED,
    "pause": E.PAUSED,
    "resume": E.RESUMED,
    "finish": E.FINISHED,
    "fail": E.FAILED,
}


def label(value: str) -> str:
    """The staff's words for a step; the raw value only for a step no longer known."""
    try:
        return str(RunEventType(value).label)
    except ValueError:
        return value.replace("_", " ")
