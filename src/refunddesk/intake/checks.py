"""`refunddesk check` (and every command that runs the checks, the worker among them)
refuses a mailbox setting the worker could not use, instead of the worker failing at its
first poll."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import checks

from refunddesk.intake.mailboxes import MailboxConfigError, mailboxes_from_setting


def mailboxes_are_readable(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    try:
        mailboxes_from_setting(settings.REFUNDDESK_IMAP_MAILBOXES)
    except MailboxConfigError as error:
        return [checks.Error(f"REFUNDDESK_IMAP_MAILBOXES: {error}", id="intake.E001")]
    return []
