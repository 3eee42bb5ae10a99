"""An agent on the phone or in chat opens a case for the caller (channel `agent`), after
checking who they are: the e-mail or phone matches the account, they know the order
number, and they prove the payment (its reference, or a receipt they send). The check is
recorded on the case and in its first event."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from refunddesk.billing.models import Account, Order
from refunddesk.cases import permissions
from refunddesk.cases.actions.submission import open_cases
from refunddesk.cases.actors import Actor, person
from refunddesk.cases.errors import CaseError
from refunddesk.cases.models import RefundCase

# The fewest trailing characters of a payment reference a caller must read out.
REFERENCE_DIGITS = 4


@dataclass(frozen=True)
class IdentityCheck:
    contact: str  # the e-mail address or phone number the caller gives
    order_number: str  # the order number the caller reads out
    payment_reference: str = ""  # the end of a payment reference, as the caller reads it
    has_payment_receipt: bool = False  # the caller sent a receipt (attached to the case)


class IdentityNotConfirmed(CaseError):
    """The caller's answers do not match; `problems` maps each answer to what is wrong."""

    code = "identity_not_confirmed"

    def __init__(self, problems: dict[str, Any]):
        self.problems = problems
        super().__init__(_("The caller's identity is not confirmed."))


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def phone_matches(given: str, phone: str) -> bool:
    # Callers say numbers with or without the country code (+86 …); compare the national
    # part, at least seven digits of it.
    given, phone = _digits(given), _digits(phone)
    return len(given) >= 7 and len(phone) >= 7 and (phone.endswith(given)
                                                    or given.endswith(phone))


def verify_identity(account: Account, order: Order, check: IdentityCheck,
                    uploads: Sequence[UploadedFile[bytes]]) -> dict[str, Any]:
    """What matched, to be recorded; IdentityNotConfirmed naming every answer that did
    not."""
    problems: dict[str, Any] = {}
    contact = check.contact.strip()
    if "@" in contact:
        matched_by = "email" if contact.lower() == account.email.lower() else ""
    else:
        matched_by = "phone" if account.phone and phone_matches(contact, account.phone) else ""
    if not contact:
        problems["contact"] = _("Ask for the account's e-mail address or phone number.")
    elif not matched_by:
        problems["contact"] = _("This does not match the account's e-mail or phone.")
    if not check.order_number.strip():
        problems["order_number"] = _("Ask the caller for the order number.")
    elif check.order_number.strip().upper() != order.external_id.upper():
        problems["order_number"] = _("The order number the caller gave is not this order's.")
    proof = ""
    # References are compared on letters and digits only: callers do not read out dashes.
    given = re.sub(r"[\W_]", "", check.payment_reference)
    references = [re.sub(r"[\W_]", "", payment.reference)
                  for payment in order.payments.all() if payment.reference]
    if given:
        if len(given) < REFERENCE_DIGITS:
            problems["payment_reference"] = _("Ask for at least the last %(n)d characters of "
                                              "the payment reference.") % {"n": REFERENCE_DIGITS}
        elif any(reference.upper().endswith(given.upper()) for reference in references):
            proof = "reference"
        else:
            problems["payment_reference"] = _("No payment of this order has a reference "
                                              "ending in these characters.")
    elif check.has_payment_receipt:
        if uploads:
            proof = "receipt"
        else:
            problems["payment_reference"] = _("Attach the receipt the caller sent.")
    else:
        problems["payment_reference"] = _("Check the payment: the end of its reference, or "
                                          "a receipt the caller sends.")
    if problems:
        raise IdentityNotConfirmed(problems)
    return {"contact": matched_by, "order_number": True, "payment": proof}


def open_for_customer(*, account: Account, order: Order, line_ids: Sequence[str],
                      actor: Actor, identity: IdentityCheck, reason_category: Any = None,
                      reason_text: str = "", uploads: Sequence[UploadedFile[bytes]] = (),
                      language: str = "zh-hans", now: datetime | None = None
                      ) -> list[RefundCase]:
    """The caller's cases: one per refund policy of the chosen lines, as the portal opens
    them, each recording the identity check."""
    now = now or timezone.now()
    permissions.require_open_for_customer(actor)
    checked = verify_identity(account, order, identity, uploads)
    agent = person(actor)
    checked.update(checked_by=agent.get_username() if agent else "", at=now.isoformat())
    return open_cases(account=account, order=order, line_ids=line_ids, actor=actor,
                      channel="agent", reason_category=reason_category,
                      reason_text=reason_text, uploads=uploads, language=language,
                      identity_check=checked, now=now)
