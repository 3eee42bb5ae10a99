"""One application for lines of an order that fall under different refund policies: one
case per policy, each assessed under its own policy and opened by `submit`, all in one
transaction (all open or none), and one "received" e-mail naming every case.

A choice under one policy is simply `submit`, unchanged: one case, its own e-mails."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from refunddesk.billing.models import Account, Order
from refunddesk.billing.order_records import OrderRecord, record_of
from refunddesk.cases.actions.base import check_uploads
from refunddesk.cases.actions.customer import submit_written
from refunddesk.cases.actions.opened import Opened, cases_only
from refunddesk.cases.actors import Actor
from refunddesk.cases.assessing import LinesWithoutPolicy, policy_groups
from refunddesk.cases.errors import CaseError, LinesAlreadyInCase, NoRefundPolicy
from refunddesk.cases.models import CaseLine
from refunddesk.notifications.outbox import notify
from refunddesk.policy.assessment import AssessmentError


def lines_without_policy_message(line_ids: Sequence[str]) -> str:
    """What a customer, an agent or an integration reads when chosen lines are under no
    refund policy: which lines, and what to do."""
    return ngettext(
        "Line %(lines)s is not covered by any refund policy, so no refund request can be "
        "opened for it here. Leave it out to apply for the other lines, or contact us.",
        "Lines %(lines)s are not covered by any refund policy, so no refund request can be "
        "opened for them here. Leave them out to apply for the other lines, or contact us.",
        len(line_ids)) % {"lines": ", ".join(line_ids)}


def open_cases_written(*, account: Account, order: Order | OrderRecord,
                       line_ids: Sequence[str], actor: Actor, channel: str,
                       reason_category: Any = None, reason_text: str = "",
                       uploads: Sequence[UploadedFile[bytes]] = (), language: str = "zh-hans",
                       identity_check: dict[str, Any] | None = None,
                       now: datetime | None = None) -> list[Opened]:
    """Open one case per refund policy of the chosen lines, in the order's line order; each
    as written (cases/actions/opened.py). `open_cases` answers with the cases alone.

    `order` may come as its record (billing/order_records.py), read once for the checks
before. The reason, the customer's documents and (for an agent) the identity check go with
    every case: each is decided on its own, by someone who needs them. If any case cannot
    be opened (a line already in a case, a refused upload), none is."""
    now = now or timezone.now()
    record = record_of(order)  # one read of the order for every case
    if record.order.account_id != account.pk:
        raise CaseError(_("This order does not belong to this account."))
    try:
        groups = policy_groups(record, line_ids)
    except LinesWithoutPolicy as error:
        raise NoRefundPolicy(lines_without_policy_message(error.line_ids)) from None
    except AssessmentError as error:
        raise CaseError(str(error)) from None
    common: dict[str, Any] = dict(
        account=account, order=record, actor=actor, channel=channel,
        reason_category=reason_category, reason_text=reason_text, uploads=uploads,
        language=language, identity_check=identity_check, now=now)
    if len(groups) == 1:
        return [submit_written(line_ids=list(line_ids), **common)]
    check_uploads(uploads)  # a refused file refuses the submission before anything is kept
    if CaseLine.objects.filter(order_line__order=record.order, holds_line=True,
                               order_line__line_id__in=line_ids).exists():
        # Said before the first case stores its documents; a concurrent submission that
        # gets past this is still refused by the unique index, inside the transaction.
        raise LinesAlreadyInCase(_("A refund case is already open for this order line; "
                                   "follow that case instead."))
    submission = uuid.uuid4()
    with transaction.atomic():
        opened = [submit_written(line_ids=list(group.line_ids), submission=submission,
                                 **common)
                  for group in groups]
        # One e-mail naming every case (notifications/compose).
        notify(opened[0].case, "submitted")
    return opened


open_cases = cases_only(open_cases_written)
