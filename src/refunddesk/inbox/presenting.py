"""What a notice says and where it leads: one sentence per kind, read in the console's
inbox and in the e-mails (in the reader's language: the caller activates it)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils import dateformat, timezone
from django.utils.translation import gettext as _

from refunddesk.core.money import format_money
from refunddesk.inbox.models import Notice, NoticeKind


def _when(at: datetime | None) -> str:
    if at is None:
        return ""
    return dateformat.format(timezone.localtime(at), "Y-m-d H:i")


def _amount(data: dict[str, Any]) -> str:
    """The notice's amount in the reader's language; a notice written before amounts were
    kept as minor units and currency has it as text."""
    if "amount_minor" in data:
        return format_money(data["amount_minor"], data["currency"])
    return str(data.get("amount", ""))


def describe(notice: Notice) -> str:
    data: dict[str, Any] = notice.data or {}
    values = {"number": notice.case.tracking_number if notice.case is not None else "",
              "by": data.get("by", ""), "amount": _amount(data),
              "due": _when(notice.due_at), "payout": notice.payout_id or "",
              "error": data.get("error", "")}
    kind = notice.kind
    if kind == NoticeKind.ASSIGNED:
        return _("%(by)s gave you case %(number)s.") % values
    if kind == NoticeKind.CONFIRMATION_WANTED:
        return _("%(by)s proposes to approve %(amount)s on case %(number)s: a second person "
                 "must confirm or decline it.") % values
    if kind == NoticeKind.APPEAL_WAITING:
        return _("The customer appealed the decision on case %(number)s: it waits for a "
                 "reviewer.") % values
    if kind == NoticeKind.CUSTOMER_ANSWERED:
        how = data.get("how")
        if how == "information":
            return _("The customer sent what was asked for on case %(number)s.") % values
        if how == "documents":
            return _("The customer added documents to case %(number)s.") % values
        return _("The customer wrote a message on case %(number)s.") % values
    is_first_response = data.get("clock") == "first_response"
    if kind == NoticeKind.SLA_DUE_SOON:
        if is_first_response:
            return _("The first response on case %(number)s is due at %(due)s.") % values
        return _("The decision on case %(number)s is due at %(due)s.") % values
    if kind == NoticeKind.SLA_OVERDUE:
        if is_first_response:
            return _("The first response on case %(number)s was due at %(due)s: it is "
                     "overdue.") % values
        return _("The decision on case %(number)s was due at %(due)s: it is overdue.") % values
    if kind == NoticeKind.PAYOUT_FAILED:
        return _("Payout %(payout)s of %(amount)s on case %(number)s failed for good "
                 "(%(error)s): retry it, redirect it or record it as paid.") % values
    if kind == NoticeKind.PUBLICATION_WANTED:
        return _("%(by)s proposes to publish the refund policy version %(ref)s: another "
                 "admin must approve or decline it.") % {"by": values["by"],
                                                         "ref": data.get("ref", "")}
    if kind == NoticeKind.PUBLICATION_DECLINED:
        return _("%(by)s declined publishing the refund policy version %(ref)s: "
                 "%(reason)s") % {"by": values["by"], "ref": data.get("ref", ""),
                                  "reason": data.get("reason", "")}
    raise ValueError(f"no sentence for notice kind {kind!r}")


def target(notice: Notice) -> str:
    """Where opening the notice leads: the payout (finance acts there), else the case, else
    the policy version waiting for approval."""
    if notice.payout_id is not None:
        return reverse("console:payout", args=[notice.payout_id])
    if notice.case is not None:
        return reverse("console:case", args=[notice.case.tracking_number])
    data = notice.data or {}
    if "policy_id" in data and "version" in data:  # a policy version's publication
        return reverse("console:policy_version", args=[data["policy_id"], data["version"]])
    return reverse("console:inbox")


def open_link(notice: Notice) -> str:
    """The absolute address that opens the notice (and marks it read), for e-mails."""
    return settings.REFUNDDESK_BASE_URL.rstrip("/") + reverse("console:inbox_open",
                                                              args=[notice.pk])


def preferences_link() -> str:
    return settings.REFUNDDESK_BASE_URL.rstrip("/") + reverse("console:inbox_preferences")
