"""`refunddesk check` (and every command that runs the checks, the worker among them)
refuses a mailbox setting the worker could not use, instead of the worker failing at its
first poll."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import checks

from refunddesk.cases.sla import email_answer_within
from refunddesk.intake.mailboxes import MailboxConfigError, mailboxes_from_setting
from refunddesk.policy.business_days import business_calendar
from refunddesk.policy.durations import DurationError


def mailboxes_are_readable(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    found: list[checks.CheckMessage] = []
    try:
        mailboxes_from_setting(settings.REFUNDDESK_IMAP_MAILBOXES)
    except MailboxConfigError as error:
        found.append(checks.Error(f"REFUNDDESK_IMAP_MAILBOXES: {error}", id="intake.E001"))
    try:
        email_answer_within()
    except (DurationError, ValueError) as error:
        found.append(checks.Error(
            f"REFUNDDESK_EMAIL_ANSWER_WITHIN: {error} (write it like 24h, 2d or 1bd)",
            id="intake.E002"))
    try:
        business_calendar(settings.REFUNDDESK_EMAIL_CALENDAR)
    except ValueError as error:
        found.append(checks.Error(f"REFUNDDESK_EMAIL_CALENDAR: {error}", id="intake.E003"))
    return found
